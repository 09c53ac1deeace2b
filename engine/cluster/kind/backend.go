// Package kind runs ckslab labs on kind clusters with Calico. It is the only
// importer of sigs.k8s.io/kind. All host effects go through two seams: a
// Provider (kind's cluster.Provider) and a Runner (container engine CLI), so
// everything above them is unit-tested without a container engine.
package kind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/kindconfigs"
)

// DefaultClusterName is used when Spec.Name is empty.
const DefaultClusterName = "ckslab"

// VariantPSPLegacy is the kind config that provides the psp capability.
const VariantPSPLegacy = "psp-legacy"

const (
	appArmorEnabledPath = "/sys/module/apparmor/parameters/enabled"
	btfPath             = "/sys/kernel/btf/vmlinux"
)

// HostFacts are the host kernel features kind nodes inherit.
type HostFacts struct {
	AppArmor bool
	BTF      bool
}

// ReadHostFacts reads AppArmor and BTF availability through readFile
// (os.ReadFile in production).
func ReadHostFacts(readFile func(string) ([]byte, error)) HostFacts {
	var f HostFacts
	if b, err := readFile(appArmorEnabledPath); err == nil && strings.TrimSpace(string(b)) == "Y" {
		f.AppArmor = true
	}
	if _, err := readFile(btfPath); err == nil {
		f.BTF = true
	}
	return f
}

// CapabilitiesFor is what a kind cluster of variant with Calico provides on a host with facts.
func CapabilitiesFor(variant string, f HostFacts) cluster.Capabilities {
	return CapabilitiesForCNI(variant, CNICalico, f)
}

// CapabilitiesForCNI is what a kind cluster of variant with that CNI provides:
// the plain bridge CNI enforces no NetworkPolicy, so it drops netpol.
func CapabilitiesForCNI(variant, cni string, f HostFacts) cluster.Capabilities {
	return CapabilitiesForNetwork(variant, cni, NetPolCNI, f)
}

// CapabilitiesForNetwork adds the NetworkPolicy engine: the bridge CNI
// provides netpol only with an engine that enforces it (kube-router).
func CapabilitiesForNetwork(variant, cni, netpol string, f HostFacts) cluster.Capabilities {
	caps := capabilitiesFor(variant, f)
	if cni == CNIBridge && netpol != NetPolKubeRouter {
		delete(caps, v1alpha1.CapNetpol)
	}
	return caps
}

func capabilitiesFor(variant string, f HostFacts) cluster.Capabilities {
	caps := cluster.NewCapabilities(v1alpha1.CapAPI, v1alpha1.CapControlPlaneNode, v1alpha1.CapEtcd,
		v1alpha1.CapWorkloads, v1alpha1.CapNetpol, v1alpha1.CapGVisor, v1alpha1.CapGatekeeper, v1alpha1.CapNodeServices)
	if f.AppArmor {
		caps[v1alpha1.CapAppArmor] = true
	}
	if f.BTF {
		caps[v1alpha1.CapFalco] = true
	}
	if variant == VariantPSPLegacy {
		caps[v1alpha1.CapPSP] = true
	}
	return caps
}

// Backend implements cluster.Backend with kind.
type Backend struct {
	provider     Provider
	providerErr  error
	newProvider  func() (Provider, error)
	runner       Runner
	stateDir     string
	cache        manifestCache
	readHostFile func(string) ([]byte, error)
	nodeImage    string
	cni          string
	netpol       string
	netpolImage  string
	calico       ManifestPin
	gatekeeper   ManifestPin
	addonSource  string
	extraImages  []string
	poll         time.Duration
	readyTimeout time.Duration
}

var _ cluster.Backend = (*Backend)(nil)

// Option configures a Backend.
type Option func(*Backend) error

// WithProvider injects the kind provider seam (tests; or a fixed engine via NewKindProvider).
func WithProvider(p Provider) Option {
	return func(b *Backend) error { b.provider = p; return nil }
}

// WithContainerEngine forces "docker", "podman" or "nerdctl" instead of detecting.
func WithContainerEngine(cli string) Option {
	return func(b *Backend) error {
		p, err := NewKindProvider(cli)
		if err != nil {
			return err
		}
		b.provider = p
		return nil
	}
}

