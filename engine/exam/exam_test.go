package exam_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/load"
)

var t0 = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

func scenario(id string, d v1alpha1.Domain, minutes int) *load.Scenario {
	return &load.Scenario{ID: id, Scenario: &v1alpha1.Scenario{Metadata: v1alpha1.Metadata{Name: id}, Spec: v1alpha1.Spec{
		Title: "Title of " + id, Domain: d, Difficulty: "medium", Minutes: minutes,
		Checks: []v1alpha1.Check{{ID: "a", Objective: "a", Weight: 2}, {ID: "b", Objective: "b", Weight: 2}, {ID: "c", Objective: "c"}},
	}}}
}

// guardScenario: web-still-runs is true before the learner starts and
// protects privileged-rejected.
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

func byMinutes(minutes int, tasks []exam.TaskOutcome) exam.Plan {
	var ss []*load.Scenario
	for _, t := range tasks {
		ss = append(ss, t.Scenario)
	}
	return exam.Plan{Scenarios: ss, Weights: exam.MinuteWeights(ss), Minutes: minutes}
}

func TestScoreGuards(t *testing.T) {
	P, F := checks.Pass, checks.Fail
	tasks := []exam.TaskOutcome{
		{Scenario: guardScenario("untouched", 5), Results: outcome(P, F, F)},
		{Scenario: guardScenario("solved", 5), Results: outcome(P, P, P)},
		{Scenario: guardScenario("broke-web", 5), Results: outcome(F, P, P)},
		{Scenario: guardScenario("no-check", 5), Results: outcome(P, F, P)},
	}
	ex := exam.Score(byMinutes(20, tasks), tasks, t0, t0.Add(time.Minute))
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
	var tasks []exam.TaskOutcome
	for i, m := range []int{4, 7, 9, 12} {
		tasks = append(tasks, exam.TaskOutcome{Scenario: guardScenario(string(rune('a'+i))+"-01", m), Results: outcome(checks.Pass, checks.Fail, checks.Fail)})
	}
	ex := exam.Score(byMinutes(60, tasks), tasks, t0, t0.Add(time.Hour))
	if ex.Score != 0 || ex.Percent != 0 || ex.Max != 100 || ex.Passed {
		t.Fatalf("untouched exam: %v/%v (%v%%)", ex.Score, ex.Max, ex.Percent)
	}
}

