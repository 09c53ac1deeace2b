// Package local is ckslab's built-in cluster backend: a real etcd,
// kube-apiserver and kube-controller-manager started as host processes from
// kubeadm-style static pod manifests by a small detached supervisor that
// plays the kubelet. Pods are admitted by the API but never run: there is no
// kubelet, container runtime or scheduler, so scenarios that need running
// workloads must use the kind backend.
package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
)

// BackendName is what Name returns.
const BackendName = "local"

const defaultClusterName = "ckslab"

// Backend is the local control-plane backend.
type Backend struct {
	opts options
}

var _ cluster.Backend = (*Backend)(nil)

// Name implements cluster.Backend.
func (b *Backend) Name() string { return BackendName }

// Facts are the local backend's: the node is the user's own machine (its
// commands and files are the host's); it provides the API, the
// control-plane node and etcd on every host. Workloads are deliberately
// absent: pods are admitted but never run.
func Facts() cluster.Facts {
	return cluster.Facts{
		Provides:  cluster.NewCapabilities(v1alpha1.CapAPI, v1alpha1.CapControlPlaneNode, v1alpha1.CapEtcd),
		Elsewhere: "install Docker (or podman) and run with --backend kind",
	}
}

// Facts implements cluster.Backend.
func (b *Backend) Facts() cluster.Facts { return Facts() }

// Capabilities implements cluster.Backend: what Facts provides, on any host.
func (b *Backend) Capabilities(context.Context) cluster.Capabilities {
	return cluster.NewCapabilities(Facts().Provides.List()...)
}

func validName(name string) error {
	if !regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`).MatchString(name) {
		return fmt.Errorf("cluster name %q must be lowercase letters, digits and '-' (at most 63)", name)
	}
	return nil
}

// NodeDir is where the named cluster's node filesystem lives.
func (b *Backend) NodeDir(name string) string {
	if name == "" {
		name = defaultClusterName
	}
	return filepath.Join(b.opts.stateRoot, name)
}

func (b *Backend) clusterFor(cfg *nodeConfig) *cluster.Cluster {
	node := newNode(cfg.NodeDir)
	return &cluster.Cluster{
		Name:         cfg.Name,
		Backend:      BackendName,
		Facts:        Facts(),
		Kubeconfig:   kubeconfigFile(cfg.NodeDir),
		Capabilities: b.Capabilities(context.Background()),
		Nodes:        []cluster.Node{node},
		Components:   &components{nodeDir: cfg.NodeDir},
		Etcd:         &etcdReader{cfg: cfg},
	}
}

// Get implements cluster.Backend.
func (b *Backend) Get(ctx context.Context, name string) (*cluster.Cluster, error) {
	if name == "" {
		name = defaultClusterName
	}
	nodeDir := b.NodeDir(name)
	cfg, err := readNodeConfig(nodeDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("local cluster %s: %w", name, cluster.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if !supervisorRunning(nodeDir) {
		return nil, fmt.Errorf("local cluster %s is stopped (run `ckslab cluster up` to start it again): %w", name, cluster.ErrNotFound)
	}
	return b.clusterFor(cfg), nil
}
