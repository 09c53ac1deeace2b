package ui

import (
	"context"
	"errors"
	"os/exec"
	"sync"
	"time"

	"github.com/muesli/termenv"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/ui/common"
)

// t0 is the fixed clock of every test.
var t0 = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

func testCommon() *common.Common {
	ascii := termenv.Ascii
	c := common.New(common.Options{NoColor: true, Profile: &ascii, Now: func() time.Time { return t0 }})
	c.SetSize(80, 24)
	return c
}

func scenario(id string, d v1alpha1.Domain, minutes int, requires ...v1alpha1.Capability) *load.Scenario {
	return &load.Scenario{ID: id, Scenario: &v1alpha1.Scenario{Metadata: v1alpha1.Metadata{Name: id}, Spec: v1alpha1.Spec{
		Title: "Title of " + id, Domain: d, Competency: "Competency of " + id, Difficulty: "medium", Minutes: minutes, Requires: requires,
		Task:  "Namespace `team-a` runs Deployment `web`.\n\n1. Make namespace `team-a` **enforce** the `restricted` standard.\n2. Keep `web` running.",
		Hints: []v1alpha1.Hint{{Text: "Use namespace labels.", Penalty: 1}, {Text: "The mode is enforce.", Penalty: 2}},
		Checks: []v1alpha1.Check{
			{ID: "privileged-rejected", Objective: "A privileged pod is rejected in team-a", Weight: 2},
			{ID: "web-admitted", Objective: "Deployment web's pod template is admitted", Weight: 2},
			{ID: "web-image", Objective: "Deployment web keeps its image"},
		},
	}}}
}

func testCatalog() []*load.Scenario {
	return []*load.Scenario{
		scenario("netpol-01", v1alpha1.DomainClusterSetup, 6, v1alpha1.CapAPI, v1alpha1.CapNetpol),
		scenario("cis-01", v1alpha1.DomainClusterSetup, 7, v1alpha1.CapControlPlaneNode),
		scenario("rbac-01", v1alpha1.DomainClusterHardening, 5, v1alpha1.CapAPI),
		scenario("apparmor-01", v1alpha1.DomainSystemHardening, 8, v1alpha1.CapAppArmor),
		scenario("psp-01", v1alpha1.DomainMicroservices, 8, v1alpha1.CapAPI),
		scenario("secrets-01", v1alpha1.DomainMicroservices, 6, v1alpha1.CapAPI, v1alpha1.CapEtcd),
		scenario("image-01", v1alpha1.DomainSupplyChain, 5, v1alpha1.CapAPI),
		scenario("audit-01", v1alpha1.DomainMonitoringRuntime, 9, v1alpha1.CapControlPlaneNode),
	}
}

func mixedResults() []checks.Result {
	return []checks.Result{
		{ID: "privileged-rejected", Objective: "A privileged pod is rejected in team-a", Status: checks.Pass, Weight: 2},
		{ID: "web-admitted", Objective: "Deployment web's pod template is admitted", Status: checks.Fail, Weight: 2,
			Message: `pods "web" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false`},
		{ID: "web-image", Objective: "Deployment web keeps its image", Status: checks.Error, Weight: 1,
			Message: "get deployments.apps team-a/web: connection refused"},
	}
}

type fakeEngine struct {
	cat         []*load.Scenario
	unsupported map[string]bool
	events      []ProgressEvent
	// block makes Start wait for ctx (to test cancel).
	block   bool
	mu      sync.Mutex
	started []string
	results []checks.Result
}

func (f *fakeEngine) Supports(s *load.Scenario) error {
	if f.unsupported[s.ID] {
		return errors.New(s.ID + " needs apparmor, which the local backend cannot provide")
	}
	return nil
}

func (f *fakeEngine) Start(ctx context.Context, id string, progress func(ProgressEvent)) (Lab, error) {
	for _, ev := range f.events {
		progress(ev)
	}
	if f.block {
		<-ctx.Done()
		progress(ProgressEvent{ID: "teardown", Title: "Tearing down", Done: true, At: t0})
		return nil, ctx.Err()
	}
	f.mu.Lock()
	f.started = append(f.started, id)
	f.mu.Unlock()
	for _, s := range f.cat {
		if s.ID == id {
			return &fakeLab{sc: s, results: f.results}, nil
		}
	}
	return nil, errors.New("no scenario " + id)
}

type fakeLab struct {
	sc      *load.Scenario
	results []checks.Result
	hints   int
	checks  int
	resets  int
	mu      sync.Mutex
}

func (l *fakeLab) Scenario() *load.Scenario { return l.sc }
func (l *fakeLab) StartedAt() time.Time     { return t0 }
func (l *fakeLab) Check(ctx context.Context) ([]checks.Result, error) {
	l.mu.Lock()
	l.checks++
	l.mu.Unlock()
	return l.results, nil
}
func (l *fakeLab) Hint(ctx context.Context) (Hint, error) {
	if l.hints >= len(l.sc.Spec.Hints) {
		return Hint{}, ErrNoMoreHints
	}
	h := l.sc.Spec.Hints[l.hints]
	l.hints++
	return Hint{Text: h.Text, Penalty: h.Penalty, Index: l.hints, Total: len(l.sc.Spec.Hints)}, nil
}
func (l *fakeLab) Solution(ctx context.Context) (string, error) {
	return "1. kubectl label ns team-a pod-security.kubernetes.io/enforce=restricted", nil
}
func (l *fakeLab) Reset(ctx context.Context, progress func(ProgressEvent)) error {
	progress(ProgressEvent{ID: "reset", Title: "Resetting", At: t0})
	l.resets++
	return nil
}
func (l *fakeLab) ShellCommand() (*exec.Cmd, error) { return exec.Command("true"), nil }
