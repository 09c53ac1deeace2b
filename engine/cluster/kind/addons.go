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
	// Source is AddonSourceDownload ("" is the same) or AddonSourceCache.
	Source string
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
		nodes := sortedNodes(in.Nodes)
		for _, n := range nodes {
			out = append(out, Action{Title: "Install gVisor on " + n.Name, Node: n.Name, Argv: []string{"sh", "-c", gvisorScript(in.Source)}})
		}
		out = append(out, Action{Title: "Create RuntimeClass gvisor (unless it exists)", Argv: []string{"sh", "-c", runtimeClassScript}, Stdin: []byte(runtimeClassManifest)})
		names := make([]string, 0, len(nodes))
		for _, n := range nodes {
			names = append(names, n.Name)
		}
		return append(out,
			Action{Title: "Start a probe pod under runsc on every node", Argv: []string{"sh", "-c", gvisorProbeStartScript}, Stdin: []byte(gvisorProbeManifest(names))},
			Action{Title: "Check that the probe pods ran on gVisor", Argv: append([]string{"sh", "-c", gvisorProbeCheckScript, "probe"}, gvisorProbePods(names)...)},
		), nil
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
// release's .sha512 files; with AddonSourceCache they must already be in the
// node image) and registers the runsc handler with containerd. Each part is
// skipped when already done.
func gvisorScript(source string) string {
	if source == AddonSourceCache {
		return `set -e
for f in runsc containerd-shim-runsc-v1; do
  if ! [ -x /usr/local/bin/$f ]; then
    echo "/usr/local/bin/$f is missing: ` + AddonSourceEnv + `=` + AddonSourceCache + ` needs a node image built by hack/kind-node-image.sh" >&2; exit 1
  fi
done
` + gvisorRegisterScript
	}
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
` + gvisorRegisterScript
}

// gvisorRegisterScript registers the containerd runtime handler runsc
// (shim io.containerd.runsc.v1) with runsc's options in
// /etc/containerd/runsc.toml: systemd-cgroup, because kind's kubelet uses
// the systemd cgroup driver (containerd then hands runsc cgroup paths of
// the form slice:prefix:name). containerd restarts only when it changed.
const gvisorRegisterScript = `if ! [ -f /etc/containerd/runsc.toml ]; then
  printf '[runsc_config]\n  systemd-cgroup = "true"\n' > /etc/containerd/runsc.toml
fi
if ! grep -q 'runtimes.runsc]' /etc/containerd/config.toml; then
  printf '\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]\n  runtime_type = "io.containerd.runsc.v1"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc.options]\n  TypeUrl = "io.containerd.runsc.v1.options"\n  ConfigPath = "/etc/containerd/runsc.toml"\n' >> /etc/containerd/config.toml
  systemctl restart containerd
  i=0; until crictl info >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 60 ] || { echo "containerd did not come back after registering runsc" >&2; exit 1; }; sleep 1; done
fi`

// runtimeClassScript creates RuntimeClass gvisor from stdin unless one
// exists: its handler is immutable, and a scenario may own one (e.g. with a
// wrong handler for the learner to fix); the probe uses its own class.
const runtimeClassScript = `k="kubectl --kubeconfig=/etc/kubernetes/admin.conf"
$k get runtimeclass gvisor >/dev/null 2>&1 || $k create -f -`

// gvisorProbeClass is the RuntimeClass of the probe pods: the handler runsc,
// whatever a scenario or learner did to RuntimeClass gvisor.
const gvisorProbeClass = "ckslab-gvisor-probe"

// gvisorProbeImage runs dmesg in the probe pods (preloaded in the offline
// node image; pulled elsewhere).
const gvisorProbeImage = "docker.io/library/busybox:1.36"

func gvisorProbePods(nodes []string) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, gvisorProbeClass+"-"+n)
	}
	return out
}

// gvisorProbeManifest is RuntimeClass ckslab-gvisor-probe (handler runsc)
// and one pod per node, pinned there by nodeName, that prints dmesg.
func gvisorProbeManifest(nodes []string) string {
	var b strings.Builder
	b.WriteString("apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: " + gvisorProbeClass + "\nhandler: runsc\n")
	for i, n := range nodes {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Pod
metadata:
  name: %s
  namespace: kube-system
  labels: {app.kubernetes.io/managed-by: ckslab, ckslab.dev/probe: gvisor}
spec:
  nodeName: %s
  runtimeClassName: %s
  restartPolicy: Never
  automountServiceAccountToken: false
  tolerations: [{operator: Exists}]
  containers:
  - name: dmesg
    image: %s
    command: ["dmesg"]
`, gvisorProbePods(nodes)[i], n, gvisorProbeClass, gvisorProbeImage)
	}
	return b.String()
}

// gvisorProbeStartScript deletes probe pods of an earlier run (a finished
// pod must not answer for this one), then applies the manifest on stdin.
const gvisorProbeStartScript = `k="kubectl --kubeconfig=/etc/kubernetes/admin.conf"
$k -n kube-system delete pod -l ckslab.dev/probe=gvisor --ignore-not-found --wait=true >/dev/null
$k apply -f -`

// gvisorProbeCheckScript waits for each probe pod ($@) to finish and
// requires gVisor's boot banner in its dmesg output (a runc pod sees the
// host kernel's log, or is refused it); the probe objects are deleted
// either way. On failure it prints the pod's state and events.
const gvisorProbeCheckScript = `k="kubectl --kubeconfig=/etc/kubernetes/admin.conf"
rc=0
for p in "$@"; do
  if ! $k -n kube-system wait --for=jsonpath='{.status.phase}'=Succeeded --timeout=120s pod/$p >/dev/null 2>&1; then
    echo "probe pod $p did not succeed under runsc:" >&2
    $k -n kube-system get pod $p -o wide >&2 2>&1
    $k -n kube-system describe pod $p 2>&1 | sed -n '/^Events:/,$p' | tail -8 >&2
    rc=1; continue
  fi
  out=$($k -n kube-system logs $p 2>&1)
  if ! printf '%s\n' "$out" | grep -q 'Starting gVisor'; then
    echo "probe pod $p ran, but not on gVisor (its dmesg does not show gVisor's boot): $(printf '%s' "$out" | head -3)" >&2
    rc=1; continue
  fi
  echo "$p: $(printf '%s\n' "$out" | grep -m1 'Starting gVisor')"
done
$k -n kube-system delete pod "$@" --ignore-not-found --wait=false >/dev/null 2>&1
$k delete runtimeclass ` + gvisorProbeClass + ` --ignore-not-found --wait=false >/dev/null 2>&1
exit $rc`

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