// WithRunner injects the command runner seam.
func WithRunner(r Runner) Option {
	return func(b *Backend) error { b.runner = r; return nil }
}

// WithStateDir sets where kubeconfigs and node files live (default
// $XDG_STATE_HOME/ckslab or ~/.local/state/ckslab).
func WithStateDir(dir string) Option {
	return func(b *Backend) error { b.stateDir = dir; return nil }
}

// WithCacheDir sets where downloaded manifests are cached (default <user cache dir>/ckslab).
func WithCacheDir(dir string) Option {
	return func(b *Backend) error { b.cache.dir = filepath.Join(dir, "manifests"); return nil }
}

// WithHTTPClient sets the client used for manifest downloads.
func WithHTTPClient(c *http.Client) Option {
	return func(b *Backend) error { b.cache.client = c; return nil }
}

// WithHostFileReader replaces os.ReadFile for host facts (tests).
func WithHostFileReader(f func(string) ([]byte, error)) Option {
	return func(b *Backend) error { b.readHostFile = f; return nil }
}

// WithNodeImage overrides DefaultNodeImage: either a registry image pinned
// by digest (name:tag@sha256:..., pulled when missing) or a local image
// (name:tag or sha256:ID) already in the container engine, e.g. built by
// hack/kind-node-image.sh or loaded in an air-gapped room. A local image is
// never pulled; clusters are created from its image ID.
func WithNodeImage(image string) Option {
	return func(b *Backend) error {
		if err := checkNodeImageRef(image); err != nil {
			return err
		}
		b.nodeImage = image
		return nil
	}
}

// WithCNI picks the cluster network: CNICalico (the default: NetworkPolicy
// enforced) or CNIBridge (bridge + host-local from the node image, no
// downloads and no NetworkPolicy; what CI uses offline).
func WithCNI(name string) Option {
	return func(b *Backend) error {
		switch name {
		case "", CNICalico:
			b.cni = CNICalico
		case CNIBridge:
			b.cni = CNIBridge
		default:
			return fmt.Errorf("unknown kind CNI %q: use %s or %s", name, CNICalico, CNIBridge)
		}
		return nil
	}
}

// WithManifestPins overrides the Calico and Gatekeeper manifests (tests, mirrors).
func WithManifestPins(calico, gatekeeper ManifestPin) Option {
	return func(b *Backend) error { b.calico, b.gatekeeper = calico, gatekeeper; return nil }
}

// WithTimeouts sets the readiness poll interval and the Calico/nodes readiness timeout.
func WithTimeouts(poll, ready time.Duration) Option {
	return func(b *Backend) error { b.poll, b.readyTimeout = poll, ready; return nil }
}

// New returns a kind backend. The container engine is detected lazily, so
// constructing a backend never fails on a host without Docker.
func New(opts ...Option) (*Backend, error) {
	b := &Backend{
		runner:       OSRunner{},
		readHostFile: os.ReadFile,
		nodeImage:    DefaultNodeImage,
		cni:          CNICalico,
		calico:       CalicoPin(),
		gatekeeper:   GatekeeperPin(),
		addonSource:  AddonSourceDownload,
		poll:         3 * time.Second,
		readyTimeout: 5 * time.Minute,
		newProvider:  func() (Provider, error) { return NewKindProvider("") },
	}
	for _, o := range opts {
		if err := o(b); err != nil {
			return nil, err
		}
	}
	if err := b.checkNetwork(); err != nil {
		return nil, err
	}
	if b.stateDir == "" {
		dir, err := defaultStateDir()
		if err != nil {
			return nil, err
		}
		b.stateDir = dir
	}
	if b.cache.dir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("find the user cache dir: %w (set XDG_CACHE_HOME or HOME)", err)
		}
		b.cache.dir = filepath.Join(dir, "ckslab", "manifests")
	}
	if b.cache.client == nil {
		b.cache.client = &http.Client{Timeout: 2 * time.Minute}
	}
	return b, nil
}

func defaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ckslab"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home directory for ckslab state: %w (set XDG_STATE_HOME)", err)
	}
	return filepath.Join(home, ".local", "state", "ckslab"), nil
}

