package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
)

// Up implements cluster.Backend.
func (b *Backend) Up(ctx context.Context, spec cluster.Spec, progress cluster.ProgressFunc) (*cluster.Cluster, error) {
	name := spec.Name
	if name == "" {
		name = defaultClusterName
	}
	if err := validName(name); err != nil {
		return nil, err
	}
	if len(spec.Addons) > 0 || spec.NodeImage != "" {
		return nil, fmt.Errorf("the local backend runs no node images or add-ons (asked for image %q, add-ons %v): use the kind backend for this scenario", spec.NodeImage, spec.Addons)
	}
	nodeDir := b.NodeDir(name)
	if _, err := os.Stat(configFile(nodeDir)); err == nil {
		return b.resume(ctx, name, nodeDir, progress)
	}
	c, err := b.create(ctx, name, nodeDir, progress)
	if err != nil {
		// Ctrl-C or a failed start must leave no process and no half
		// cluster behind; cleanup runs even though ctx is done.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace+10*time.Second)
		defer cancel()
		if derr := b.destroy(cctx, nodeDir, false); derr != nil {
			err = fmt.Errorf("%w (cleanup: %v)", err, derr)
		}
		return nil, err
	}
	return c, nil
}

// resume reuses a cluster whose node dir exists: attach to its running
// supervisor, or start one again (after a reboot the "kubelet" comes back
// and restarts the static pods, with the learner's changes intact).
func (b *Backend) resume(ctx context.Context, name, nodeDir string, progress cluster.ProgressFunc) (*cluster.Cluster, error) {
	cfg, err := readNodeConfig(nodeDir)
	if err != nil {
		return nil, err
	}
	started := false
	var since time.Time
	if !supervisorRunning(nodeDir) {
		progress.Report(cluster.Step{ID: "etcd", Title: "Restarting the control plane of " + name})
		since = time.Now()
		if err := b.startSupervisor(nodeDir); err != nil {
			return nil, err
		}
		started = true
	}
	if err := b.waitReady(ctx, cfg, since, progress); err != nil {
		if started && ctx.Err() != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace+10*time.Second)
			defer cancel()
			_ = stopSupervisor(cctx, nodeDir)
		}
		return nil, fmt.Errorf("cluster %s exists but is not healthy: %w (inspect `ckslab cluster status`; `ckslab cluster down` starts over)", name, err)
	}
	return b.clusterFor(cfg), nil
}

func (b *Backend) create(ctx context.Context, name, nodeDir string, progress cluster.ProgressFunc) (*cluster.Cluster, error) {
	step := func(id, title string, err error) {
		progress.Report(cluster.Step{ID: id, Title: title, Done: true, Err: err})
	}
	progress.Report(cluster.Step{ID: "binaries", Title: "Control-plane binaries"})
	r := newResolver(&b.opts)
	r.progress = progress
	bins, err := r.Resolve(ctx)
	step("binaries", "Control-plane binaries", err)
	if err != nil {
		return nil, err
	}

	progress.Report(cluster.Step{ID: "certs", Title: "Certificates, kubeconfigs and static pod manifests"})
	if err := os.MkdirAll(filepath.Join(nodeDir, internalDir), 0o700); err != nil {
		return nil, fmt.Errorf("create node dir %s: %w", nodeDir, err)
	}
	// The node dir holds private keys: keep it private even if the state
	// root was created with a looser umask.
	if err := os.Chmod(nodeDir, 0o700); err != nil {
		return nil, fmt.Errorf("secure node dir %s: %w", nodeDir, err)
	}
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	cfg := &nodeConfig{
		Name: name, NodeDir: nodeDir,
		KubernetesVersion: b.opts.k8sVersion, EtcdVersion: b.opts.etcdVersion,
		Binaries:      bins,
		APIServerPort: ports[0], EtcdClientPort: ports[1], EtcdPeerPort: ports[2], EtcdMetricsPort: ports[3], ControllerPort: ports[4],
		CreatedAt: time.Now(),
	}
	err = writeNodeFiles(cfg)
	step("certs", "Certificates, kubeconfigs and static pod manifests", err)
	if err != nil {
		return nil, err
	}
	if b.opts.templates {
		progress.Report(cluster.Step{ID: "template", Title: "Bootstrap template"})
		var line string
		cfg.BootstrapTemplate = b.restoreTemplate(cfg, func(s string) { line = s })
		title := "Bootstrap template " + cfg.BootstrapTemplate + " restored into etcd"
		switch {
		case cfg.BootstrapTemplate != "":
		case line == "":
			title = "No bootstrap template yet: bootstrapping cold, then saving one for the next cluster"
		default:
			title = "Bootstrap template unusable: bootstrapping cold"
		}
		progress.Report(cluster.Step{ID: "template", Title: title, Line: line, Done: true})
		if err := writeNodeConfig(cfg); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	since := time.Now()
	if err := b.startSupervisor(nodeDir); err != nil {
		return nil, err
	}
	if err := b.waitReady(ctx, cfg, since, progress); err != nil {
		return nil, fmt.Errorf("start cluster %s: %w", name, err)
	}
	if b.opts.templates && cfg.BootstrapTemplate == "" {
		// One real cold bootstrap per version feeds every later Up.
		title := "Saving a bootstrap template for the next cluster"
		progress.Report(cluster.Step{ID: "template-save", Title: title})
		var line string
		if err := b.saveTemplate(ctx, cfg); err != nil {
			title, line = "Bootstrap template not saved (the next cluster bootstraps cold too)", err.Error()
		}
		progress.Report(cluster.Step{ID: "template-save", Title: title, Line: line, Done: true})
	}
	return b.clusterFor(cfg), nil
}
