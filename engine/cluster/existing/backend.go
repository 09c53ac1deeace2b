// Package existing runs ckslab labs on a cluster the user already has (a
// kubeadm cluster on VMs, a classroom cluster): backend "cluster". It
// provisions nothing. Up checks the API server answers and the user may do
// what labs need, and detects every capability by looking (probe pods, a
// NetworkPolicy that must block, node files through a node-access pod);
// Down deletes only what ckslab made there (labelled
// app.kubernetes.io/managed-by=ckslab). The user's kubeconfig is only read:
// ckslab keeps its own minified copy in its state dir.
package existing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/cluster/kubeadm"
)

// Name is the backend name (--backend cluster).
const Name = "cluster"

// DefaultClusterName is used when Spec.Name is empty.
const DefaultClusterName = "ckslab"

// Options configure the backend.
type Options struct {
	// StateRoot is ckslab's state root; the backend keeps
	// <StateRoot>/cluster/<name>/{kubeconfig,state.json}.
	StateRoot string
	// Kubeconfig is the user's kubeconfig file ("" = $KUBECONFIG or
	// ~/.kube/config, as kubectl); it is read, never written.
	Kubeconfig string
	// Context is the kubeconfig context ("" = its current context).
	Context string
	// AllowControlPlane opts the cluster in to control-plane scenarios
	// (recorded in its state at Up; `cluster down` forgets it).
	AllowControlPlane bool
	// HelperImage runs the node-access and probe pods (default DefaultHelperImage).
	HelperImage string
	// ClusterName is the cluster Capabilities reports on (--cluster;
	// default DefaultClusterName).
	ClusterName string
}

// Backend implements cluster.Backend for an existing cluster.
type Backend struct {
	o Options
	// newProber builds the capability prober (tests replace it).
	newProber func(cs kubernetes.Interface, h *Helpers) prober
	// review answers access reviews (tests replace it; nil = the API server).
	review func(cs kubernetes.Interface) reviewFunc

	mu      sync.Mutex
	helpers map[string]*Helpers // per cluster name, this process
}

var _ cluster.Backend = (*Backend)(nil)

// New returns the backend.
func New(o Options) (*Backend, error) {
	if o.StateRoot == "" {
		return nil, errors.New("cluster backend: no state dir")
	}
	if o.HelperImage == "" {
		o.HelperImage = DefaultHelperImage
	}
	b := &Backend{o: o, helpers: map[string]*Helpers{}, review: ssar}
	b.newProber = func(cs kubernetes.Interface, h *Helpers) prober {
		return &kubeProber{cs: cs, h: h, image: o.HelperImage, wait: 90 * time.Second, poll: time.Second}
	}
	return b, nil
}

// Name is "cluster".
func (b *Backend) Name() string { return Name }

// Facts are the backend's: nodes are the cluster's machines, not the
// user's; what it provides is whatever Up detected.
func Facts() cluster.Facts {
	return cluster.Facts{
		NodeIsolated: true,
		Foreign:      true,
		Provides: cluster.NewCapabilities(v1alpha1.CapAPI, v1alpha1.CapControlPlaneNode, v1alpha1.CapEtcd,
			v1alpha1.CapWorkloads, v1alpha1.CapNetpol, v1alpha1.CapGVisor, v1alpha1.CapAppArmor, v1alpha1.CapGatekeeper, v1alpha1.CapPSP),
		Needs: map[cluster.Capability]string{
			v1alpha1.CapAPI:              "an API server that answers and the permissions labs need (`ckslab cluster up --backend cluster --kubeconfig FILE` says what is missing)",
			v1alpha1.CapControlPlaneNode: "one kubeadm control-plane node whose " + manifestsDir + " the node-access pod reaches, and an opt-in (" + OptInHint + ")",
			v1alpha1.CapEtcd:             "etcd running on the control-plane node with its client certificate (" + etcdCert + ")",
			v1alpha1.CapWorkloads:        "pods that run (the " + DefaultHelperImage + " image pullable on the nodes, or " + HelperImageEnv + ")",
			v1alpha1.CapNetpol:           "a CNI that enforces NetworkPolicy (proven by a probe at cluster up)",
			v1alpha1.CapGVisor:           "a RuntimeClass with handler runsc that runs a pod under gVisor",
			v1alpha1.CapAppArmor:         "AppArmor enabled in every node's kernel",
			v1alpha1.CapGatekeeper:       "Gatekeeper installed in the cluster (ckslab installs no add-ons here)",
			v1alpha1.CapPSP:              "an API server that still serves PodSecurityPolicy (v1.24 or older)",
		},
		Elsewhere: "use --backend kind, which provisions a cluster with it",
	}
}

