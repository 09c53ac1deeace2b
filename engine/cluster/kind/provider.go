package kind

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	kindlog "sigs.k8s.io/kind/pkg/log"

	"github.com/ckslab/ckslab/engine/cluster"
)

// Provider is the seam around kind's cluster.Provider so Up/Down/Get are
// unit-testable without a container engine.
type Provider interface {
	// CLI is the container engine command nodes are reached through
	// ("docker", "podman" or "nerdctl").
	CLI() string
	Create(ctx context.Context, req CreateRequest) error
	// Delete removes the cluster's nodes and its entry in kubeconfigPath.
	Delete(ctx context.Context, name, kubeconfigPath string) error
	// List returns the names of existing kind clusters.
	List(ctx context.Context) ([]string, error)
	// Nodes returns a cluster's nodes (excluding the external load balancer).
	Nodes(ctx context.Context, name string) ([]NodeInfo, error)
	// ExportKubeconfig writes the cluster's admin kubeconfig to path.
	ExportKubeconfig(ctx context.Context, name, path string) error
}

// CreateRequest is everything kind needs to create one cluster.
type CreateRequest struct {
	Name string
	// Config is a kind v1alpha4 Cluster document (host dir token already replaced).
	Config []byte
	// NodeImage overrides the image of every node.
	NodeImage string
	// KubeconfigPath is ckslab's own kubeconfig file for this cluster.
	KubeconfigPath string
	// WaitForReady is how long kind waits for the control plane.
	WaitForReady time.Duration
	Progress     cluster.ProgressFunc
}

// NodeInfo names one node container.
type NodeInfo struct {
	Name string
	// Role is cluster.RoleControlPlane or cluster.RoleWorker.
	Role string
}

// kindProvider implements Provider with sigs.k8s.io/kind/pkg/cluster.
type kindProvider struct {
	cli    string
	option kindcluster.ProviderOption
	// verbosity of kind log lines forwarded as progress.
	verbosity kindlog.Level
}

// NewKindProvider detects the node provider the way kind does
// (cluster.DetectNodeProvider: docker, then nerdctl, then podman). cli forces
// one ("docker", "podman", "nerdctl"); "" detects.
func NewKindProvider(cli string) (Provider, error) {
	switch cli {
	case "docker":
		return &kindProvider{cli: cli, option: kindcluster.ProviderWithDocker()}, nil
	case "podman":
		return &kindProvider{cli: cli, option: kindcluster.ProviderWithPodman()}, nil
	case "nerdctl":
		return &kindProvider{cli: cli, option: kindcluster.ProviderWithNerdctl("")}, nil
	case "":
	default:
		return nil, fmt.Errorf("unknown container engine %q: use docker, podman or nerdctl", cli)
	}
	opt, err := kindcluster.DetectNodeProvider()
	if err != nil {
		return nil, fmt.Errorf("detect a container engine for kind: %w (install Docker or Podman, or use --backend local)", err)
	}
	// DetectNodeProvider does not say which engine it picked; kind checks
	// docker, nerdctl, podman in that order, so pick the first such CLI.
	for _, name := range []string{"docker", "nerdctl", "podman"} {
		if _, err := exec.LookPath(name); err == nil {
			return &kindProvider{cli: name, option: opt}, nil
		}
	}
	return &kindProvider{cli: "docker", option: opt}, nil
}

func (p *kindProvider) CLI() string { return p.cli }

func (p *kindProvider) kind(progress cluster.ProgressFunc) *kindcluster.Provider {
	return kindcluster.NewProvider(p.option, kindcluster.ProviderWithLogger(newStepLogger(progress, p.verbosity)))
}

func (p *kindProvider) Create(ctx context.Context, req CreateRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	opts := []kindcluster.CreateOption{
		kindcluster.CreateWithRawConfig(req.Config),
		kindcluster.CreateWithKubeconfigPath(req.KubeconfigPath),
		kindcluster.CreateWithDisplayUsage(false),
		kindcluster.CreateWithDisplaySalutation(false),
		kindcluster.CreateWithWaitForReady(req.WaitForReady),
	}
	if req.NodeImage != "" {
		opts = append(opts, kindcluster.CreateWithNodeImage(req.NodeImage))
	}
	// kind's Create takes no context; it honours its own timeouts.
	return p.kind(req.Progress).Create(req.Name, opts...)
}

func (p *kindProvider) Delete(ctx context.Context, name, kubeconfigPath string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return p.kind(nil).Delete(name, kubeconfigPath)
}

func (p *kindProvider) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return p.kind(nil).List()
}

func (p *kindProvider) Nodes(ctx context.Context, name string) ([]NodeInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ns, err := p.kind(nil).ListInternalNodes(name)
	if err != nil {
		return nil, err
	}
	out := make([]NodeInfo, 0, len(ns))
	for _, n := range ns {
		role, err := n.Role()
		if err != nil {
			return nil, fmt.Errorf("read role of node %s: %w", n.String(), err)
		}
		if role != cluster.RoleControlPlane {
			role = cluster.RoleWorker
		}
		out = append(out, NodeInfo{Name: n.String(), Role: role})
	}
	return out, nil
}

func (p *kindProvider) ExportKubeconfig(ctx context.Context, name, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return p.kind(nil).ExportKubeConfig(name, path, false)
}
