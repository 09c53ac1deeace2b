package existing

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
)

// Finding is whether the cluster provides a capability, and why.
type Finding struct {
	Has    bool   `json:"has"`
	Reason string `json:"reason"`
}

// Findings are the detected capabilities of one cluster.
type Findings map[cluster.Capability]Finding

// Capabilities is the set of capabilities found.
func (f Findings) Capabilities() cluster.Capabilities {
	caps := cluster.Capabilities{}
	for c, x := range f {
		if x.Has {
			caps[c] = true
		}
	}
	return caps
}

// Lines renders the table "capability  yes|no  reason", sorted.
func (f Findings) Lines() []string {
	var keys []string
	for c := range f {
		keys = append(keys, string(c))
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		x := f[cluster.Capability(k)]
		yes := "no "
		if x.Has {
			yes = "yes"
		}
		out = append(out, fmt.Sprintf("%-18s %s  %s", k, yes, x.Reason))
	}
	return out
}

// nodeInfo is a node as the API lists it.
type nodeInfo struct {
	name         string
	controlPlane bool
}

// runtimeClass is a RuntimeClass and its handler.
type runtimeClass struct{ name, handler string }

// prober is what detection needs from a cluster: the seam unit tests fake.
type prober interface {
	nodes(ctx context.Context) ([]nodeInfo, error)
	// nodeExec runs argv on a node (through its node-access pod).
	nodeExec(ctx context.Context, node string, argv ...string) ([]byte, error)
	// netpol runs two pods, checks the client reaches the server, applies a
	// deny-all ingress policy and checks it no longer does. podsRan says
	// the pods ran at all; enforced is only meaningful when err is nil.
	netpol(ctx context.Context) (podsRan, enforced bool, detail string, err error)
	runtimeClasses(ctx context.Context) ([]runtimeClass, error)
	// runWith runs a pod with runtimeClassName rc, returning its dmesg.
	runWith(ctx context.Context, rc string) (string, error)
	// serves reports whether discovery lists resource in groupVersion.
	serves(ctx context.Context, groupVersion, resource string) bool
}

// detectOptions are what the user allowed.
type detectOptions struct {
	// nodeAccess: the user may create node-access pods.
	nodeAccess bool
}

// Files a kubeadm control-plane node has where scenarios edit it, and the
// etcd client certificate the etcd reader uses.
const (
	manifestsDir = "/etc/kubernetes/manifests"
	etcdCA       = "/etc/kubernetes/pki/etcd/ca.crt"
	etcdCert     = "/etc/kubernetes/pki/etcd/healthcheck-client.crt"
	etcdKey      = "/etc/kubernetes/pki/etcd/healthcheck-client.key"
)

// OptInHint is how a user opts a cluster in to control-plane scenarios.
const OptInHint = "ckslab cluster up --backend cluster --allow-control-plane"

// detect finds every capability by looking, never by assumption.
func detect(ctx context.Context, p prober, o detectOptions) (Findings, error) {
	f := Findings{
		v1alpha1.CapAPI:          {Has: true, Reason: "the API server answers and you may do what labs need (SelfSubjectAccessReview)"},
		v1alpha1.CapNodeServices: {Reason: "never on your own cluster: scenarios would install and start services on its real nodes (kind only)"},
		v1alpha1.CapHostCommands: {Reason: "the nodes are not this machine"},
		v1alpha1.CapMesh:         {Reason: "no backend proves a mesh data plane yet"},
		v1alpha1.CapFalco:        {Reason: "ckslab installs no add-ons on a cluster it did not create (falco scenarios need its falco add-on)"},
	}
	nodes, err := p.nodes(ctx)
	if err != nil {
		return nil, err
	}
	// Pods and NetworkPolicy.
	ran, enforced, detail, err := p.netpol(ctx)
	switch {
	case !ran:
		f[v1alpha1.CapWorkloads] = Finding{Reason: "the probe pods did not run: " + errText(err, detail)}
		f[v1alpha1.CapNetpol] = Finding{Reason: "not probed: no pod runs"}
	case err != nil:
		f[v1alpha1.CapWorkloads] = Finding{Has: true, Reason: "probe pods ran"}
		f[v1alpha1.CapNetpol] = Finding{Reason: "probe inconclusive: " + err.Error()}
	default:
		f[v1alpha1.CapWorkloads] = Finding{Has: true, Reason: "probe pods ran and talked to each other"}
		f[v1alpha1.CapNetpol] = Finding{Has: enforced, Reason: detail}
	}
	// gVisor: a RuntimeClass whose handler really runs a pod under gVisor.
	f[v1alpha1.CapGVisor] = detectGVisor(ctx, p, ran)
	// Removed and add-on APIs, from discovery.
	f[v1alpha1.CapPSP] = Finding{Reason: "the API server does not serve policy/v1beta1 podsecuritypolicies (removed in v1.25)"}
	if p.serves(ctx, "policy/v1beta1", "podsecuritypolicies") {
		f[v1alpha1.CapPSP] = Finding{Has: true, Reason: "the API server serves policy/v1beta1 podsecuritypolicies"}
	}
	f[v1alpha1.CapGatekeeper] = Finding{Reason: "Gatekeeper is not installed (no templates.gatekeeper.sh/v1 constrainttemplates); ckslab installs no add-ons here"}
	if p.serves(ctx, "templates.gatekeeper.sh/v1", "constrainttemplates") {
		f[v1alpha1.CapGatekeeper] = Finding{Has: true, Reason: "Gatekeeper's ConstraintTemplate API is served"}
	}
	// Node facts need node access.
	if !o.nodeAccess {
		why := "no node access: you may not create and exec into pods in namespace " + HelperNamespace
		f[v1alpha1.CapControlPlaneNode] = Finding{Reason: why}
		f[v1alpha1.CapEtcd] = Finding{Reason: why}
		f[v1alpha1.CapAppArmor] = Finding{Reason: why}
		return f, nil
	}
	f[v1alpha1.CapAppArmor] = detectAppArmor(ctx, p, nodes)
	cp, etcd := detectControlPlane(ctx, p, nodes)
	f[v1alpha1.CapControlPlaneNode], f[v1alpha1.CapEtcd] = cp, etcd
	return f, nil
}

