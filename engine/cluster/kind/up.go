package kind

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ckslab/ckslab/engine/cluster"
)

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
