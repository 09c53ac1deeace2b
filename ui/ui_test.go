package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/progress"
)

func press(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// run executes a command and returns its messages (batches flattened,
// ticks and nil skipped).
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(200 * time.Millisecond):
		return nil // a tick or a wait: not needed by the test
	}
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, run(c)...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

func find[T any](msgs []tea.Msg) (T, bool) {
	for _, m := range msgs {
		if v, ok := m.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func newTestLab(t *testing.T) (*labPage, *fakeLab, *progress.Store) {
	t.Helper()
	c := testCommon()
	lab := &fakeLab{sc: testCatalog()[4], results: mixedResults()}
	st := progress.Open(t.TempDir())
	p := newLabPage(context.Background(), c, lab, st)
	return p, lab, st
}

func TestLabCheckAppliesResults(t *testing.T) {
	p, lab, st := newTestLab(t)
	_, cmd := p.Update(press("c"))
	if !p.panel.checking {
		t.Fatal("c should start a check")
	}
	if !strings.Contains(p.View(), "checking…") {
		t.Error("objectives should show a spinner while checking")
	}
	// A second c while checking does not start another check.
	if _, cmd2 := p.Update(press("c")); cmd2 != nil {
		t.Error("second check started while one is running")
	}
	done, ok := find[checkDoneMsg](run(cmd))
	if !ok {
		t.Fatal("check command produced no checkDoneMsg")
	}
	_, rec := p.Update(done)
	run(rec)
	if p.panel.checking || len(p.panel.results) != 3 || lab.checks != 1 {
		t.Fatalf("results not applied: checking=%v results=%d", p.panel.checking, len(p.panel.results))
	}
	v := p.View()
	for _, want := range []string{"✔ A privileged pod", "✘ Deployment web's pod template", "! Deployment web keeps", "violates PodSecurity", "connection refused", "2/5 points", "1 of 3 objectives pass"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	d, _ := st.Load()
	if r := d.Get("psp-01"); r == nil || r.Checks != 1 || r.BestScore != 2 || r.BestMax != 5 {
		t.Errorf("check not recorded: %+v", r)
	}
	// A stale result (older seq) is ignored.
	if p.panel.applyCheck(checkDoneMsg{key: p.panel.key, seq: 0}) {
		t.Error("stale result applied")
	}
}

func TestLabHintPenalty(t *testing.T) {
	p, _, st := newTestLab(t)
	for i := 0; i < 2; i++ {
		_, cmd := p.Update(press("h"))
		h, ok := find[hintMsg](run(cmd))
		if !ok {
			t.Fatal("no hintMsg")
		}
		_, rec := p.Update(h)
		run(rec)
	}
	if p.penalty != 3 || len(p.hints) != 2 {
		t.Fatalf("penalty=%d hints=%d, want 3 and 2", p.penalty, len(p.hints))
	}
	if v := p.View(); !strings.Contains(v, "hints 2/2 (−3)") || !strings.Contains(v, "Hint 2/2 (−2): The mode is enforce.") {
		t.Errorf("penalty not shown:\n%s", v)
	}
	_, cmd := p.Update(press("h"))
	h, _ := find[hintMsg](run(cmd))
	p.Update(h)
	if !p.noMoreHints || !strings.Contains(p.View(), "No more hints") {
		t.Error("exhausted hints not reported")
	}
	// Score after a check subtracts the penalty.
	p.Update(checkDoneMsg{key: p.panel.key, seq: p.panel.seq, results: []checks.Result{{ID: "privileged-rejected", Status: checks.Pass, Weight: 2}, {ID: "web-admitted", Status: checks.Pass, Weight: 2}, {ID: "web-image", Status: checks.Pass, Weight: 1}}, at: t0})
	if v := p.View(); !strings.Contains(v, "score 2/5") || !strings.Contains(v, "All objectives pass: 2/5 points (−3 for hints)") {
		t.Errorf("penalised score not shown:\n%s", v)
	}
	d, _ := st.Load()
	if r := d.Get("psp-01"); r.HintsUsed != 2 || r.Penalty != 3 {
		t.Errorf("hints not recorded: %+v", r)
	}
}

func TestLabConfirmFlows(t *testing.T) {
	p, lab, _ := newTestLab(t)
	p.Update(press("s"))
	if p.confirm != confirmSolution || !strings.Contains(p.View(), "Show the reference solution?") {
		t.Fatal("s should ask for confirmation")
	}
	p.Update(press("n"))
	if p.confirm != confirmNone || p.solution != "" {
		t.Fatal("n should cancel")
	}
	p.Update(press("s"))
	_, cmd := p.Update(press("y"))
	sol, ok := find[solutionMsg](run(cmd))
	if !ok {
		t.Fatal("y should fetch the solution")
	}
	p.Update(sol)
	if !p.showSolution || !strings.Contains(p.panel.rendered, "pod-security.kubernetes.io/enforce=restricted") {
		t.Error("solution not shown in the task pane")
	}

	p.Update(press("r"))
	if p.confirm != confirmReset {
		t.Fatal("r should ask for confirmation")
	}
	_, cmd = p.Update(press("y"))
	if !p.resetting {
		t.Fatal("y should start the reset")
	}
	msgs := run(cmd)
	for len(msgs) > 0 {
		var next []tea.Msg
		for _, m := range msgs {
			_, c := p.Update(m)
			next = append(next, run(c)...)
		}
		msgs = next
	}
	if p.resetting || lab.resets != 1 || !strings.Contains(p.View(), "Lab reset") {
		t.Errorf("reset did not complete: resetting=%v resets=%d", p.resetting, lab.resets)
	}
}

func TestLabResize(t *testing.T) {
	p, _, _ := newTestLab(t)
	p.Update(checkDoneMsg{key: p.panel.key, seq: p.panel.seq, results: mixedResults(), at: t0})
	for _, sz := range [][2]int{{80, 24}, {120, 40}, {60, 20}, {200, 50}} {
		p.c.SetSize(sz[0], sz[1])
		p.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		v := p.View()
		lines := strings.Split(v, "\n")
		if len(lines) != sz[1] {
			t.Errorf("%dx%d: %d lines", sz[0], sz[1], len(lines))
		}
		for i, l := range lines {
			if w := lipgloss.Width(l); w > sz[0] {
				t.Errorf("%dx%d: line %d is %d wide: %q", sz[0], sz[1], i, w, l)
			}
		}
		if p.panel.vp.Width != sz[0] {
			t.Errorf("viewport width %d, want %d", p.panel.vp.Width, sz[0])
		}
	}
}

func TestLabCountdown(t *testing.T) {
	p, _, _ := newTestLab(t)
	if !strings.Contains(p.View(), "⏱ 08:00 left") {
		t.Errorf("timer should start at the scenario's minutes:\n%s", p.View())
	}
	p.Update(tickMsg{id: p.id, t: t0.Add(9*time.Minute + 5*time.Second)})
	if !strings.Contains(p.View(), "⏱ +01:05 over") {
		t.Error("overtime not shown")
	}
	p.Update(tickMsg{id: p.id + 1000, t: t0})
	if !strings.Contains(p.View(), "over") {
		t.Error("a tick of another page moved the clock")
	}
}

func TestCatalogNavigationFilterAndStart(t *testing.T) {
	c := testCommon()
	eng := &fakeEngine{cat: testCatalog(), unsupported: map[string]bool{"apparmor-01": true}}
	p := newCatalogPage(c, eng, eng.cat, nil)
	if p.selected().ID != "netpol-01" {
		t.Fatalf("first selection %s", p.selected().ID)
	}
	p.Update(press("down"))
	p.Update(press("down"))
	if p.selected().ID != "rbac-01" {
		t.Errorf("down should skip domain headers: %s", p.selected().ID)
	}
	p.Update(press("/"))
	for _, r := range "audit" {
		p.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	p.Update(press("enter"))
	if p.selected() == nil || p.selected().ID != "audit-01" || len(p.rows) != 2 {
		t.Fatalf("filter: selected %v rows %d", p.selected(), len(p.rows))
	}
	_, cmd := p.Update(press("enter"))
	if m, ok := find[openScenarioMsg](run(cmd)); !ok || m.id != "audit-01" {
		t.Fatalf("enter should open the scenario, got %v", run(cmd))
	}
	p.Update(press("esc"))
	if len(p.rows) != len(eng.cat)+6 {
		t.Errorf("esc should clear the filter: %d rows", len(p.rows))
	}
	// An unsupported scenario explains why instead of starting.
	p.filter.SetValue("apparmor")
	p.rebuild()
	_, cmd = p.Update(press("enter"))
	if cmd != nil || !strings.Contains(p.View(), "needs apparmor") {
		t.Errorf("unsupported scenario should not start:\n%s", p.View())
	}
}

func TestProvisionCancelShowsTeardown(t *testing.T) {
	c := testCommon()
	eng := &fakeEngine{cat: testCatalog(), block: true, events: []ProgressEvent{{ID: "cluster", Title: "Cluster ckslab (local)", At: t0}}}
	p := newProvisionPage(context.Background(), c, eng, []string{"psp-01"}, false)
	init := p.startNext()
	for _, m := range run(init) {
		p.Update(m)
	}
	p.Update(press("esc"))
	if !p.cancelling || !strings.Contains(p.View(), "tearing down") {
		t.Fatalf("esc should cancel:\n%s", p.View())
	}
	// Drain: teardown event then done → back to the catalog.
	var back bool
	msgs := []tea.Msg{<-p.ch}
	for i := 0; i < 5 && !back && len(msgs) > 0; i++ {
		var next []tea.Msg
		for _, m := range msgs {
			if _, ok := m.(backMsg); ok {
				back = true
				continue
			}
			_, cmd := p.Update(m)
			next = append(next, run(cmd)...)
		}
		msgs = next
	}
	if !back {
		t.Fatal("cancelled start should go back")
	}
	if !strings.Contains(p.View(), "Tearing down") {
		t.Errorf("teardown step not shown:\n%s", p.View())
	}
}

func TestExamNavigation(t *testing.T) {
	c := testCommon()
	cat := testCatalog()
	labs := []Lab{&fakeLab{sc: cat[0]}, &fakeLab{sc: cat[2]}, &fakeLab{sc: cat[4]}}
	p := newExamPage(context.Background(), c, labs, minutePlan(labs, 30), nil)
	p.Update(press("n"))
	p.Update(press("n"))
	if p.cur != 2 {
		t.Fatalf("cur = %d", p.cur)
	}
	p.Update(press("n"))
	if p.cur != 0 {
		t.Error("n should wrap")
	}
	p.Update(press("p"))
	p.Update(press("f"))
	if !p.flagged[2] || !strings.Contains(p.View(), "⚑ flagged") {
		t.Error("f should flag the task")
	}
	p.Update(press("l"))
	p.Update(press("up"))
	p.Update(press("enter"))
	if p.cur != 1 || p.listOpen {
		t.Errorf("list navigation: cur=%d open=%v", p.cur, p.listOpen)
	}
	p.Update(press("E"))
	if p.confirm != confirmEndExam || !strings.Contains(p.View(), "1 task(s) flagged") {
		t.Fatalf("E should confirm:\n%s", p.View())
	}
	_, cmd := p.Update(press("y"))
	if !p.ending {
		t.Fatal("y should end the exam")
	}
	var ended *examEndedMsg
	for i := 0; i < 10 && ended == nil; i++ {
		msgs := run(cmd)
		cmd = nil
		for _, m := range msgs {
			if e, ok := m.(examEndedMsg); ok {
				ended = &e
				continue
			}
			_, c := p.Update(m)
			cmd = tea.Batch(cmd, c)
		}
	}
	if ended == nil || len(ended.result.Tasks) != 3 || !ended.result.Tasks[2].Flagged {
		t.Fatalf("exam did not end with 3 scored tasks: %+v", ended)
	}
}

func TestExamViewFitsTheScreen(t *testing.T) {
	c := testCommon()
	cat := testCatalog()
	labs := []Lab{&fakeLab{sc: cat[0]}, &fakeLab{sc: cat[2]}, &fakeLab{sc: cat[4]}}
	p := newExamPage(context.Background(), c, labs, minutePlan(labs, 30), nil)
	for _, sz := range [][2]int{{80, 24}, {140, 45}, {100, 60}} {
		c.SetSize(sz[0], sz[1]) // the root model sizes Common first
		p.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		p.listOpen = false
		if n := strings.Count(p.View(), "\n") + 1; n != sz[1] {
			t.Errorf("%dx%d task view: %d lines", sz[0], sz[1], n)
		}
		p.Update(press("l"))
		v := p.View()
		if n := strings.Count(v, "\n") + 1; n != sz[1] {
			t.Errorf("%dx%d task list: %d lines", sz[0], sz[1], n)
		}
		if !strings.HasPrefix(v, "Exam · task") || !strings.Contains(v, "Tasks") {
			t.Errorf("%dx%d task list lost its header:\n%s", sz[0], sz[1], v)
		}
		p.Update(press("esc"))
	}
}

func TestExamTimeUpEndsExam(t *testing.T) {
	c := testCommon()
	p := newExamPage(context.Background(), c, []Lab{&fakeLab{sc: testCatalog()[0]}}, minutePlan([]Lab{&fakeLab{sc: testCatalog()[0]}}, 1), nil)
	p.Update(tickMsg{id: p.id, t: t0.Add(61 * time.Second)})
	if !p.ending || !strings.Contains(p.View(), "Checking task 1 of 1") {
		t.Errorf("time up should end the exam:\n%s", p.View())
	}
}

// minutePlan is the plan of a drawn exam over labs (weights by minutes).
func minutePlan(labs []Lab, minutes int) exam.Plan {
	var ss []*load.Scenario
	for _, l := range labs {
		ss = append(ss, l.Scenario())
	}
	return exam.Plan{Scenarios: ss, Weights: exam.MinuteWeights(ss), Minutes: minutes}
}
