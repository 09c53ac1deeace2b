// Package backend chooses the cluster backend: kind when a container
// engine answers, otherwise the built-in local control plane.
package backend

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/cluster/existing"
	"github.com/ckslab/ckslab/engine/cluster/kind"
	"github.com/ckslab/ckslab/engine/cluster/local"
)

// Options configures the backends.
type Options struct {
	// StateRoot is the app's state root (kind keeps kubeconfigs there);
	// empty keeps each backend's default.
	StateRoot string
	// Probe reports which container engine CLI has a daemon that answers
	// ("" for none); tests replace it. Default: DetectEngine.
	Probe func(ctx context.Context) string
	// LabBackend is the backend of the running lab ("" when none): with
	// auto, every verb talks to that lab's cluster, whatever auto would
	// pick on this host today.
	LabBackend string
	// Cluster is the cluster the verb acts on. With auto and no lab, a
	// cluster of that name that already runs on one backend is used rather
	// than auto's pick (a local cluster made with --backend local, then
	// `ckslab ssh` on a host where Docker answers).
	Cluster string
	// Running reports whether cluster name runs on b; tests replace it.
	// Default: b.Get succeeds.
	Running func(ctx context.Context, b cluster.Backend, name string) bool
	// Kind settings (see KindSettingsFromEnv).
	Kind KindSettings
	// Existing configures the cluster backend (an existing cluster:
	// --kubeconfig, --context, --allow-control-plane); StateRoot is taken
	// from Options.
	Existing existing.Options
}

// KindSettings configure the kind backend beyond its defaults.
type KindSettings struct {
	// NodeImage replaces the default node image: a digest-pinned reference
	// or a local image present in the container engine.
	NodeImage string
	// CNI is kind.CNICalico (default) or kind.CNIBridge.
	CNI string
	// NetPol is a NetworkPolicy engine beside the bridge CNI:
	// kind.NetPolKubeRouter (CI only) or "" (the CNI's own); NetPolImage is
	// its docker-archive image tarball (hack/kube-router-image.sh).
	NetPol, NetPolImage string
	// AddonSource is where add-ons come from: kind.AddonSourceDownload
	// (default) or kind.AddonSourceCache (CI: a node image built by
	// hack/kind-node-image.sh carries them; CKSLAB_KIND_ADDON_SOURCE).
	AddonSource string
	// ExtraImages are docker-archive tarballs imported into every node at
	// cluster up (kind.ExtraImagesEnv, CI only: stand-ins for images an
	// offline node cannot pull, from hack/ci-workload-images.sh).
	ExtraImages []string
}

// KindSettingsFromEnv reads CKSLAB_KIND_NODE_IMAGE, CKSLAB_KIND_CNI,
// CKSLAB_KIND_NETPOL, CKSLAB_KIND_NETPOL_IMAGE, CKSLAB_KIND_ADDON_SOURCE
// and CKSLAB_KIND_EXTRA_IMAGES (tarballs separated like PATH).
func KindSettingsFromEnv(getenv func(string) string) KindSettings {
	var extra []string
	if v := getenv(kind.ExtraImagesEnv); v != "" {
		extra = filepath.SplitList(v)
	}
	return KindSettings{NodeImage: getenv("CKSLAB_KIND_NODE_IMAGE"), CNI: getenv("CKSLAB_KIND_CNI"),
		NetPol: getenv("CKSLAB_KIND_NETPOL"), NetPolImage: getenv("CKSLAB_KIND_NETPOL_IMAGE"),
		AddonSource: getenv(kind.AddonSourceEnv), ExtraImages: extra}
}

// EffectiveNodeImage is the node image the kind backend uses with these settings.
func (k KindSettings) EffectiveNodeImage() string {
	if k.NodeImage != "" {
		return k.NodeImage
	}
	return kind.DefaultNodeImage
}

func running(ctx context.Context, b cluster.Backend, name string) bool {
	_, err := b.Get(ctx, name)
	return err == nil
}

// AllFacts are the facts every provisioning backend states, by backend name.
func AllFacts() map[string]cluster.Facts {
	// Not the cluster backend: what it provides is whatever the user's
	// cluster has, so "only kind provides X" stays the advice.
	return map[string]cluster.Facts{"kind": kind.Facts(), "local": local.Facts()}
}