// Name is the backend name users select with --backend kind.
func (b *Backend) Name() string { return "kind" }

// Facts are the kind backend's: nodes are containers, isolated from the
// user's machine; every capability is possible given what Needs names.
func Facts() cluster.Facts {
	return cluster.Facts{
		NodeIsolated: true,
		Provides: cluster.NewCapabilities(v1alpha1.CapAPI, v1alpha1.CapControlPlaneNode, v1alpha1.CapEtcd,
			v1alpha1.CapWorkloads, v1alpha1.CapNetpol, v1alpha1.CapGVisor, v1alpha1.CapGatekeeper,
			v1alpha1.CapAppArmor, v1alpha1.CapFalco, v1alpha1.CapPSP, v1alpha1.CapNodeServices),
		Needs: map[cluster.Capability]string{
			v1alpha1.CapAppArmor: "AppArmor enabled in the host kernel (" + appArmorEnabledPath + " reads Y)",
			v1alpha1.CapFalco:    "a host kernel with BTF (" + btfPath + ")",
			v1alpha1.CapPSP:      "a cluster of the " + VariantPSPLegacy + " variant (the scenario's kindConfig)",
			v1alpha1.CapNetpol:   "a NetworkPolicy engine: the default Calico CNI (the plain bridge CNI enforces none unless CKSLAB_KIND_NETPOL=kube-router)",
		},
	}
}

// Facts implements cluster.Backend.
func (b *Backend) Facts() cluster.Facts { return Facts() }

func (b *Backend) prov() (Provider, error) {
	if b.provider == nil && b.providerErr == nil {
		b.provider, b.providerErr = b.newProvider()
	}
	return b.provider, b.providerErr
}

// Capabilities reports what a default kind cluster provides here; nothing when
// no container engine answers. psp is only provided by clusters of the
// psp-legacy variant (see CapabilitiesFor and Cluster.Capabilities).
func (b *Backend) Capabilities(ctx context.Context) cluster.Capabilities {
	p, err := b.prov()
	if err != nil {
		return cluster.Capabilities{}
	}
	if _, err := b.runner.Run(ctx, nil, p.CLI(), "info"); err != nil {
		return cluster.Capabilities{}
	}
	return CapabilitiesForNetwork(kindconfigs.DefaultVariant, b.cni, b.netpol, ReadHostFacts(b.readHostFile))
}

// clusterDir holds one cluster's kubeconfig, variant marker and node files.
func (b *Backend) clusterDir(name string) string { return filepath.Join(b.stateDir, "kind", name) }

// KubeconfigPath is ckslab's kubeconfig for cluster name (never ~/.kube/config).
func (b *Backend) KubeconfigPath(name string) string {
	return filepath.Join(b.clusterDir(name), "kubeconfig")
}

func (b *Backend) hostDir(name string) string { return filepath.Join(b.clusterDir(name), "node-files") }

func (b *Backend) variantOf(name string) string {
	data, err := os.ReadFile(filepath.Join(b.clusterDir(name), "variant"))
	if err != nil {
		return kindconfigs.DefaultVariant
	}
	return strings.TrimSpace(string(data))
}

// cniOf is the CNI a running cluster was created with (Calico for clusters
// of ckslab versions that did not record it).
func (b *Backend) cniOf(name string) string {
	data, err := os.ReadFile(filepath.Join(b.clusterDir(name), "cni"))
	if err != nil {
		return CNICalico
	}
	return strings.TrimSpace(string(data))
}

func defaultName(name string) string {
	if name == "" {
		return DefaultClusterName
	}
	return name
}

func normalizeVariant(v string) string {
	if v == "" {
		return kindconfigs.DefaultVariant
	}
	return v
}

func (b *Backend) exists(ctx context.Context, p Provider, name string) (bool, error) {
	names, err := p.List(ctx)
	if err != nil {
		return false, fmt.Errorf("list kind clusters: %w (is %s running? try: %s info)", err, p.CLI(), p.CLI())
	}
	for _, n := range names {
		if n == name {
			return true, nil
		}
	}
	return false, nil
}

