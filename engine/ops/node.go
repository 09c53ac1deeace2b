package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/staticpod"
)

// HealthyTimeout bounds waits for a control-plane component to come back.
const HealthyTimeout = 3 * time.Minute

func describeNodeOp(n *v1alpha1.NodeOp) string {
	on := ""
	if n.Name != "" {
		on = " on " + n.Name
	}
	switch {
	case n.WriteFile != nil:
		return "write " + n.WriteFile.Path + on
	case n.Exec != nil:
		return "exec " + strings.Join(n.Exec.Command, " ") + on
	case n.EditManifest != nil:
		return "edit manifest " + n.EditManifest.Component + on
	case n.Remove != "":
		return "remove " + n.Remove + on
	case n.WaitHealthy != "":
		return "wait for " + n.WaitHealthy + " to be healthy" + on
	}
	return "no action"
}

func nodeOp(ctx context.Context, env *Env, op *v1alpha1.NodeOp) error {
	if env.Cluster == nil {
		return errors.New("no cluster")
	}
	n, err := env.Cluster.Node(op.Name)
	if err != nil {
		return err
	}
	switch {
	case op.WriteFile != nil:
		w := op.WriteFile
		data := []byte(w.Content)
		if w.File != "" {
			if data, err = env.ReadFile(w.File); err != nil {
				return err
			}
		}
		mode := fs.FileMode(0o644)
		if w.Mode != "" {
			m, err := strconv.ParseUint(w.Mode, 8, 32)
			if err != nil {
				return fmt.Errorf("write %s: mode %q is not octal", w.Path, w.Mode)
			}
			mode = fs.FileMode(m)
		}
		if err := backup(ctx, env, n, w.Path); err != nil {
			return err
		}
		return n.WriteFile(ctx, w.Path, data, mode)
	case op.Remove != "":
		if err := backup(ctx, env, n, op.Remove); err != nil {
			return err
		}
		return n.Remove(ctx, op.Remove)
	case op.Exec != nil:
		if err := cluster.CheckHostExec(env.Cluster, env.Trusted, env.AllowHostExec); err != nil {
			return err
		}
		var stdin io.Reader
		if op.Exec.Stdin != "" {
			stdin = strings.NewReader(op.Exec.Stdin)
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		out, err := n.Exec(ctx, stdin, op.Exec.Command...)
		if err != nil {
			return fmt.Errorf("exec %s on %s: %w", strings.Join(op.Exec.Command, " "), n.Name(), err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l != "" {
				env.logf("  %s", l)
			}
		}
		return nil
	case op.WaitHealthy != "":
		return waitHealthy(ctx, env, op.WaitHealthy)
	case op.EditManifest != nil:
		return editManifest(ctx, env, n, op.EditManifest)
	}
	return errors.New("node operation has no action set")
}

func waitHealthy(ctx context.Context, env *Env, component string) error {
	if env.Cluster.Components == nil {
		return fmt.Errorf("wait for %s: this backend cannot inspect control-plane components", component)
	}
	if err := env.Cluster.Components.WaitHealthy(ctx, component, HealthyTimeout); err != nil {
		return fmt.Errorf("wait for %s to be healthy (up to %s): %w", component, HealthyTimeout, err)
	}
	return nil
}

// controlPlaneManifests are the kubeadm static pods a learner may edit.
var controlPlaneManifests = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// Setup seeds a scenario. For labs on the control-plane node it first
// records the static pod manifests as they are, so reset also undoes what
// the learner changes there by hand (an apiserver flag, a volume), not only
// what operations wrote.
func Setup(ctx context.Context, env *Env, spec *v1alpha1.Spec) error {
	if slices.Contains(spec.Requires, v1alpha1.CapControlPlaneNode) {
		if err := backupControlPlane(ctx, env); err != nil {
			return err
		}
	}
	return Run(ctx, env, spec.Setup)
}

// backupControlPlane records the control-plane node's static pod
// manifests; manifests that do not exist are not recorded.
func backupControlPlane(ctx context.Context, env *Env) error {
	if env.Tracker == nil || env.Cluster == nil {
		return nil
	}
	n, err := env.Cluster.Node("")
	if err != nil {
		return err
	}
	for _, c := range controlPlaneManifests {
		path := staticpod.ManifestsDir + "/" + c + ".yaml"
		if _, err := n.Stat(ctx, path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := backup(ctx, env, n, path); err != nil {
			return err
		}
	}
	return nil
}

// backup records a node file's original state once, before it changes.
func backup(ctx context.Context, env *Env, n cluster.Node, path string) error {
	if env.Tracker == nil || env.Tracker.hasFile(n.Name(), path) {
		return nil
	}
	b := FileBackup{Node: n.Name(), Path: path}
	mode, err := n.Stat(ctx, path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b.Absent = true
	case err != nil:
		return fmt.Errorf("back up %s on %s: %w", path, n.Name(), err)
	default:
		data, err := n.ReadFile(ctx, path)
		if err != nil {
			return fmt.Errorf("back up %s on %s: %w", path, n.Name(), err)
		}
		b.Content, b.Mode = data, mode.Perm()
	}
	if err := env.Tracker.addFile(b); err != nil {
		return fmt.Errorf("record backup of %s: %w", path, err)
	}
	return nil
}

func editManifest(ctx context.Context, env *Env, n cluster.Node, em *v1alpha1.EditManifest) error {
	path := staticpod.ManifestsDir + "/" + em.Component + ".yaml"
	data, err := n.ReadFile(ctx, path)
	if err != nil {
		return fmt.Errorf("edit %s: %w", path, err)
	}
	out, err := staticpod.EditManifest(data, em)
	if err != nil {
		return fmt.Errorf("edit %s: %w", path, err)
	}
	if err := backup(ctx, env, n, path); err != nil {
		return err
	}
	mode, err := n.Stat(ctx, path)
	if err != nil {
		mode = 0o600
	}
	if err := n.WriteFile(ctx, path, out, mode.Perm()); err != nil {
		return fmt.Errorf("edit %s: %w", path, err)
	}
	if em.Wait != nil && !*em.Wait {
		return nil
	}
	return waitHealthy(ctx, env, em.Component)
}

// RestoreFiles puts backed-up node files back in reverse order and reports
// which static pod manifests changed, so the caller can wait for them.
func RestoreFiles(ctx context.Context, c *cluster.Cluster, files []FileBackup) (manifests []string, err error) {
	var errs []error
	for i := len(files) - 1; i >= 0; i-- {
		f := files[i]
		n, nerr := c.Node(f.Node)
		if nerr != nil {
			errs = append(errs, nerr)
			continue
		}
		if f.Absent {
			if err := n.Remove(ctx, f.Path); err != nil {
				errs = append(errs, fmt.Errorf("restore %s on %s: %w", f.Path, f.Node, err))
			}
		} else {
			cur, rerr := n.ReadFile(ctx, f.Path)
			if rerr == nil && bytes.Equal(cur, f.Content) {
				continue
			}
			mode := f.Mode
			if mode == 0 {
				mode = 0o644
			}
			if err := n.WriteFile(ctx, f.Path, f.Content, mode); err != nil {
				errs = append(errs, fmt.Errorf("restore %s on %s: %w", f.Path, f.Node, err))
			}
		}
		if strings.HasPrefix(f.Path, staticpod.ManifestsDir+"/") && strings.HasSuffix(f.Path, ".yaml") {
			manifests = append(manifests, strings.TrimSuffix(strings.TrimPrefix(f.Path, staticpod.ManifestsDir+"/"), ".yaml"))
		}
	}
	return manifests, errors.Join(errs...)
}
