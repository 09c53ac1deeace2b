package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/progress"
)

// Golden views at 80x24 with the ascii profile and a fixed clock.
// Rewrite them with: go test ./ui -run Golden -update

func startProgram(t *testing.T, m tea.Model) *teatest.TestModel {
	t.Helper()
	lipgloss.SetColorProfile(termenv.Ascii)
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
}

func waitFor(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), s) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func finalView(t *testing.T, tm *teatest.TestModel) []byte {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	return []byte(tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View())
}

func TestGoldenCatalog(t *testing.T) {
	st := progress.Open(t.TempDir())
	_ = st.StartAttempt("rbac-01", t0)
	_ = st.RecordCheck("rbac-01", progress.Check{Score: 3, Max: 3, Passed: true, At: t0.Add(4 * time.Minute)})
	_ = st.StartAttempt("psp-01", t0)
	_ = st.RecordCheck("psp-01", progress.Check{Score: 2, Max: 5, At: t0.Add(6 * time.Minute)})
	eng := &fakeEngine{cat: testCatalog(), unsupported: map[string]bool{"apparmor-01": true}}
	m := New(context.Background(), Options{Common: testCommon(), Engine: eng, Catalog: eng.cat, Store: st, OnlyBackend: kindOnlyForTest})
	tm := startProgram(t, m)
	waitFor(t, tm, "1 attempted")
	for range 4 {
		tm.Send(press("down"))
	}
	waitFor(t, tm, "best 2/5")
	golden.RequireEqual(t, finalView(t, tm))
}

func TestGoldenLabMixedResults(t *testing.T) {
	eng := &fakeEngine{cat: testCatalog(), results: mixedResults()}
	m := New(context.Background(), Options{Common: testCommon(), Engine: eng, Catalog: eng.cat, StartID: "psp-01"})
	tm := startProgram(t, m)
	waitFor(t, tm, "press c to check")
	tm.Send(press("h"))
	waitFor(t, tm, "Hint 1/2")
	tm.Send(press("c"))
	waitFor(t, tm, "objectives pass")
	golden.RequireEqual(t, finalView(t, tm))
}

func TestGoldenProvisioning(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	eng := &fakeEngine{cat: testCatalog(), block: true, events: []ProgressEvent{
		{ID: "cluster", Title: "Cluster ckslab (local)", At: at(0)},
		{ID: "cluster/binaries", Title: "Kubernetes binaries", Line: "found in ~/.cache/ckslab/bin", At: at(0)},
		{ID: "cluster/binaries", Title: "Kubernetes binaries", Done: true, At: at(1)},
		{ID: "cluster/etcd", Title: "etcd", Line: "listening on 127.0.0.1:23790", Done: true, At: at(3)},
		{ID: "cluster/apiserver", Title: "kube-apiserver", Line: "waiting for /readyz (etcd ok, rbac ok)", At: at(3)},
	}}
	m := New(context.Background(), Options{Common: testCommon(), Engine: eng, Catalog: eng.cat, StartID: "psp-01"})
	tm := startProgram(t, m)
	waitFor(t, tm, "waiting for /readyz")
	v := finalView(t, tm)
	// The spinner frame depends on timing; normalise it.
	golden.RequireEqual(t, []byte(normaliseSpinner(string(v))))
}

func normaliseSpinner(s string) string {
	for _, f := range []string{"⣾", "⣽", "⣻", "⢿", "⡿", "⣟", "⣯", "⣷"} {
		s = strings.ReplaceAll(s, f, "*")
	}
	return s
}

func TestGoldenExamResults(t *testing.T) {
	cat := testCatalog()
	pass := []checks.Result{{Status: checks.Pass, Weight: 2}, {Status: checks.Pass, Weight: 1}}
	half := []checks.Result{{Status: checks.Pass, Weight: 2}, {Status: checks.Fail, Weight: 2}}
	fail := []checks.Result{{Status: checks.Fail, Weight: 1}}
	tasks := []exam.TaskOutcome{
		{Scenario: cat[0], Results: pass}, {Scenario: cat[2], Results: half, Flagged: true}, {Scenario: cat[4], Results: pass},
		{Scenario: cat[5], Results: fail}, {Scenario: cat[6], Results: pass}, {Scenario: cat[7], Results: half},
	}
	var ss []*load.Scenario
	for _, t := range tasks {
		ss = append(ss, t.Scenario)
	}
	ex := exam.Score(exam.Plan{Scenarios: ss, Weights: exam.MinuteWeights(ss), Minutes: 60, Seed: 42}, tasks, t0, t0.Add(47*time.Minute+12*time.Second))
	c := testCommon()
	p := newResultsPage(c, ex)
	p.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	golden.RequireEqual(t, []byte(p.View()))
}