// Providers names, sorted, the backends that can provide every capability
// of reqs on a host that has what each needs (their Facts.Provides).
func Providers(reqs []cluster.Capability) []string {
	var out []string
	for name, f := range AllFacts() {
		if len(f.Provides.Missing(reqs)) == 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// OnlyProvider names the one backend that can provide reqs, or "" when
// more than one can (or none: the scenario runs nowhere).
func OnlyProvider(reqs []cluster.Capability) string {
	if p := Providers(reqs); len(p) == 1 {
		return p[0]
	}
	return ""
}

// Names are the accepted --backend values.
func Names() []string { return []string{"auto", "kind", "local", existing.Name} }

// Resolve returns the backend for name and a sentence saying why it was
// chosen: "kind" or "local" forced; "auto" (or "") picks kind when Docker
// or podman answers, else local.
func Resolve(ctx context.Context, name string, o Options) (cluster.Backend, string, error) {
	probe := o.Probe
	if probe == nil {
		probe = DetectEngine
	}
	isRunning := o.Running
	if isRunning == nil {
		isRunning = running
	}
	switch name {
	case "", "auto":
		switch o.LabBackend {
		case "kind", "local", existing.Name:
			b, _, err := Resolve(ctx, o.LabBackend, o)
			return b, o.LabBackend + " (the running lab's backend)", err
		}
		if eng := probe(ctx); eng != "" {
			b, err := newKind(o, eng)
			if err != nil || o.Cluster == "" || isRunning(ctx, b, o.Cluster) {
				return b, "kind (auto: the " + eng + " daemon answers)", err
			}
			// No kind cluster of that name: one made with --backend local wins.
			if l, lerr := newLocal(); lerr == nil && isRunning(ctx, l, o.Cluster) {
				return l, "local (auto: cluster " + o.Cluster + " runs on the local backend)", nil
			}
			return b, "kind (auto: the " + eng + " daemon answers)", nil
		}
		b, err := newLocal()
		return b, "local (auto: no Docker or podman daemon answers; pods will not run)", err
	case "kind":
		// Say what is missing now rather than let every scenario be refused
		// for lacking capabilities a daemon-less kind backend cannot report.
		eng := probe(ctx)
		if eng == "" {
			return nil, "", fmt.Errorf("the kind backend needs a container engine, but no Docker or podman daemon answers (see `ckslab doctor`); use --backend local for API and control-plane labs")
		}
		b, err := newKind(o, eng)
		return b, "kind (forced)", err
	case "local":
		b, err := newLocal()
		return b, "local (forced)", err
	case existing.Name:
		eo := o.Existing
		eo.StateRoot, eo.ClusterName = o.StateRoot, o.Cluster
		if eo.StateRoot == "" {
			return nil, "", fmt.Errorf("the %s backend needs a state dir", existing.Name)
		}
		b, err := existing.New(eo)
		return b, existing.Name + " (forced: an existing cluster)", err
	}
	return nil, "", fmt.Errorf("unknown backend %q: use auto, kind or local, or %s for an existing cluster (--kubeconfig)", name, existing.Name)
}

func newKind(o Options, engine string) (cluster.Backend, error) {
	var opts []kind.Option
	if o.StateRoot != "" {
		opts = append(opts, kind.WithStateDir(o.StateRoot))
	}
	if engine != "" {
		opts = append(opts, kind.WithContainerEngine(engine))
	}
	if o.Kind.NodeImage != "" {
		opts = append(opts, kind.WithNodeImage(o.Kind.NodeImage))
	}
	if o.Kind.NetPol != "" || o.Kind.NetPolImage != "" {
		opts = append(opts, kind.WithNetPol(o.Kind.NetPol, o.Kind.NetPolImage))
	}
	if o.Kind.CNI != "" {
		opts = append(opts, kind.WithCNI(o.Kind.CNI))
	}
	if o.Kind.AddonSource != "" {
		opts = append(opts, kind.WithAddonSource(o.Kind.AddonSource))
	}
	if len(o.Kind.ExtraImages) > 0 {
		opts = append(opts, kind.WithExtraImages(o.Kind.ExtraImages))
	}
	b, err := kind.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("kind backend: %w", err)
	}
	return b, nil
}

func newLocal() (cluster.Backend, error) {
	b, err := local.New()
	if err != nil {
		return nil, err
	}
	return b, nil
}

// DetectEngine returns "docker" or "podman" when that CLI's daemon answers
// within a few seconds, or "".
func DetectEngine(ctx context.Context) string {
	for _, cli := range []string{"docker", "podman"} {
		path, err := exec.LookPath(cli)
		if err != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err = exec.CommandContext(cctx, path, "info", "--format", "{{.ServerVersion}}").Run()
		if cli == "podman" && err != nil {
			err = exec.CommandContext(cctx, path, "info", "--format", "{{.Version.Version}}").Run()
		}
		cancel()
		if err == nil {
			return cli
		}
	}
	return ""
}
