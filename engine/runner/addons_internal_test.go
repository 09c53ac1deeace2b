package runner

import (
	"context"
	"errors"
	"testing"

	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/scenarios"
)

// addonBackend records RemoveAddon calls; every other Backend method is
// the nil embedded interface (a call would panic: undo must not need them).
type addonBackend struct {
	cluster.Backend
	removed []string
	fail    error
}

func (b *addonBackend) RemoveAddon(_ context.Context, _ *cluster.Cluster, addon string, _ cluster.ProgressFunc) error {
	b.removed = append(b.removed, addon)
	return b.fail
}

// A lab that asked for an add-on takes it out again when it ends (so
// Gatekeeper cannot judge or deny the next lab's requests), except in an
// exam, whose tasks share the cluster and are undone together.
func TestUndoRemovesTheLabsAddons(t *testing.T) {
	cat, probs := load.NewCatalog(load.Source{Name: "builtin", Kind: "builtin", FS: scenarios.FS, Display: "builtin:scenarios", Trusted: true})
	if len(probs) > 0 {
		t.Fatalf("catalog: %v", probs)
	}
	gk, err := cat.Get("gatekeeper-01")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := cat.Get("psp-01")
	if err != nil {
		t.Fatal(err)
	}
	cl := &cluster.Cluster{Name: "c"}

	b := &addonBackend{}
	r := &Runner{Backend: b}
	if err := r.removeAddons(context.Background(), gk, cl, nil); err != nil {
		t.Fatal(err)
	}
	if len(b.removed) != 1 || b.removed[0] != "gatekeeper" {
		t.Fatalf("removed %v, want [gatekeeper]", b.removed)
	}
	if err := r.removeAddons(context.Background(), plain, cl, nil); err != nil || len(b.removed) != 1 {
		t.Fatalf("a scenario without add-ons removed %v (%v)", b.removed, err)
	}

	kept := &addonBackend{}
	r = &Runner{Backend: kept}
	if err := r.removeAddons(context.Background(), gk, cl, []string{"gatekeeper"}); err != nil || len(kept.removed) != 0 {
		t.Fatalf("the next lab needs gatekeeper too, yet it was removed: %v (%v)", kept.removed, err)
	}

	shared := &addonBackend{}
	r = &Runner{Backend: shared, SharedCluster: true}
	if err := r.removeAddons(context.Background(), gk, cl, nil); err != nil || len(shared.removed) != 0 {
		t.Fatalf("an exam task removed %v (%v); the exam's other tasks may still use it", shared.removed, err)
	}

	failing := &addonBackend{fail: errors.New("webhook stuck")}
	r = &Runner{Backend: failing}
	if err := r.removeAddons(context.Background(), gk, cl, nil); err == nil {
		t.Fatal("a failed removal must fail the reset (the lab state is kept to retry), not be dropped")
	}
}

// removeNode records Remove; other Node methods are the nil interface.
type removeNode struct {
	cluster.Node
	removed []string
}

func (n *removeNode) Name() string { return "controlplane" }
func (n *removeNode) Role() string { return cluster.RoleControlPlane }
func (n *removeNode) Remove(_ context.Context, p string) error {
	n.removed = append(n.removed, p)
	return nil
}

// The learner's answer files are no backup's to restore: setup removes
// them, so an earlier attempt's answer never scores in a fresh lab (a
// second validate of audit-02 on one cluster started with the last
// alternative's answer.txt).
func TestSetupClearsAnswerFiles(t *testing.T) {
	cat, _ := load.NewCatalog(load.Source{Name: "builtin", Kind: "builtin", FS: scenarios.FS, Display: "builtin:scenarios", Trusted: true})
	s, err := cat.Get("audit-02")
	if err != nil {
		t.Fatal(err)
	}
	n := &removeNode{}
	if err := clearAnswerFiles(context.Background(), s, &cluster.Cluster{Name: "c", Nodes: []cluster.Node{n}}); err != nil {
		t.Fatal(err)
	}
	if len(n.removed) != 1 || n.removed[0] != "/opt/course/audit-02/answer.txt" {
		t.Fatalf("removed %v, want the answer file of audit-02", n.removed)
	}
}