// Up creates the cluster (or reuses a running one of the same name and
// variant), installs Calico, and ensures the requested add-ons.
func (b *Backend) Up(ctx context.Context, spec cluster.Spec, progress cluster.ProgressFunc) (*cluster.Cluster, error) {
	name := defaultName(spec.Name)
	variant := normalizeVariant(spec.Variant)
	p, err := b.prov()
	if err != nil {
		return nil, err
	}
	raw, cfg, err := LoadVariant(variant, b.hostDir(name))
	if err != nil {
		return nil, err
	}
	found, err := b.exists(ctx, p, name)
	if err != nil {
		return nil, err
	}
	// Refuse a missing or malformed CI image tarball before creating nodes.
	extraRefs, err := b.extraImageRefs()
	if err != nil {
		return nil, err
	}
	kubeconfig := b.KubeconfigPath(name)
	if found {
		if have := b.variantOf(name); have != variant {
			return nil, fmt.Errorf("cluster %s is running with kind config %q but %q is needed: run `ckslab cluster down` first", name, have, variant)
		}
		if have := b.cniOf(name); have != b.cni {
			return nil, fmt.Errorf("cluster %s is running with CNI %s but %s is asked for: run `ckslab cluster down` first", name, have, b.cni)
		}
		progress.Report(cluster.Step{ID: "reuse", Title: "Reuse running kind cluster " + name, Done: true})
		if err := b.exportKubeconfig(ctx, p, name); err != nil {
			return nil, err
		}
	} else {
		if err := os.MkdirAll(b.clusterDir(name), 0o700); err != nil {
			return nil, fmt.Errorf("create state dir %s: %w", b.clusterDir(name), err)
		}
		if err := prepareHostDir(b.hostDir(name), cfg); err != nil {
			return nil, err
		}
		image := spec.NodeImage
		if image == "" {
			image = imageFromConfig(cfg)
		}
		if image == "" {
			image = b.nodeImage
		}
		if err := checkNodeImageRef(image); err != nil {
			return nil, err
		}
		image, note, err := resolveNodeImage(ctx, b.runner, p.CLI(), image)
		if err != nil {
			return nil, err
		}
		if note != "" {
			progress.Report(cluster.Step{ID: "node-image", Title: "Use " + note, Done: true})
		}
		if engineCgroupVersion(ctx, b.runner, p.CLI()) == 1 {
			if raw, err = withClusterPatches(raw, CgroupV1Patches()...); err != nil {
				return nil, err
			}
			progress.Report(cluster.Step{ID: "cgroup-v1", Title: "cgroup v1 host: " + CgroupV1Note, Done: true})
		}
		// kind writes the kubeconfig itself; create it 0600 first so it never exists wider.
		if err := touchPrivate(kubeconfig); err != nil {
			return nil, err
		}
		err = b.create(ctx, p, CreateRequest{Name: name, Config: raw, NodeImage: image, KubeconfigPath: kubeconfig,
			WaitForReady: 0, Progress: progress})
		if ctx.Err() != nil {
			return nil, fmt.Errorf("create kind cluster %s: %w (the half-created cluster was removed)", name, ctx.Err())
		}
		if err != nil {
			return nil, fmt.Errorf("create kind cluster %s: %w (check `ckslab doctor`; remove leftovers with `ckslab cluster down`)", name, err)
		}
		if err := os.Chmod(kubeconfig, 0o600); err != nil {
			return nil, fmt.Errorf("restrict kubeconfig %s: %w", kubeconfig, err)
		}
		if err := os.WriteFile(filepath.Join(b.clusterDir(name), "variant"), []byte(variant+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("record cluster variant: %w", err)
		}
		if err := os.WriteFile(filepath.Join(b.clusterDir(name), "cni"), []byte(b.cni+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("record cluster CNI: %w", err)
		}
	}
	c, cp, err := b.build(ctx, p, name, variant)
	if err != nil {
		return nil, err
	}
	if variant == VariantPSPLegacy {
		if err := b.runActions(ctx, c, progress, "psp", []Action{applyAction("Allow system pods under PodSecurityPolicy", []byte(pspBootstrapManifest))}); err != nil {
			return nil, err
		}
	}
	if err := b.ensureNetwork(ctx, c, cp, progress); err != nil {
		return nil, err
	}
	if err := b.importExtraImages(ctx, c, extraRefs, progress); err != nil {
		return nil, err
	}
	for _, a := range spec.Addons {
		if err := b.EnsureAddon(ctx, c, a, progress); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func touchPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create kubeconfig %s: %w", path, err)
	}
	return f.Close()
}

func (b *Backend) exportKubeconfig(ctx context.Context, p Provider, name string) error {
	path := b.KubeconfigPath(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	if err := touchPrivate(path); err != nil {
		return err
	}
	if err := p.ExportKubeconfig(ctx, name, path); err != nil {
		return fmt.Errorf("write kubeconfig for cluster %s: %w", name, err)
	}
	return os.Chmod(path, 0o600)
}

// build assembles the cluster value of a running cluster.
func (b *Backend) build(ctx context.Context, p Provider, name, variant string) (*cluster.Cluster, *Node, error) {
	infos, err := p.Nodes(ctx, name)
	if err != nil {
		return nil, nil, fmt.Errorf("list nodes of cluster %s: %w", name, err)
	}
	c := &cluster.Cluster{Name: name, Backend: b.Name(), Facts: Facts(), Kubeconfig: b.KubeconfigPath(name),
		Capabilities: b.withProvenAddons(name, CapabilitiesForNetwork(variant, b.cniOf(name), b.netpolOf(name), ReadHostFacts(b.readHostFile)))}
	var cp *Node
	for _, in := range sortedNodes(infos) {
		n := NewNode(in.Name, in.Role, p.CLI(), b.runner)
		if in.Role == cluster.RoleControlPlane && cp == nil {
			cp = n
		}
		c.Nodes = append(c.Nodes, n)
	}
	if cp == nil {
		return nil, nil, fmt.Errorf("cluster %s has no control-plane node (recreate it with `ckslab cluster down` and `ckslab start`)", name)
	}
	c.Components = NewComponents(cp, b.poll)
	c.Etcd = NewEtcd(cp)
	return c, cp, nil
}

// Get returns a running cluster or an error wrapping cluster.ErrNotFound.
func (b *Backend) Get(ctx context.Context, name string) (*cluster.Cluster, error) {
	name = defaultName(name)
	p, err := b.prov()
	if err != nil {
		return nil, err
	}
	found, err := b.exists(ctx, p, name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("kind cluster %s: %w (create it with `ckslab start` or `ckslab cluster up --backend kind`)", name, cluster.ErrNotFound)
	}
	if _, err := os.Stat(b.KubeconfigPath(name)); err != nil {
		if err := b.exportKubeconfig(ctx, p, name); err != nil {
			return nil, err
		}
	}
	c, _, err := b.build(ctx, p, name, b.variantOf(name))
	return c, err
}

// create runs kind's Create, which takes no context. When ctx ends first
// (Ctrl-C), the nodes made so far are deleted at once, which makes kind's
// Create fail fast; once it returns they are deleted again (a node it was
// starting meanwhile) with the cluster's state, so an interrupted create
// leaves nothing behind.
func (b *Backend) create(ctx context.Context, p Provider, req CreateRequest) error {
	var createErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		createErr = p.Create(ctx, req)
	}()
	select {
	case <-done:
		if ctx.Err() == nil {
			return createErr
		}
	case <-ctx.Done():
		req.Progress.Report(cluster.Step{ID: "interrupt", Title: "Interrupted: removing the half-created cluster " + req.Name})
		_ = p.Delete(context.WithoutCancel(ctx), req.Name, req.KubeconfigPath)
		<-done // the interrupted create's own error (createErr) says nothing new
	}
	return b.Down(context.WithoutCancel(ctx), req.Name)
}

// Down deletes the cluster and its state; a missing cluster is not an error.
// When no kind cluster is left, kind's shared "kind" network is removed too
// (kind creates it again when needed; it is kept while any container uses it).
func (b *Backend) Down(ctx context.Context, name string) error {
	name = defaultName(name)
	p, err := b.prov()
	if err != nil {
		return err
	}
	if err := p.Delete(ctx, name, b.KubeconfigPath(name)); err != nil {
		return fmt.Errorf("delete kind cluster %s: %w (try: kind delete cluster --name %s)", name, err, name)
	}
	if err := os.RemoveAll(b.clusterDir(name)); err != nil {
		return fmt.Errorf("remove state of cluster %s: %w", name, err)
	}
	if names, err := p.List(ctx); err == nil && len(names) == 0 {
		if _, err := b.runner.Run(ctx, nil, p.CLI(), "network", "inspect", kindNetwork); err == nil {
			// Fails harmlessly while other containers are attached.
			_, _ = b.runner.Run(ctx, nil, p.CLI(), "network", "rm", kindNetwork)
		}
	}
	return nil
}

// kindNetwork is the container network kind puts every cluster's nodes on.
const kindNetwork = "kind"

// Status reports the control-plane components of a cluster.
func (b *Backend) Status(ctx context.Context, name string) (*cluster.Status, error) {
	c, err := b.Get(ctx, name)
	if errors.Is(err, cluster.ErrNotFound) {
		return &cluster.Status{Name: defaultName(name), Backend: b.Name(), Notes: []string{"not running: start it with `ckslab cluster up --backend kind`"}}, nil
	}
	if err != nil {
		return nil, err
	}
	st := &cluster.Status{Name: c.Name, Backend: b.Name(), Running: true, Kubeconfig: c.Kubeconfig}
	for _, comp := range ComponentNames() {
		cs, err := c.Components.Component(ctx, comp)
		if err != nil {
			return nil, err
		}
		st.Components = append(st.Components, cs)
	}
	network := "CNI: Calico " + b.calico.Version
	if b.cniOf(c.Name) == CNIBridge {
		network = "CNI: bridge + host-local (no NetworkPolicy enforcement)"
		if b.netpolOf(c.Name) == NetPolKubeRouter {
			network = "CNI: bridge + host-local; NetworkPolicy: kube-router firewall (CI only; enforcement proven at cluster up)"
		}
	}
	st.Notes = append(st.Notes, "kind config: "+b.variantOf(c.Name), network)
	for _, n := range c.Nodes {
		st.Notes = append(st.Notes, fmt.Sprintf("node %s (%s)", n.Name(), n.Role()))
	}
	return st, nil
}

// runActions executes planned actions, reporting each as a step.
func (b *Backend) runActions(ctx context.Context, c *cluster.Cluster, progress cluster.ProgressFunc, id string, actions []Action) error {
	for _, a := range actions {
		n, err := c.Node(a.Node)
		if err != nil {
			return err
		}
		step := cluster.Step{ID: id, Title: a.Title}
		progress.Report(step)
		var stdin io.Reader // stays a nil interface when there is no input
		if a.Stdin != nil {
			stdin = bytes.NewReader(a.Stdin)
		}
		out, err := n.Exec(ctx, stdin, a.Argv...)
		step.Done = true
		if lines := nonEmptyLines(string(out)); len(lines) > 0 {
			step.Line = lines[len(lines)-1]
		}
		if err != nil {
			step.Err = fmt.Errorf("%s on %s: %w", a.Title, n.Name(), err)
			progress.Report(step)
			return step.Err
		}
		progress.Report(step)
	}
	return nil
}

// EnsureAddon installs an add-on idempotently (gatekeeper, gvisor, apparmor, falco).
func (b *Backend) EnsureAddon(ctx context.Context, c *cluster.Cluster, addon string, progress cluster.ProgressFunc) error {
	in := PlanInput{Facts: ReadHostFacts(b.readHostFile), Source: b.addonSource}
	for _, n := range c.Nodes {
		in.Nodes = append(in.Nodes, NodeInfo{Name: n.Name(), Role: n.Role()})
	}
	if addon == AddonGatekeeper {
		m, err := b.gatekeeperManifest(ctx, c)
		if err != nil {
			return err
		}
		in.Manifest = m
	}
	actions, err := PlanAddon(addon, in)
	if err != nil {
		return err
	}
	err = b.runActions(ctx, c, progress, "addon-"+addon, actions)
	if rerr := b.recordAddon(c, addon, err); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("install add-on %s: %w", addon, err)
	}
	return nil
}
