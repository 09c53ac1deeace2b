package kind

import (
	"fmt"
	"sort"
	"strings"
)

// Add-on names a scenario may ask for (Spec.Addons / cluster.addons).
const (
	AddonGatekeeper = "gatekeeper"
	AddonGVisor     = "gvisor"
	AddonAppArmor   = "apparmor"
	AddonFalco      = "falco"
)

// Addons lists the supported add-ons.
func Addons() []string {
	return []string{AddonAppArmor, AddonFalco, AddonGatekeeper, AddonGVisor}
}

// Action is one planned command. Node "" means the control-plane node.
type Action struct {
	// Title is shown as progress.
	Title string
	Node  string
	Argv  []string
	Stdin []byte
}

// PlanInput is what the add-on planner needs to know.
type PlanInput struct {
	Facts HostFacts
	Nodes []NodeInfo
	// Manifest is the verified release manifest (gatekeeper).
	Manifest []byte
}

// RefusedError is returned when the host cannot support an add-on.
type RefusedError struct {
	Addon  string
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("add-on %s cannot run on this host: %s", e.Addon, e.Reason)
}

// PlanAddon returns the idempotent commands that install addon: re-running
// them on a cluster that has it changes nothing.
func PlanAddon(addon string, in PlanInput) ([]Action, error) {
	switch addon {
	case AddonGatekeeper:
		if len(in.Manifest) == 0 {
			return nil, fmt.Errorf("plan gatekeeper: the release manifest was not fetched")
		}
		return []Action{
			applyAction("Apply Gatekeeper "+GatekeeperVersion, in.Manifest),
			{Title: "Wait for Gatekeeper CRDs", Argv: kubectlArgv("wait", "--for=condition=Established", "--timeout=120s",
				"crd/constrainttemplates.templates.gatekeeper.sh", "crd/configs.config.gatekeeper.sh")},
			{Title: "Wait for Gatekeeper controller", Argv: kubectlArgv("-n", "gatekeeper-system", "rollout", "status",
				"deployment/gatekeeper-controller-manager", "--timeout=300s")},
			{Title: "Wait for Gatekeeper audit", Argv: kubectlArgv("-n", "gatekeeper-system", "rollout", "status",
				"deployment/gatekeeper-audit", "--timeout=300s")},
			{Title: "Check Gatekeeper webhook", Argv: kubectlArgv("get", "validatingwebhookconfiguration",
				"gatekeeper-validating-webhook-configuration")},
		}, nil
	case AddonGVisor:
		var out []Action
		for _, n := range sortedNodes(in.Nodes) {
			out = append(out, Action{Title: "Install gVisor on " + n.Name, Node: n.Name, Argv: []string{"sh", "-c", gvisorScript()}})
		}
		return append(out, applyAction("Create RuntimeClass gvisor", []byte(runtimeClassManifest))), nil
	case AddonAppArmor:
		if !in.Facts.AppArmor {
			return nil, &RefusedError{Addon: addon, Reason: "AppArmor is not enabled in the host kernel (" + appArmorEnabledPath +
				" is not Y); kind nodes share the host kernel, so profiles could not be enforced. Use a host with AppArmor (e.g. Ubuntu)"}
		}
		var out []Action
		for _, n := range sortedNodes(in.Nodes) {
			out = append(out, Action{Title: "Install apparmor_parser on " + n.Name, Node: n.Name, Argv: []string{"sh", "-c", appArmorScript}})
		}
		return out, nil
	case AddonFalco:
		if !in.Facts.BTF {
			return nil, &RefusedError{Addon: addon, Reason: "the host kernel exposes no BTF (" + btfPath +
				" is missing), which Falco's modern_ebpf driver needs. Use a kernel built with CONFIG_DEBUG_INFO_BTF (5.8+)"}
		}
		var out []Action
		for _, n := range sortedNodes(in.Nodes) {
			out = append(out, Action{Title: "Create /etc/falco/rules.d on " + n.Name, Node: n.Name, Argv: []string{"mkdir", "-p", "/etc/falco/rules.d"}})
		}
		return append(out,
			applyAction("Deploy Falco (modern_ebpf)", []byte(falcoManifest())),
			Action{Title: "Wait for Falco", Argv: kubectlArgv("-n", "falco", "rollout", "status", "daemonset/falco", "--timeout=300s")},
		), nil
	}
	return nil, fmt.Errorf("unknown add-on %q (have: %s)", addon, strings.Join(Addons(), ", "))
}

