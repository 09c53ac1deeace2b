package exam_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/exam/examtest"
	"github.com/ckslab/ckslab/engine/runner"
)

func sessionRunner(t *testing.T, allow bool) (*runner.Runner, *examtest.Backend) {
	t.Helper()
	b := examtest.NewBackend(t)
	return &runner.Runner{Catalog: examtest.HostExecCatalog(t), Backend: b, StateDir: t.TempDir(), ClusterName: "ex-test", AllowHostExec: allow}, b
}

// Every task of a session, not only the first, is seeded and checked with
// the runner's AllowHostExec: a pack's node commands run when the user
// allowed them, and are refused on the host otherwise.
func TestSessionHonoursAllowHostExec(t *testing.T) {
	ctx := context.Background()
	r, b := sessionRunner(t, true)
	s := exam.NewSession(r)
	for _, id := range examtest.HostExecIDs {
		task, err := s.Start(ctx, id, nil)
		if err != nil {
			t.Fatalf("start %s: %v", id, err)
		}
		if !b.Node.Has(examtest.Marker(id)) {
			t.Errorf("%s: setup's node command did not run", id)
		}
		rs, err := task.Check(ctx)
		if err != nil || len(rs) != 1 || rs[0].Status != checks.Pass {
			t.Errorf("%s: check %+v, %v; want the host command to run and pass", id, rs, err)
		}
	}
	// Each task is a lab of its own: task 2's state is not task 1's.
	if _, err := os.Stat(filepath.Join(exam.TaskStateDir(r.StateDir, 1), "labs", "ex-test.json")); err != nil {
		t.Errorf("task 2 has no lab state of its own: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	for i := range examtest.HostExecIDs {
		dir := r.StateDir
		if i > 0 {
			dir = exam.TaskStateDir(r.StateDir, i)
		}
		if _, err := os.Stat(filepath.Join(dir, "labs", "ex-test.json")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("task %d's lab state survives Close: %v", i+1, err)
		}
	}

	r, b = sessionRunner(t, false)
	s = exam.NewSession(r)
	_, err := s.Start(ctx, examtest.HostExecIDs[0], nil)
	var refused *cluster.HostExecRefused
	if !errors.As(err, &refused) || b.Node.Has(examtest.Marker(examtest.HostExecIDs[0])) {
		t.Errorf("without AllowHostExec: %v, want the node command refused", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("close after a refused setup: %v", err)
	}
}

// Close reports a task it could not undo, naming it, instead of dropping
// the error.
func TestSessionCloseReportsFailures(t *testing.T) {
	ctx := context.Background()
	r, _ := sessionRunner(t, true)
	s := exam.NewSession(r)
	for _, id := range examtest.HostExecIDs {
		if _, err := s.Start(ctx, id, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Corrupt task 2's lab state: its undo cannot know what to undo.
	p := filepath.Join(exam.TaskStateDir(r.StateDir, 1), "labs", "ex-test.json")
	if err := os.WriteFile(p, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := s.Close(ctx)
	if err == nil {
		t.Fatal("Close returned nil although task 2 could not be undone")
	}
	if want := "exam task 2"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
	// Task 1 was still undone.
	if _, err := os.Stat(filepath.Join(r.StateDir, "labs", "ex-test.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("task 1 not undone after task 2 failed: %v", err)
	}
}

// An exam that was killed before Close leaves its later tasks' labs on
// disk; the next exam undoes every one of them before it seeds anything, so
// none is undone later, on top of a new task's objects.
func TestSessionUndoesACrashedExamFirst(t *testing.T) {
	ctx := context.Background()
	r, _ := sessionRunner(t, true)
	crashed := exam.NewSession(r)
	for _, id := range examtest.HostExecIDs {
		if _, err := crashed.Start(ctx, id, nil); err != nil {
			t.Fatalf("start %s: %v", id, err)
		}
	}
	// No Close: the process died. The next exam seeds one task only.
	stale := filepath.Join(exam.TaskStateDir(r.StateDir, 1), "labs", "ex-test.json")
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("the crashed exam's task 2 left no lab state: %v", err)
	}
	next := exam.NewSession(r)
	if _, err := next.Start(ctx, examtest.HostExecIDs[0], nil); err != nil {
		t.Fatalf("start after a crashed exam: %v", err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the crashed exam's task 2 is still on disk after the next exam's first start (%v): a later task would undo it over new objects", err)
	}
	if err := next.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
}