func errText(err error, detail string) string {
	if err != nil {
		return err.Error()
	}
	return detail
}

func detectGVisor(ctx context.Context, p prober, podsRun bool) Finding {
	rcs, err := p.runtimeClasses(ctx)
	if err != nil {
		return Finding{Reason: "cannot list RuntimeClasses: " + err.Error()}
	}
	var tried []string
	for _, rc := range rcs {
		if rc.handler != "runsc" && !strings.Contains(rc.name, "gvisor") {
			continue
		}
		if !podsRun {
			return Finding{Reason: "RuntimeClass " + rc.name + " exists, but no pod runs here to prove it"}
		}
		dmesg, err := p.runWith(ctx, rc.name)
		if err == nil && strings.Contains(dmesg, "gVisor") {
			return Finding{Has: true, Reason: fmt.Sprintf("RuntimeClass %s (handler %s) ran a pod whose dmesg shows gVisor", rc.name, rc.handler)}
		}
		why := "its dmesg does not show gVisor"
		if err != nil {
			why = err.Error()
		}
		tried = append(tried, fmt.Sprintf("%s (handler %s): %s", rc.name, rc.handler, why))
	}
	if len(tried) == 0 {
		return Finding{Reason: "no RuntimeClass with handler runsc"}
	}
	return Finding{Reason: "no gVisor RuntimeClass runs a pod: " + strings.Join(tried, "; ")}
}

func detectAppArmor(ctx context.Context, p prober, nodes []nodeInfo) Finding {
	if len(nodes) == 0 {
		return Finding{Reason: "the cluster has no nodes"}
	}
	for _, n := range nodes {
		out, err := p.nodeExec(ctx, n.name, "cat", "/sys/module/apparmor/parameters/enabled")
		if err != nil || strings.TrimSpace(string(out)) != "Y" {
			return Finding{Reason: "AppArmor is not enabled in the kernel of node " + n.name + " (/sys/module/apparmor/parameters/enabled)"}
		}
	}
	return Finding{Has: true, Reason: fmt.Sprintf("AppArmor enabled on all %d nodes", len(nodes))}
}

// detectControlPlane finds the control-plane node whose static pod
// manifests the helper pod reaches, and etcd's client certificate there.
// The user's opt-in is applied when the findings are read (Backend.gated),
// so opting in later needs no new probe.
func detectControlPlane(ctx context.Context, p prober, nodes []nodeInfo) (cp, etcd Finding) {
	var cps []string
	for _, n := range nodes {
		if n.controlPlane {
			cps = append(cps, n.name)
		}
	}
	switch {
	case len(cps) == 0:
		why := "no node has the node-role.kubernetes.io/control-plane label (a managed control plane, EKS/GKE/AKS, has no node to edit)"
		return Finding{Reason: why}, Finding{Reason: why}
	case len(cps) > 1:
		why := fmt.Sprintf("%d control-plane nodes (%s): a manifest edit on one node changes only one of the API servers the checks talk to", len(cps), strings.Join(cps, ", "))
		return Finding{Reason: why}, Finding{Reason: why}
	}
	node := cps[0]
	out, err := p.nodeExec(ctx, node, "ls", "-1", manifestsDir)
	if err != nil || !strings.Contains(string(out), "kube-apiserver.yaml") {
		why := fmt.Sprintf("%s on node %s has no kube-apiserver.yaml through the node-access pod", manifestsDir, node)
		if err != nil {
			why = fmt.Sprintf("cannot read %s on node %s: %v", manifestsDir, node, err)
		}
		return Finding{Reason: why}, Finding{Reason: why}
	}
	if _, err := p.nodeExec(ctx, node, "crictl", "--version"); err != nil {
		why := "node " + node + " has no working crictl (components are inspected with it): " + err.Error()
		return Finding{Reason: why}, Finding{Reason: why}
	}
	cp = Finding{Has: true, Reason: fmt.Sprintf("%s with kube-apiserver.yaml on node %s", manifestsDir, node)}
	if _, err := p.nodeExec(ctx, node, "test", "-r", etcdCA, "-a", "-r", etcdCert, "-a", "-r", etcdKey); err != nil {
		return cp, Finding{Reason: fmt.Sprintf("no etcd client certificate on node %s (%s, %s)", node, etcdCert, etcdKey)}
	}
	ids, err := p.nodeExec(ctx, node, "crictl", "ps", "--name", "^etcd$", "-q")
	if err != nil || strings.TrimSpace(string(ids)) == "" {
		return cp, Finding{Reason: "no running etcd container on node " + node + " (an external etcd is not read)"}
	}
	return cp, Finding{Has: true, Reason: "etcd runs on node " + node + " with its client certificate " + etcdCert}
}