func applyAction(title string, manifest []byte) Action {
	return Action{Title: title, Argv: kubectlArgv("apply", "--server-side", "--force-conflicts", "-f", "-"), Stdin: manifest}
}

func sortedNodes(ns []NodeInfo) []NodeInfo {
	out := append([]NodeInfo(nil), ns...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// gvisorScript installs runsc and its containerd shim (verified against the
// release's .sha512 files) and registers the runsc handler with containerd.
// Each part is skipped when already done.
func gvisorScript() string {
	return `set -e
if ! [ -x /usr/local/bin/runsc ] || ! [ -x /usr/local/bin/containerd-shim-runsc-v1 ]; then
  url="https://storage.googleapis.com/gvisor/releases/release/` + GVisorRelease + `/$(uname -m)"
  tmp=$(mktemp -d); cd "$tmp"
  for f in runsc containerd-shim-runsc-v1; do
    curl -fsSLO "$url/$f"; curl -fsSLO "$url/$f.sha512"; sha512sum -c "$f.sha512"
  done
  chmod 0755 runsc containerd-shim-runsc-v1
  mv runsc containerd-shim-runsc-v1 /usr/local/bin/
  cd /; rm -rf "$tmp"
fi
if ! grep -q 'runtimes.runsc]' /etc/containerd/config.toml; then
  printf '\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]\n  runtime_type = "io.containerd.runsc.v1"\n' >> /etc/containerd/config.toml
  systemctl restart containerd
fi`
}

const appArmorScript = `set -e
if ! command -v apparmor_parser >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends apparmor >/dev/null
fi
apparmor_parser --version >/dev/null`

const runtimeClassManifest = `apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: gvisor
handler: runsc
`

// falcoManifest runs Falco as a DaemonSet with the modern_ebpf driver; rules
// in the node's /etc/falco/rules.d (where learners write them) are loaded
// after the image's defaults.
func falcoManifest() string {
	return `apiVersion: v1
kind: Namespace
metadata:
  name: falco
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: falco
  namespace: falco
  labels:
    app.kubernetes.io/name: falco
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: falco
  template:
    metadata:
      labels:
        app.kubernetes.io/name: falco
    spec:
      hostPID: true
      tolerations:
      - operator: Exists
      containers:
      - name: falco
        image: ` + FalcoImage + `
        args: ["/usr/bin/falco", "-o", "engine.kind=modern_ebpf", "-o", "json_output=true"]
        securityContext:
          privileged: true
        volumeMounts:
        - {name: proc, mountPath: /host/proc, readOnly: true}
        - {name: etc, mountPath: /host/etc, readOnly: true}
        - {name: rules, mountPath: /etc/falco/rules.d}
        - {name: containerd, mountPath: /host/run/containerd/containerd.sock}
      volumes:
      - {name: proc, hostPath: {path: /proc}}
      - {name: etc, hostPath: {path: /etc}}
      - {name: rules, hostPath: {path: /etc/falco/rules.d, type: DirectoryOrCreate}}
      - {name: containerd, hostPath: {path: /run/containerd/containerd.sock, type: Socket}}
`
}

// pspBootstrapManifest lets every service account and node use a privileged
// PodSecurityPolicy, so the psp-legacy cluster can run Calico and system pods
// before a scenario adds restrictive policies.
const pspBootstrapManifest = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: ckslab-privileged
spec:
  privileged: true
  allowPrivilegeEscalation: true
  allowedCapabilities: ["*"]
  volumes: ["*"]
  hostNetwork: true
  hostIPC: true
  hostPID: true
  hostPorts:
  - {min: 0, max: 65535}
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ckslab-psp-privileged
rules:
- apiGroups: [policy]
  resources: [podsecuritypolicies]
  resourceNames: [ckslab-privileged]
  verbs: [use]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ckslab-psp-privileged-system
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ckslab-psp-privileged
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:serviceaccounts:kube-system"}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:nodes"}
`
