package ops

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"testing"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/cluster/kind"
	"github.com/ckslab/ckslab/engine/cluster/local"
)

// execNode records whether a command reached it.
type execNode struct{ ran int }

func (n *execNode) Name() string { return "controlplane" }
func (n *execNode) Role() string { return cluster.RoleControlPlane }
func (n *execNode) Exec(context.Context, io.Reader, ...string) ([]byte, error) {
	n.ran++
	return []byte("ran\n"), nil
}
func (n *execNode) ReadFile(context.Context, string) ([]byte, error) { return nil, fs.ErrNotExist }
func (n *execNode) WriteFile(context.Context, string, []byte, fs.FileMode) error {
	return errors.New("read-only")
}
func (n *execNode) Remove(context.Context, string) error { return nil }
func (n *execNode) Stat(context.Context, string) (fs.FileMode, error) {
	return 0, fs.ErrNotExist
}

// TestNodeExecHostBoundary: a node exec of a pack scenario is refused, and
// never reaches the node, exactly where it was refused when ops compared
// the backend name with "local": on a cluster whose node is the user's
// machine, unless the scenario is trusted or the user allowed it. kind's
// isolated nodes run it. A cluster whose backend states no facts counts as
// the host (fail closed).
func TestNodeExecHostBoundary(t *testing.T) {
	backends := []struct {
		name  string
		facts cluster.Facts
		host  bool
	}{
		{"local", local.Facts(), true},
		{"kind", kind.Facts(), false},
		{"unstated", cluster.Facts{}, true},
	}
	op := v1alpha1.Operation{Node: &v1alpha1.NodeOp{Exec: &v1alpha1.NodeExec{Command: []string{"id"}}}}
	for _, b := range backends {
		for _, trusted := range []bool{false, true} {
			for _, allowed := range []bool{false, true} {
				n := &execNode{}
				env := &Env{ScenarioID: "s", Trusted: trusted, AllowHostExec: allowed,
					Cluster: &cluster.Cluster{Name: "c", Backend: b.name, Facts: b.facts, Nodes: []cluster.Node{n}}}
				err := RunOne(context.Background(), env, op)
				wantRefused := b.host && !trusted && !allowed
				var refused *cluster.HostExecRefused
				if got := errors.As(err, &refused); got != wantRefused {
					t.Errorf("%s trusted=%v allowed=%v: refused=%v (err %v), want refused=%v", b.name, trusted, allowed, got, err, wantRefused)
				}
				if wantRefused && n.ran != 0 {
					t.Errorf("%s trusted=%v allowed=%v: refused but the command ran", b.name, trusted, allowed)
				}
				if !wantRefused && (err != nil || n.ran != 1) {
					t.Errorf("%s trusted=%v allowed=%v: err %v, ran %d times, want it run once", b.name, trusted, allowed, err, n.ran)
				}
			}
		}
	}
	if err := cluster.CheckHostExec(nil, false, false); err != nil {
		t.Errorf("no cluster: %v (nothing can run, nothing to refuse)", err)
	}
}