// Facts implements cluster.Backend.
func (b *Backend) Facts() cluster.Facts { return Facts() }

func defaultName(n string) string {
	if n == "" {
		return DefaultClusterName
	}
	return n
}

func (b *Backend) dir(name string) string {
	return filepath.Join(b.o.StateRoot, "cluster", defaultName(name))
}

// KubeconfigPath is ckslab's own copy of the user's kubeconfig for cluster name.
func (b *Backend) KubeconfigPath(name string) string {
	return filepath.Join(b.dir(name), "kubeconfig")
}

// record is a cluster's state file.
type record struct {
	// Source is the user's kubeconfig the copy was made from.
	Source  string `json:"source"`
	Context string `json:"context"`
	Server  string `json:"server"`
	// AllowControlPlane is the user's opt-in for control-plane scenarios.
	AllowControlPlane bool      `json:"allowControlPlane,omitempty"`
	Detected          Findings  `json:"detected,omitempty"`
	DetectedAt        time.Time `json:"detectedAt,omitempty"`
}

func (b *Backend) load(name string) (*record, error) {
	data, err := os.ReadFile(filepath.Join(b.dir(name), "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cluster %s is not set up for ckslab: %w (run `ckslab cluster up --backend cluster --kubeconfig FILE`)", defaultName(name), cluster.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read %s: %w (remove it with `ckslab cluster down --backend cluster`)", filepath.Join(b.dir(name), "state.json"), err)
	}
	return &r, nil
}

func (b *Backend) save(name string, r *record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(b.dir(name), "state.json")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write cluster state: %w", err)
	}
	return os.Rename(tmp, p)
}

// helpersFor returns this process's node-access pods of cluster name.
func (b *Backend) helpersFor(name string, cs kubernetes.Interface, cfg *rest.Config) *Helpers {
	b.mu.Lock()
	defer b.mu.Unlock()
	if h, ok := b.helpers[name]; ok {
		return h
	}
	h := NewHelpers(cs, cfg, b.o.HelperImage)
	b.helpers[name] = h
	return h
}

// Close deletes every node-access pod this process created, with a fresh
// context (it runs after Ctrl-C too). cmd calls it when a verb ends.
func (b *Backend) Close(ctx context.Context) error {
	b.mu.Lock()
	hs := make([]*Helpers, 0, len(b.helpers))
	for _, h := range b.helpers {
		hs = append(hs, h)
	}
	b.mu.Unlock()
	var errs []error
	for _, h := range hs {
		errs = append(errs, h.Close(ctx))
	}
	return errors.Join(errs...)
}

// Capabilities reports what Up detected on the cluster; a cluster not yet
// up is brought up (checked and probed) now, so nothing is assumed.
func (b *Backend) Capabilities(ctx context.Context) cluster.Capabilities {
	if r, err := b.load(b.o.ClusterName); err == nil && r.Detected != nil && b.o.Kubeconfig == "" {
		return b.gated(r).Capabilities()
	}
	c, err := b.Up(ctx, cluster.Spec{Name: b.o.ClusterName}, nil)
	if err != nil {
		return cluster.Capabilities{}
	}
	return c.Capabilities
}

// gated applies the recorded opt-in to the findings (an opt-in given or
// withdrawn after detection).
func (b *Backend) gated(r *record) Findings {
	f := Findings{}
	for c, x := range r.Detected {
		f[c] = x
	}
	cp := f[v1alpha1.CapControlPlaneNode]
	if cp.Has && !r.AllowControlPlane {
		f[v1alpha1.CapControlPlaneNode] = Finding{Reason: cp.Reason + ", but this cluster is not opted in to control-plane scenarios (" + OptInHint + ")"}
	}
	return f
}

