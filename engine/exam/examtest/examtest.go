// Package examtest gives exam tests a cluster without processes: a fake
// backend whose one node is "the user's machine" (as the local backend's
// is) and records every command, and a pack catalog (untrusted scenarios)
// whose setup and checks run node commands. With it a test sees whether a
// path honours --allow-host-commands.
package examtest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/load"
)

// Node is a node that keeps files in memory and runs two commands:
// `touch PATH` and `test -e PATH`.
type Node struct {
	mu    sync.Mutex
	files map[string][]byte
	// Ran lists every command run, space-joined.
	Ran []string
}

// Name is the node's name, "controlplane".
func (n *Node) Name() string { return "controlplane" }

// Role is always the control plane.
func (n *Node) Role() string { return cluster.RoleControlPlane }

// Exec records argv and runs `touch PATH` and `test -e PATH` on the
// in-memory files; any other command exits 127.
func (n *Node) Exec(_ context.Context, _ io.Reader, argv ...string) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.Ran = append(n.Ran, strings.Join(argv, " "))
	switch {
	case len(argv) == 2 && argv[0] == "touch":
		n.files[argv[1]] = nil
		return nil, nil
	case len(argv) == 3 && argv[0] == "test" && argv[1] == "-e":
		if _, ok := n.files[argv[2]]; ok {
			return nil, nil
		}
		return nil, &cluster.ExitError{Code: 1}
	}
	return nil, &cluster.ExitError{Code: 127, Output: []byte(argv[0] + ": not found")}
}

// ReadFile returns a file written before, or fs.ErrNotExist.
func (n *Node) ReadFile(_ context.Context, p string) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if b, ok := n.files[p]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
}

// WriteFile stores data at p (the mode is ignored).
func (n *Node) WriteFile(_ context.Context, p string, data []byte, _ fs.FileMode) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.files[p] = data
	return nil
}

// Remove deletes p; a missing file is no error.
func (n *Node) Remove(_ context.Context, p string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.files, p)
	return nil
}

// Stat reports mode 0644 for an existing file, or fs.ErrNotExist.
func (n *Node) Stat(_ context.Context, p string) (fs.FileMode, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.files[p]; ok {
		return 0o644, nil
	}
	return 0, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
}

// Has reports whether path exists on the node.
func (n *Node) Has(p string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.files[p]
	return ok
}

// Backend is a backend named "local" with one cluster whose node is the
// host (zero cluster.Facts) and every capability.
type Backend struct {
	Node       *Node
	kubeconfig string
}

// NewBackend writes a kubeconfig (pointing nowhere: the fake's scenarios
// never call the API) under t.TempDir.
func NewBackend(tb testing.TB) *Backend {
	tb.Helper()
	kc := filepath.Join(tb.TempDir(), "kubeconfig")
	const cfg = `apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: fake, user: {token: fake}}]
contexts: [{name: fake, context: {cluster: fake, user: fake}}]
current-context: fake
`
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	return &Backend{Node: &Node{files: map[string][]byte{}}, kubeconfig: kc}
}

// Name is "local", the backend the fake stands in for.
func (b *Backend) Name() string { return "local" }

// Facts are zero: the node is the host.
func (b *Backend) Facts() cluster.Facts { return cluster.Facts{} }

// Capabilities are every capability.
func (b *Backend) Capabilities(context.Context) cluster.Capabilities {
	return cluster.NewCapabilities(v1alpha1.AllCapabilities...)
}

func (b *Backend) cluster(name string) *cluster.Cluster {
	return &cluster.Cluster{Name: name, Backend: "local", Kubeconfig: b.kubeconfig, Capabilities: b.Capabilities(context.Background()), Nodes: []cluster.Node{b.Node}}
}

// Up returns the one-node cluster named spec.Name; nothing starts.
func (b *Backend) Up(_ context.Context, spec cluster.Spec, _ cluster.ProgressFunc) (*cluster.Cluster, error) {
	return b.cluster(spec.Name), nil
}

// Get returns the cluster named name, as Up does.
func (b *Backend) Get(_ context.Context, name string) (*cluster.Cluster, error) {
	return b.cluster(name), nil
}

// Down does nothing: the fake runs no processes.
func (b *Backend) Down(context.Context, string) error { return nil }

// Status is always empty.
func (b *Backend) Status(context.Context, string) (*cluster.Status, error) {
	return &cluster.Status{}, nil
}

// HostExecIDs are the scenarios of HostExecCatalog.
var HostExecIDs = []string{"hostexec-01", "hostexec-02"}

// Marker is the file scenario id's setup touches on the node.
func Marker(id string) string { return "/opt/course/" + id + "/seeded" }

// HostExecCatalog is a pack catalog (untrusted) of HostExecIDs: setup runs
// `touch Marker(id)` on the node; the one check runs `test -e Marker(id)`,
// so it passes exactly when setup's command ran. Both are refused on the
// fake (host) node unless host commands are allowed.
func HostExecCatalog(tb testing.TB) *load.Catalog {
	tb.Helper()
	dir := tb.TempDir()
	for _, id := range HostExecIDs {
		y := fmt.Sprintf(`apiVersion: ckslab.dev/v1alpha1
kind: Scenario
metadata:
  name: %[1]s
spec:
  title: Host command %[1]s
  domain: cluster-setup
  competency: verify-binaries
  difficulty: easy
  minutes: 5
  requires: [control-plane-node]
  setup:
  - node: {exec: {command: [touch, %[2]s]}}
  task: Nothing to do.
  checks:
  - id: seeded
    objective: setup ran its node command
    command: {command: [test, -e, %[2]s]}
  solution:
  - node: {exec: {command: [touch, %[2]s]}}
`, id, Marker(id))
		p := filepath.Join(dir, id, load.ScenarioFile)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	c, ps := load.NewCatalog(load.Source{Name: "pack", Kind: "pack", FS: os.DirFS(dir), Display: dir, Trusted: false})
	if len(ps) > 0 {
		tb.Fatalf("examtest catalog: %v", ps)
	}
	return c
}
