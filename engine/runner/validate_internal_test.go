package runner

import (
	"errors"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/checks"
)

// appRuns is the result of the test scenario's one guard, app-runs.
func appRuns(st checks.Status) checks.Result {
	return checks.Result{ID: "app-runs", Status: st, Guard: true, Message: "m"}
}

func TestSeededProblem(t *testing.T) {
	P, F, E := checks.Pass, checks.Fail, checks.Error
	tests := []struct {
		name string
		rs   []checks.Result
		want []string // substrings; none means no problem
	}{
		{"untouched scores 0, guard holds", []checks.Result{appRuns(P), res("denied", F), res("restricted", F)}, nil},
		{"a scored objective passes seeded", []checks.Result{appRuns(P), res("denied", F), {ID: "restricted", Status: P, Weight: 3}},
			[]string{"the untouched lab scores 3/4: restricted already pass(es) in the seeded state", "guard: true"}},
		{"a broken guard would hide the score", []checks.Result{appRuns(F), res("denied", P)},
			[]string{"guard(s) broken in the seeded state", "app-runs (fail: m)", "scores 1/1: denied"}},
		{"nothing fails", []checks.Result{appRuns(P), {ID: "x", Status: checks.Skip, Weight: 1}}, []string{"no objective fails in the seeded state"}},
		{"an error still counts as not done", []checks.Result{res("denied", E)}, nil},
	}
	for _, tt := range tests {
		got := SeededProblem(tt.rs)
		if len(tt.want) == 0 && got != "" {
			t.Errorf("%s: unexpected problem %q", tt.name, got)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tt.name, got, w)
			}
		}
	}
}

func TestCoverage(t *testing.T) {
	s := altScenario()
	c := NewCoverage()
	c.Add(s, "seeded", []checks.Result{appRuns(checks.Pass), res("denied", checks.Fail), res("restricted", checks.Error)})
	c.Add(s, "solution", []checks.Result{appRuns(checks.Pass), res("denied", checks.Pass), res("restricted", checks.Pass)})
	gaps := Gaps(c.All())
	if len(gaps) != 2 || gaps[0].ID != "app-runs" || !gaps[0].Guard || gaps[1].ID != "restricted" {
		t.Fatalf("an error is not a fail and a guard passing everywhere never failed: %+v", gaps)
	}
	c.Add(s, "alternative wrong-delete-app", []checks.Result{appRuns(checks.Fail), res("denied", checks.Pass), res("restricted", checks.Fail)})
	if gaps := Gaps(c.All()); len(gaps) != 0 {
		t.Fatalf("seen both ways after a wrong fix: %+v", gaps)
	}
	got := c.Scenario("demo-01")
	if len(got) != 3 || strings.Join(got[2].Failing, ",") != "alternative wrong-delete-app" || strings.Join(got[1].Passing, ",") != "solution,alternative wrong-delete-app" {
		t.Fatalf("%+v", got)
	}
	// Skipped and errored scenarios report no gaps: nothing was seen.
	rs := []ValidateResult{{ID: "a", Verdict: VerdictSkip, Objectives: []ObjectiveSeen{{ID: "x"}}}, {ID: "b", Verdict: VerdictPass, Objectives: []ObjectiveSeen{{ID: "y", Passing: []string{"solution"}}}}}
	if g := CoverageGaps(rs); len(g) != 1 || g[0].ID != "y" {
		t.Fatalf("%+v", g)
	}
}

// TestNotJudged: an objective the backend cannot judge (skipped as not
// judged here) neither fails the reference proof nor counts as a gap; it
// is listed as not judged. Any other skip, a skipped guard, or a proof in
// which no scored objective was judged still fails.
func TestNotJudged(t *testing.T) {
	nj := checks.Result{ID: "restricted", Status: checks.Skip, Weight: 1, Message: checks.NotJudgedPrefix + "this objective needs workloads, which this local cluster lacks"}
	other := checks.Result{ID: "restricted", Status: checks.Skip, Weight: 1, Message: "this scenario comes from a pack and wants to run a command"}
	for _, tt := range []struct {
		name string
		rs   []checks.Result
		want bool
	}{
		{"judged ones pass, one not judged", []checks.Result{appRuns(checks.Pass), res("denied", checks.Pass), nj}, true},
		{"another skip is not a pass", []checks.Result{appRuns(checks.Pass), res("denied", checks.Pass), other}, false},
		{"nothing judged", []checks.Result{appRuns(checks.Pass), nj}, false},
		{"a not-judged guard is broken", []checks.Result{{ID: "app-runs", Guard: true, Status: checks.Skip, Message: nj.Message}, res("denied", checks.Pass)}, false},
		{"a fail still fails", []checks.Result{res("denied", checks.Fail), nj}, false},
	} {
		if got := allPassed(tt.rs); got != tt.want {
			t.Errorf("%s: allPassed %v, want %v", tt.name, got, tt.want)
		}
	}
	s := altScenario()
	c := NewCoverage()
	c.Add(s, "seeded", []checks.Result{appRuns(checks.Pass), res("denied", checks.Fail), nj})
	c.Add(s, "solution", []checks.Result{appRuns(checks.Pass), res("denied", checks.Pass), nj})
	c.Add(s, "alternative wrong-delete-app", []checks.Result{appRuns(checks.Fail), res("denied", checks.Pass), nj})
	if gaps := Gaps(c.All()); len(gaps) != 0 {
		t.Fatalf("a not-judged objective counted as a gap: %+v", gaps)
	}
	rs := []ValidateResult{{ID: "demo-01", Verdict: VerdictPass, Objectives: c.Scenario("demo-01")}}
	if u := UnjudgedObjectives(rs); len(u) != 1 || u[0].ID != "restricted" || !strings.Contains(u[0].NotJudged, "needs workloads") {
		t.Fatalf("unjudged: %+v", u)
	}
	// Judged once (failing) and skipped elsewhere is a gap as before.
	c.Add(s, "alternative x", []checks.Result{res("restricted", checks.Fail)})
	if gaps := Gaps(c.All()); len(gaps) != 1 || gaps[0].ID != "restricted" {
		t.Fatalf("judged one way only: %+v", gaps)
	}
}

// TestJudgeNotJudged: a wrong fix whose every mustFail objective is not
// judged here is skipped (no verdict), one with a judged objective left is
// judged on that one.
func TestJudgeNotJudged(t *testing.T) {
	nj := func(id string) checks.Result {
		return checks.Result{ID: id, Status: checks.Skip, Message: checks.NotJudgedPrefix + "needs gvisor"}
	}
	wrong := Alternative{Expect: "fail", MustFail: []string{"sandboxed", "kernel"}}
	var skip *SkippedError
	if err := wrong.judge([]checks.Result{nj("sandboxed"), nj("kernel")}); !errors.As(err, &skip) {
		t.Fatalf("all mustFail not judged: %v, want a skip", err)
	}
	if err := wrong.judge([]checks.Result{res("sandboxed", checks.Fail), nj("kernel")}); err != nil {
		t.Fatalf("one judged and failing: %v", err)
	}
	if err := wrong.judge([]checks.Result{res("sandboxed", checks.Pass), nj("kernel")}); err == nil || errors.As(err, &skip) {
		t.Fatalf("a judged objective passing must disagree: %v", err)
	}
}