// Up checks the cluster answers and the user may do what labs need,
// detects its capabilities (once per cluster: `cluster down` forgets them)
// and returns it. It creates nothing but the labelled node-access and probe
// pods (and their namespaces).
func (b *Backend) Up(ctx context.Context, spec cluster.Spec, progress cluster.ProgressFunc) (*cluster.Cluster, error) {
	name := defaultName(spec.Name)
	prev, _ := b.load(name)
	rec := &record{}
	if prev != nil {
		*rec = *prev
	}
	dst := b.KubeconfigPath(name)
	if b.o.Kubeconfig != "" || prev == nil {
		src, err := b.sourceKubeconfig()
		if err != nil {
			return nil, err
		}
		if abs, err := filepath.Abs(src); err == nil {
			src = abs
		}
		server, ctxName, err := writeCopy(src, b.o.Context, dst)
		if err != nil {
			return nil, err
		}
		if prev != nil && (prev.Server != server || prev.Source != src || prev.Context != ctxName) {
			rec.Detected = nil // another cluster under this name: detect again
		}
		rec.Source, rec.Context, rec.Server = src, ctxName, server
	}
	if b.o.AllowControlPlane {
		rec.AllowControlPlane = true
	}
	cs, cfg, err := clients(dst)
	if err != nil {
		return nil, err
	}
	step := cluster.Step{ID: "reach", Title: "Reach the API server " + rec.Server + " (context " + rec.Context + ")"}
	progress.Report(step)
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("the API server %s of context %s does not answer: %w (check the kubeconfig with kubectl --kubeconfig %s --context %s get nodes)",
			rec.Server, rec.Context, err, rec.Source, rec.Context)
	}
	step.Done, step.Line = true, "Kubernetes "+v.GitVersion
	progress.Report(step)

	step = cluster.Step{ID: "access", Title: "Check your permissions (SelfSubjectAccessReview)"}
	progress.Report(step)
	acc, err := checkAccess(ctx, b.review(cs), required())
	if err != nil {
		return nil, err
	}
	if err := acc.err("the user of context " + rec.Context); err != nil {
		return nil, err
	}
	step.Done = true
	if len(acc.nodeAccess) > 0 {
		step.Line = "no node access (missing: " + strings.Join(acc.nodeAccess, "; ") + "): API-level labs only"
	}
	progress.Report(step)

	h := b.helpersFor(name, cs, cfg)
	if rec.Detected == nil {
		step = cluster.Step{ID: "detect", Title: "Detect capabilities (probe pods, a deny-all NetworkPolicy, node files)"}
		progress.Report(step)
		f, err := detect(ctx, b.newProber(cs, h), detectOptions{nodeAccess: len(acc.nodeAccess) == 0})
		if err == nil && ctx.Err() != nil {
			err = ctx.Err() // an interrupted probe proves nothing: record nothing
		}
		if err != nil {
			return nil, fmt.Errorf("detect capabilities: %w", err)
		}
		rec.Detected, rec.DetectedAt = f, time.Now().UTC()
		step.Done = true
		progress.Report(step)
	}
	if err := b.save(name, rec); err != nil {
		return nil, err
	}
	c, err := b.build(ctx, name, rec, cs, h)
	if err != nil {
		return nil, err
	}
	for _, a := range spec.Addons {
		if cp := addonCapability(a); cp == "" || !c.Capabilities.Has(cp) {
			return nil, fmt.Errorf("the scenario needs add-on %s, which ckslab does not install on a cluster it did not create: install it yourself, or use --backend kind", a)
		}
	}
	return c, nil
}

func addonCapability(addon string) cluster.Capability {
	switch addon {
	case "gatekeeper":
		return v1alpha1.CapGatekeeper
	case "gvisor":
		return v1alpha1.CapGVisor
	case "apparmor":
		return v1alpha1.CapAppArmor
	}
	return ""
}

// build assembles the cluster value from its record.
func (b *Backend) build(ctx context.Context, name string, rec *record, cs kubernetes.Interface, h *Helpers) (*cluster.Cluster, error) {
	f := b.gated(rec)
	c := &cluster.Cluster{Name: name, Backend: Name, Facts: Facts(), Kubeconfig: b.KubeconfigPath(name), Capabilities: f.Capabilities()}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes of cluster %s: %w", name, err)
	}
	sort.Slice(nodes.Items, func(i, j int) bool { return nodes.Items[i].Name < nodes.Items[j].Name })
	var cp *Node
	for _, n := range nodes.Items {
		role := cluster.RoleWorker
		if _, ok := n.Labels["node-role.kubernetes.io/control-plane"]; ok {
			role = cluster.RoleControlPlane
		}
		node := &Node{name: n.Name, role: role, h: h}
		if role == cluster.RoleControlPlane && cp == nil {
			cp = node
		}
		c.Nodes = append(c.Nodes, node)
	}
	if cp != nil && c.Capabilities.Has(v1alpha1.CapControlPlaneNode) {
		c.Components = kubeadm.NewComponents(cp, 2*time.Second)
	}
	if cp != nil && c.Capabilities.Has(v1alpha1.CapEtcd) {
		c.Etcd = kubeadm.NewEtcd(cp)
	}
	return c, nil
}

// Get returns the cluster recorded by Up.
func (b *Backend) Get(ctx context.Context, name string) (*cluster.Cluster, error) {
	name = defaultName(name)
	rec, err := b.load(name)
	if err != nil {
		return nil, err
	}
	cs, cfg, err := clients(b.KubeconfigPath(name))
	if err != nil {
		return nil, err
	}
	return b.build(ctx, name, rec, cs, b.helpersFor(name, cs, cfg))
}
