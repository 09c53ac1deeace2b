package local

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ckslab/ckslab/engine/cluster"
)

// Status implements cluster.Backend.
func (b *Backend) Status(ctx context.Context, name string) (*cluster.Status, error) {
	if name == "" {
		name = defaultClusterName
	}
	nodeDir := b.NodeDir(name)
	cfg, err := readNodeConfig(nodeDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("local cluster %s: %w", name, cluster.ErrNotFound)
		}
		return nil, err
	}
	st := &cluster.Status{
		Name:       name,
		Backend:    BackendName,
		Running:    supervisorRunning(nodeDir),
		Kubeconfig: kubeconfigFile(nodeDir),
		Notes: []string{
			"No kubelet, container runtime or scheduler: pods are admitted by the API but never run.",
			"Node files live in " + nodeDir + "; component logs in /var/log/pods/<component>.log on the node.",
		},
	}
	if cfg.BootstrapTemplate != "" {
		st.Notes = append(st.Notes, "etcd started from bootstrap template "+cfg.BootstrapTemplate+
			" (the keyspace of a fresh cluster of this version; certificates and keys are this cluster's own). CKSLAB_BOOTSTRAP_TEMPLATE=0 bootstraps cold.")
	}
	if nsMode := detectNamespaceMode(ctx); nsMode != "" {
		st.Notes = append(st.Notes, nsMode)
	}
	if !st.Running {
		st.Notes = append(st.Notes, "The supervisor is not running: `ckslab cluster up` restarts the control plane.")
	}
	state, err := readState(nodeDir)
	if err == nil {
		for _, n := range sortedNames(state.Components) {
			cs := state.Components[n].public()
			if !st.Running {
				cs.Running, cs.Ready = false, false
			}
			st.Components = append(st.Components, cs)
		}
	}
	return st, nil
}
