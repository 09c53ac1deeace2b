package main

import (
	"context"
	"errors"
	"testing"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/exam/examtest"
	"github.com/ckslab/ckslab/engine/runner"
	"github.com/ckslab/ckslab/ui"
)

// The TUI's exam path (the engine adapter `ckslab exam` builds, driven
// through ui.Engine as the UI drives it) honours --allow-host-commands as
// `ckslab start`/`check` do: every task of a pack that runs node commands
// is seeded and checked on a node that is the user's machine when the user
// allowed it, and refused when not. (The old adapter seeded tasks after
// the first with an ops.Env of its own and checked them with a checks.Env
// of its own, both without AllowHostExec, so task 2 was refused.)
func TestTUIExamHonoursAllowHostExec(t *testing.T) {
	ctx := context.Background()
	for _, allow := range []bool{true, false} {
		a := &app{stateDir: t.TempDir(), clusterName: "ex-test"}
		r, err := a.newRunner(ctx, runnerOptions{AllowHostExec: allow, Events: func(runner.Event) {}})
		if err != nil {
			t.Fatal(err)
		}
		b := examtest.NewBackend(t)
		r.Catalog, r.Backend = examtest.HostExecCatalog(t), b

		// CLI: start and check each scenario.
		for _, id := range examtest.HostExecIDs {
			cli := *r
			_, err := cli.Start(ctx, id)
			if !allow {
				var refused *cluster.HostExecRefused
				if !errors.As(err, &refused) {
					t.Fatalf("CLI start %s without --allow-host-commands: %v, want refused", id, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("CLI start %s: %v", id, err)
			}
			if rs, err := cli.Check(ctx); err != nil || rs[0].Status != checks.Pass {
				t.Fatalf("CLI check %s: %+v %v", id, rs, err)
			}
			if err := cli.Reset(ctx); err != nil {
				t.Fatal(err)
			}
		}

		// TUI exam: the same scenarios as tasks 1 and 2.
		eng := newRunnerEngine(ctx, r)
		eng.startExam()
		var e ui.Engine = eng
		for i, id := range examtest.HostExecIDs {
			lab, err := e.Start(ctx, id, nil)
			if !allow {
				var refused *cluster.HostExecRefused
				if !errors.As(err, &refused) {
					t.Errorf("exam task %d (%s) without --allow-host-commands: %v, want refused", i+1, id, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("exam task %d (%s): %v", i+1, id, err)
			}
			rs, err := lab.Check(ctx)
			if err != nil || len(rs) != 1 || rs[0].Status != checks.Pass {
				t.Errorf("exam task %d (%s): check %+v %v, want the allowed host command to pass", i+1, id, rs, err)
			}
		}
		if err := eng.closeExam(); err != nil {
			t.Errorf("closing the exam: %v", err)
		}
	}
}