func TestDrawIsSeededAndSpread(t *testing.T) {
	cat := []*load.Scenario{
		scenario("netpol-01", v1alpha1.DomainClusterSetup, 6), scenario("cis-01", v1alpha1.DomainClusterSetup, 7),
		scenario("rbac-01", v1alpha1.DomainClusterHardening, 5), scenario("apparmor-01", v1alpha1.DomainSystemHardening, 8),
		scenario("psp-01", v1alpha1.DomainMicroservices, 8), scenario("secrets-01", v1alpha1.DomainMicroservices, 6),
		scenario("image-01", v1alpha1.DomainSupplyChain, 5), scenario("audit-01", v1alpha1.DomainMonitoringRuntime, 9),
	}
	supports := func(s *load.Scenario) error {
		if s.ID == "apparmor-01" {
			return errors.New("no apparmor")
		}
		return nil
	}
	a, err := exam.Draw(cat, supports, 5, 30, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := exam.Draw(cat, supports, 5, 30, 42)
	if len(a.Scenarios) != 5 || strings.Join(a.IDs(), ",") != strings.Join(b.IDs(), ",") {
		t.Fatalf("same seed should draw the same exam: %v %v", a.IDs(), b.IDs())
	}
	domains := map[v1alpha1.Domain]bool{}
	sum := 0.0
	for i, s := range a.Scenarios {
		if s.ID == "apparmor-01" {
			t.Error("unsupported scenario drawn")
		}
		domains[s.Spec.Domain] = true
		sum += a.Weight(i)
	}
	if len(domains) != 5 {
		t.Errorf("5 tasks should cover 5 domains, got %v", domains)
	}
	if sum < 99.99 || sum > 100.01 {
		t.Errorf("weights add up to %v", sum)
	}
	all, _ := exam.Draw(cat, supports, 99, 30, 1)
	if len(all.Scenarios) != 7 {
		t.Errorf("count larger than the catalog: %d", len(all.Scenarios))
	}
}

func TestScoreByMinutes(t *testing.T) {
	tasks := []exam.TaskOutcome{
		{Scenario: scenario("rbac-01", v1alpha1.DomainClusterHardening, 5), Results: []checks.Result{{ID: "a", Status: checks.Pass}, {ID: "b", Status: checks.Pass}, {ID: "c", Status: checks.Pass}}},
		{Scenario: scenario("psp-01", v1alpha1.DomainMicroservices, 8), Results: []checks.Result{{ID: "a", Status: checks.Pass}, {ID: "b", Status: checks.Fail}, {ID: "c", Status: checks.Fail}}},
		{Scenario: scenario("audit-01", v1alpha1.DomainMonitoringRuntime, 9), Results: []checks.Result{{ID: "a", Status: checks.Fail}}, Flagged: true},
	}
	ex := exam.Score(byMinutes(30, tasks), tasks, t0, t0.Add(20*time.Minute))
	// weights 5/22, 8/22, 9/22 of 100; psp-01 scores 2 of 5 check points
	if ex.Tasks[0].Weight != 22.7 || ex.Tasks[1].Score != 14.5 || ex.Tasks[2].Score != 0 || !ex.Tasks[2].Flagged {
		t.Errorf("tasks: %+v", ex.Tasks)
	}
	if ex.Max != 100 || ex.Score != 37.3 || ex.Passed {
		t.Errorf("total %v/%v passed=%v", ex.Score, ex.Max, ex.Passed)
	}
	if len(ex.Domains) != 3 || ex.Domains[0].Domain != "cluster-hardening" {
		t.Errorf("domains: %+v", ex.Domains)
	}
}

// Weights rounded one by one (38.9+16.7+27.8+16.7) must not make the exam
// out of 100.1.
func TestScoreMaxIs100(t *testing.T) {
	var tasks []exam.TaskOutcome
	for i, m := range []int{7, 3, 5, 3} {
		tasks = append(tasks, exam.TaskOutcome{Scenario: scenario(string(rune('a'+i)), v1alpha1.DomainClusterSetup, m)})
	}
	ex := exam.Score(byMinutes(30, tasks), tasks, t0, t0)
	if ex.Max != 100 || len(ex.Domains) != 1 || ex.Domains[0].Max != 100 {
		t.Errorf("exam max %v, domains %+v; want 100", ex.Max, ex.Domains)
	}
}

// Curriculum weights: each domain's share is split by minutes among its
// tasks, whatever the number of tasks per domain.
func TestCurriculumWeights(t *testing.T) {
	ds := []v1alpha1.Domain{v1alpha1.DomainClusterSetup, v1alpha1.DomainClusterSetup, v1alpha1.DomainClusterHardening,
		v1alpha1.DomainSystemHardening, v1alpha1.DomainMicroservices, v1alpha1.DomainSupplyChain, v1alpha1.DomainMonitoringRuntime}
	w := exam.CurriculumWeights(ds, []int{10, 5, 7, 9, 1, 12, 3})
	want := []float64{10, 5, 15, 10, 20, 20, 20}
	sum := 0.0
	for i := range w {
		if w[i] < want[i]-1e-9 || w[i] > want[i]+1e-9 {
			t.Errorf("task %d weight %v, want %v", i, w[i], want[i])
		}
		sum += w[i]
	}
	if sum < 99.999 || sum > 100.001 {
		t.Errorf("sum %v", sum)
	}
}

// A task that could not be seeded leaves the plan with its weight: it is
// not a task and not part of the maximum.
func TestPlanWithout(t *testing.T) {
	ss := []*load.Scenario{scenario("a", v1alpha1.DomainClusterSetup, 5), scenario("b", v1alpha1.DomainSupplyChain, 5)}
	p := exam.Plan{Scenarios: ss, Weights: []float64{40, 60}}.Without("b", "could not be set up here: no trivy")
	if strings.Join(p.IDs(), ",") != "a" || p.Weight(0) != 40 || len(p.Unavailable) != 1 || p.Unavailable[0].Weight != 60 || p.Unavailable[0].Reason != "could not be set up here: no trivy" {
		t.Fatalf("plan %+v", p)
	}
	ex := exam.Score(p, []exam.TaskOutcome{{Scenario: ss[0]}}, t0, t0)
	if ex.Max != 40 || len(ex.Tasks) != 2 || ex.Tasks[1].Error != exam.NotScored+"could not be set up here: no trivy" {
		t.Errorf("scored %+v", ex)
	}
}
