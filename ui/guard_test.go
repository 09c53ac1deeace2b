package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/exam"
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
	ex := scoreByMinutes(20, []exam.TaskOutcome{{Scenario: guardScenario("psp-01", 5), Results: outcome(checks.Fail, checks.Pass, checks.Pass)}})
	p := newResultsPage(c, ex)
	if v := p.body(); !strings.Contains(v, "guard broken: web-still-runs") {
		t.Errorf("results lack the broken guard:\n%s", v)
	}
}

// scoreByMinutes scores tasks of a drawn exam (weights by minutes).
func scoreByMinutes(minutes int, tasks []exam.TaskOutcome) progress.Exam {
	var ss []*load.Scenario
	for _, t := range tasks {
		ss = append(ss, t.Scenario)
	}
	return exam.Score(exam.Plan{Scenarios: ss, Weights: exam.MinuteWeights(ss), Minutes: minutes}, tasks, t0, t0)
}
