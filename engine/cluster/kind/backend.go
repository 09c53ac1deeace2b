// Package kind runs ckslab labs on kind clusters with Calico. It is the only
// importer of sigs.k8s.io/kind. All host effects go through two seams: a
// Provider (kind's cluster.Provider) and a Runner (container engine CLI), so
// everything above them is unit-tested without a container engine.
package kind

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/cluster/kubeadm"
	"github.com/ckslab/ckslab/kindconfigs"
)

// DefaultClusterName is used when Spec.Name is empty.
const DefaultClusterName = "ckslab"

// VariantPSPLegacy is the kind config that provides the psp capability.
const VariantPSPLegacy = "psp-legacy"

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

// Name is the backend name users select with --backend kind.
func (b *Backend) Name() string { return "kind" }

func (b *Backend) prov() (Provider, error) {
	if b.provider == nil && b.providerErr == nil {
		b.provider, b.providerErr = b.newProvider()
	}
	return b.provider, b.providerErr
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
	c.Components = kubeadm.NewComponents(cp, b.poll)
	c.Etcd = kubeadm.NewEtcd(cp)
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
	for _, comp := range kubeadm.ComponentNames() {
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
