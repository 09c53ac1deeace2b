package exam_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/scenarios"
	"github.com/ckslab/ckslab/scenarios/exams"
)

func builtin(t *testing.T) *load.Catalog {
	t.Helper()
	c, ps := load.NewCatalog(load.Source{Name: "builtin", Kind: "builtin", FS: scenarios.FS, Display: "scenarios", Trusted: true})
	if len(ps) > 0 {
		t.Fatalf("built-in catalog: %v", ps)
	}
	return c
}

// The built-in mock exams lint clean: 16 tasks each, known ids (or planned
// slots), no scenario in both, every domain.
func TestBuiltinMocksLint(t *testing.T) {
	mocks, err := exam.LoadMocks(exams.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(mocks) != 2 || mocks[0].Name != "mock-1" || mocks[1].Name != "mock-2" {
		t.Fatalf("want mock-1 and mock-2, got %d", len(mocks))
	}
	cat := builtin(t)
	if ps := exam.LintMocks(mocks, cat); len(ps) > 0 {
		t.Fatalf("mock exams have problems:\n%v", ps)
	}
	var planned []string
	for _, m := range mocks {
		for _, task := range m.Tasks {
			if _, err := cat.Get(task.Scenario); err != nil {
				planned = append(planned, m.Name+":"+task.Scenario)
			}
		}
	}
	if len(planned) > 0 {
		t.Logf("planned slots without a scenario yet: %s", strings.Join(planned, ", "))
	}
}

// Mock 1 runs entirely on the local backend: no task needs what local
// lacks, and its weights are the curriculum's (100 in all).
func TestMock1RunsOnLocal(t *testing.T) {
	mocks, _ := exam.LoadMocks(exams.FS)
	m, err := exam.FindMock(mocks, 1)
	if err != nil {
		t.Fatal(err)
	}
	local := map[v1alpha1.Capability]bool{v1alpha1.CapAPI: true, v1alpha1.CapControlPlaneNode: true, v1alpha1.CapEtcd: true}
	supports := func(s *load.Scenario) error {
		for _, c := range s.Spec.Requires {
			if !local[c] {
				return errors.New("needs " + string(c))
			}
		}
		return nil
	}
	p, err := exam.PlanMock(m, builtin(t), supports)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Unavailable) > 0 || len(p.Scenarios) != exam.MockTasks || p.Minutes != 120 {
		t.Fatalf("mock-1 on local: %d tasks, unavailable %+v, %d min", len(p.Scenarios), p.Unavailable, p.Minutes)
	}
	perDomain := map[v1alpha1.Domain]float64{}
	for i, s := range p.Scenarios {
		perDomain[s.Spec.Domain] += p.Weight(i)
	}
	for d, want := range map[v1alpha1.Domain]float64{v1alpha1.DomainClusterSetup: 15, v1alpha1.DomainClusterHardening: 15, v1alpha1.DomainSystemHardening: 10,
		v1alpha1.DomainMicroservices: 20, v1alpha1.DomainSupplyChain: 20, v1alpha1.DomainMonitoringRuntime: 20} {
		if got := perDomain[d]; got < want-1e-9 || got > want+1e-9 {
			t.Errorf("%s weighs %v, want %v", d, got, want)
		}
	}
	// Nothing done: every task scores 0 of its weight.
	var tasks []exam.TaskOutcome
	for _, s := range p.Scenarios {
		tasks = append(tasks, exam.TaskOutcome{Scenario: s})
	}
	if ex := exam.Score(p, tasks, t0, t0); ex.Max != 100 || ex.Score != 0 || ex.Passed {
		t.Errorf("untouched mock-1: %v/%v", ex.Score, ex.Max)
	}
}

// A task the backend cannot run is not seeded, is listed with its reason,
// and is left out of the maximum; it is never scored.
func TestPlanMockExcludesWhatCannotRun(t *testing.T) {
	mocks, _ := exam.LoadMocks(exams.FS)
	m, _ := exam.FindMock(mocks, 2)
	supports := func(s *load.Scenario) error {
		if s.ID == "falco-01" {
			return errors.New("falco-01 needs falco")
		}
		return nil
	}
	p, err := exam.PlanMock(m, builtin(t), supports)
	if err != nil {
		t.Fatal(err)
	}
	var falco *exam.Unavailable
	for i := range p.Unavailable {
		if p.Unavailable[i].ID == "falco-01" {
			falco = &p.Unavailable[i]
		}
	}
	if falco == nil || falco.Reason != "falco-01 needs falco" || falco.Weight <= 0 {
		t.Fatalf("falco-01 not listed as unavailable: %+v", p.Unavailable)
	}
	for _, id := range p.IDs() {
		if id == "falco-01" {
			t.Fatal("falco-01 seeded although the backend cannot run it")
		}
	}
	var tasks []exam.TaskOutcome
	for _, s := range p.Scenarios {
		tasks = append(tasks, exam.TaskOutcome{Scenario: s})
	}
	ex := exam.Score(p, tasks, t0, t0)
	left := 0.0
	for _, u := range p.Unavailable {
		left += u.Weight
	}
	if d := ex.Max - (100 - left); d > 0.11 || d < -0.11 {
		t.Errorf("max %v, want 100 - %v unavailable", ex.Max, left)
	}
	found := false
	for _, et := range ex.Tasks {
		if et.Scenario == "falco-01" {
			found = et.Weight == 0 && et.Score == 0 && strings.HasPrefix(et.Error, exam.NotScored)
		}
	}
	if !found {
		t.Errorf("falco-01 not reported as not scored: %+v", ex.Tasks)
	}
}

func TestLintMocksFindsMistakes(t *testing.T) {
	cat := builtin(t)
	one := func(file, y string) *exam.Mock {
		m, err := exam.ParseMock(file, []byte(y))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a := one("scenarios/exams/mock-1.yaml", `name: mock-1
title: A
minutes: 120
tasks:
- scenario: netpol-01
- scenario: nope-01
- scenario: later-01
  planned: true
- scenario: netpol-01
`)
	b := one("scenarios/exams/mock-3.yaml", `name: mock-2
title: B
minutes: 0
tasks:
- scenario: rbac-01
  domain: cluster-setup
- scenario: netpol-01
`)
	got := exam.LintMocks([]*exam.Mock{a, b}, cat).Error()
	for _, want := range []string{
		`scenarios/exams/mock-1.yaml:6:13: tasks[1].scenario: no scenario "nope-01" in the catalog`,
		`scenarios/exams/mock-1.yaml:1:1: tasks[2].domain: a planned task names the domain it will cover`,
		`scenarios/exams/mock-1.yaml:9:13: tasks[3].scenario: netpol-01 is already a task of mock-1 tasks[0].scenario`,
		`mock-1.yaml:1:1: tasks: has 4 tasks; a mock exam has 16`,
		`mock-1.yaml:1:1: tasks: no task of domain cluster-hardening (15% of the exam)`,
		`mock-3.yaml:1:1: name: "mock-2" must be the file's name, "mock-3"`,
		`mock-3.yaml:1:1: minutes: must be 1 to 240, got 0`,
		`mock-3.yaml:6:11: tasks[0].domain: rbac-01 is a cluster-hardening scenario, not cluster-setup`,
		`mock-3.yaml:7:13: tasks[1].scenario: netpol-01 is already a task of mock-1 tasks[0].scenario`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lint lacks %q; got:\n%s", want, got)
		}
	}
	if _, err := exam.ParseMock("x.yaml", []byte("name: mock-1\ntask: []\n")); err == nil || !strings.Contains(err.Error(), "task") {
		t.Errorf("unknown field not reported: %v", err)
	}
}
