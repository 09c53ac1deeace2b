package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/progress"
)

// guardScenario: web-still-runs is true before the learner starts and
// protects privileged-rejected; kept protects every scored check.
func guardScenario(id string, minutes int) *load.Scenario {
	s := scenario(id, v1alpha1.DomainMicroservices, minutes)
	s.Spec.Checks = []v1alpha1.Check{
		{ID: "web-still-runs", Objective: "Deployment web still runs", Guard: true, Protects: []string{"privileged-rejected"}},
		{ID: "privileged-rejected", Objective: "A privileged pod is rejected in team-a", Weight: 2},
		{ID: "web-restricted", Objective: "Deployment web is restricted", Weight: 2},
	}
	return s
}

func outcome(st ...checks.Status) []checks.Result {
	ids := []string{"web-still-runs", "privileged-rejected", "web-restricted"}
	var rs []checks.Result
	for i, s := range st {
		// Results as a careless engine might report them: no guard flag,
		// weight 1. Scoring must follow the scenario's spec anyway.
		rs = append(rs, checks.Result{ID: ids[i], Objective: ids[i], Status: s, Weight: 1, Message: "found x"})
	}
	return rs
}

func TestScoreExamGuards(t *testing.T) {
	P, F := checks.Pass, checks.Fail
	tasks := []TaskOutcome{
		{Scenario: guardScenario("untouched", 5), Results: outcome(P, F, F)},
		{Scenario: guardScenario("solved", 5), Results: outcome(P, P, P)},
		{Scenario: guardScenario("broke-web", 5), Results: outcome(F, P, P)},
		{Scenario: guardScenario("no-check", 5), Results: outcome(P, F, P)},
	}
	ex := ScoreExam(ExamPlan{Minutes: 20}, tasks, t0, t0.Add(time.Minute))
	want := []struct {
		score, max int
		broken     bool
	}{{0, 4, false}, {4, 4, false}, {2, 4, true}, {2, 4, false}}
	for i, w := range want {
		et := ex.Tasks[i]
		if et.CheckScore != w.score || et.CheckMax != w.max || (len(et.BrokenGuards) > 0) != w.broken {
			t.Errorf("%s: %d/%d broken %v, want %d/%d broken %v", et.Scenario, et.CheckScore, et.CheckMax, et.BrokenGuards, w.score, w.max, w.broken)
		}
	}
	if ex.Tasks[0].Score != 0 || ex.Tasks[1].Score != 25 || ex.Tasks[2].Score != 12.5 || ex.Score != 50 {
		t.Errorf("points: %+v total %v", ex.Tasks, ex.Score)
	}
}

// An exam where the candidate touches nothing scores 0 when each task's
// guards hold and its scored objectives fail, however many guards pass.
func TestUntouchedExamScoresZero(t *testing.T) {
	var tasks []TaskOutcome
	for i, m := range []int{4, 7, 9, 12} {
		tasks = append(tasks, TaskOutcome{Scenario: guardScenario(string(rune('a'+i))+"-01", m), Results: outcome(checks.Pass, checks.Fail, checks.Fail)})
	}
	ex := ScoreExam(ExamPlan{Minutes: 60}, tasks, t0, t0.Add(time.Hour))
	if ex.Score != 0 || ex.Percent != 0 || ex.Max != 100 || ex.Passed {
		t.Fatalf("untouched exam: %v/%v (%v%%)", ex.Score, ex.Max, ex.Percent)
	}
}

func TestLabShowsGuards(t *testing.T) {
	c := testCommon()
	c.SetSize(100, 30)
	lab := &fakeLab{sc: guardScenario("psp-01", 8), results: outcome(checks.Fail, checks.Pass, checks.Pass)}
	p := newLabPage(context.Background(), c, lab, progress.Open(t.TempDir()))
	_, cmd := p.Update(press("c"))
	done, ok := find[checkDoneMsg](run(cmd))
	if !ok {
		t.Fatal("no checkDoneMsg")
	}
	p.Update(done)
	v := p.View()
	for _, want := range []string{
		"✘ Deployment web still runs", "[guard broken]",
		"guard broken (no points for privileged-rejected): found x",
		"✔ A privileged pod is rejected in team-a", "[0/2]",
		"passes, but scores 0 while guard web-still-runs is broken",
		"2/4 points",
		"guard web-still-runs is broken: what it protects scores 0",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	lab.results = outcome(checks.Pass, checks.Fail, checks.Fail)
	_, cmd = p.Update(press("c"))
	done, _ = find[checkDoneMsg](run(cmd))
	p.Update(done)
	v = p.View()
	for _, want := range []string{"✔ Deployment web still runs", "[guard]", "0/4 points"} {
		if !strings.Contains(v, want) {
			t.Errorf("untouched lab view lacks %q:\n%s", want, v)
		}
	}
}

func TestExamResultsShowBrokenGuards(t *testing.T) {
	c := testCommon()
	c.SetSize(120, 30)
	ex := ScoreExam(ExamPlan{Minutes: 20}, []TaskOutcome{{Scenario: guardScenario("psp-01", 5), Results: outcome(checks.Fail, checks.Pass, checks.Pass)}}, t0, t0)
	p := newResultsPage(c, ex)
	if v := p.body(); !strings.Contains(v, "guard broken: web-still-runs") {
		t.Errorf("results lack the broken guard:\n%s", v)
	}
}
