package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/progress"
	"github.com/ckslab/ckslab/ui/common"
)

type confirmKind int

const (
	confirmNone confirmKind = iota
	confirmSolution
	confirmReset
	confirmEndExam
)

// Lab page messages.
type (
	hintMsg struct {
		key  int
		hint Hint
		err  error
	}
	solutionMsg struct {
		key  int
		text string
		err  error
	}
	resetProgressMsg struct {
		key int
		ev  ProgressEvent
		ch  chan tea.Msg
	}
	resetDoneMsg struct {
		key int
		err error
	}
	shellDoneMsg struct {
		key int
		err error
	}
)

// labPage is one scenario being worked on: task, countdown, objectives.
type labPage struct {
	c     *common.Common
	ctx   context.Context
	id    int
	panel *taskPanel
	store *progress.Store
	help  help.Model

	now, deadline time.Time
	hints         []Hint
	penalty       int
	noMoreHints   bool
	solution      string
	showSolution  bool
	confirm       confirmKind
	resetting     bool
	resetLine     string
	status        string
	statusErr     bool
}

func newLabPage(ctx context.Context, c *common.Common, lab Lab, store *progress.Store) *labPage {
	p := &labPage{c: c, ctx: ctx, id: nextID(), panel: newTaskPanel(c, lab), store: store, help: newHelp(c)}
	start := lab.StartedAt()
	if start.IsZero() {
		start = c.Now()
	}
	p.now = c.Now()
	p.deadline = start.Add(time.Duration(lab.Scenario().Spec.Minutes) * time.Minute)
	p.layout()
	return p
}

func newHelp(c *common.Common) help.Model {
	h := help.New()
	h.Styles.ShortKey = c.Styles.HelpKey
	h.Styles.ShortDesc = c.Styles.HelpDesc
	h.Styles.ShortSeparator = c.Styles.HelpSep
	h.Styles.FullKey = c.Styles.HelpKey
	h.Styles.FullDesc = c.Styles.HelpDesc
	h.Styles.FullSeparator = c.Styles.HelpSep
	h.Styles.Ellipsis = c.Styles.HelpSep
	return h
}

func (p *labPage) Init() tea.Cmd {
	id := p.panel.sc.ID
	start := p.deadline.Add(-time.Duration(p.panel.sc.Spec.Minutes) * time.Minute)
	var rec tea.Cmd
	if p.store != nil {
		rec = record(func() error { return p.store.StartAttempt(id, start) })
	}
	return tea.Batch(tick(p.id, p.c.Now), rec)
}

// Fixed rows: header, subtitle, rule, rule, status, help.
const labChromeRows = 6

func (p *labPage) layout() {
	w, h := p.c.Width, p.c.Height
	objH := min(p.panel.objectivesHeight(), max(h/2-1, 3))
	p.panel.setSize(w, h-labChromeRows-objH)
	p.help.Width = w
}

func (p *labPage) ShortHelp() []key.Binding {
	k := p.c.Keys
	if p.confirm != confirmNone {
		return []key.Binding{k.Yes, k.No}
	}
	return []key.Binding{k.Check, k.Hint, k.Solution, k.Reset, k.Shell, k.Up, k.Down, k.Back}
}

func (p *labPage) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p *labPage) Update(msg tea.Msg) (page, tea.Cmd) {
	k := p.c.Keys
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.layout()
		return p, nil
	case tickMsg:
		if msg.id != p.id {
			return p, nil
		}
		p.now = msg.t
		return p, tick(p.id, p.c.Now)
	case spinner.TickMsg:
		return p, p.panel.updateSpinner(msg)
	case checkDoneMsg:
		if !p.panel.applyCheck(msg) {
			return p, nil
		}
		p.layout()
		if msg.err != nil {
			p.setStatus("check failed: "+oneLine(msg.err.Error()), true)
			return p, nil
		}
		s := p.panel.summary()
		if s.AllPassed() {
			p.setStatus(fmt.Sprintf("All objectives pass: %d/%d points%s. Well done!", max(s.Score-p.penalty, 0), s.Max, p.penaltyNote()), false)
		} else if len(s.BrokenGuards) > 0 {
			p.setStatus(fmt.Sprintf("%d of %d objectives pass, but guard %s is broken: what it protects scores 0. Repair it and press c again.",
				s.Passed, len(msg.results), strings.Join(s.BrokenGuards, ", ")), false)
		} else {
			p.setStatus(fmt.Sprintf("%d of %d objectives pass. Fix the rest and press c again.", s.Passed, len(msg.results)), false)
		}
		return p, p.recordCheck(s, msg.at)
	case hintMsg:
		if msg.key != p.panel.key {
			return p, nil
		}
		if errors.Is(msg.err, ErrNoMoreHints) {
			p.noMoreHints = true
			p.setStatus("No more hints for this scenario.", false)
			return p, nil
		}
		if msg.err != nil {
			p.setStatus("hint: "+oneLine(msg.err.Error()), true)
			return p, nil
		}
		p.hints = append(p.hints, msg.hint)
		p.penalty += msg.hint.Penalty
		p.setStatus(fmt.Sprintf("Hint %d/%d (−%d): %s", msg.hint.Index, msg.hint.Total, msg.hint.Penalty, oneLine(msg.hint.Text)), false)
		p.refreshExtra()
		id, pen, at := p.panel.sc.ID, msg.hint.Penalty, p.now
		return p, p.rec(func(s *progress.Store) error { return s.RecordHint(id, pen, at) })
	case solutionMsg:
		if msg.key != p.panel.key {
			return p, nil
		}
		if msg.err != nil {
			p.setStatus("solution: "+oneLine(msg.err.Error()), true)
			return p, nil
		}
		p.solution, p.showSolution = msg.text, true
		p.refreshExtra()
		p.panel.vp.GotoBottom()
		p.setStatus("The reference solution is at the end of the task (recorded in your progress).", false)
		id, at := p.panel.sc.ID, p.now
		return p, p.rec(func(s *progress.Store) error { return s.RecordSolution(id, at) })
	case resetProgressMsg:
		if msg.key != p.panel.key {
			return p, nil
		}
		p.resetLine = progressLine(msg.ev)
		return p, waitChan(msg.ch)
	case resetDoneMsg:
		if msg.key != p.panel.key {
			return p, nil
		}
		p.resetting = false
		if msg.err != nil {
			p.setStatus("reset failed: "+oneLine(msg.err.Error()), true)
			return p, nil
		}
		p.panel.results, p.panel.checkErr = nil, nil
		p.layout()
		p.setStatus("Lab reset to its seeded state.", false)
		return p, nil
	case shellDoneMsg:
		if msg.key != p.panel.key {
			return p, nil
		}
		if msg.err != nil {
			p.setStatus("shell: "+oneLine(msg.err.Error()), true)
		} else {
			p.setStatus("Back from the shell. Press c to check your fix.", false)
		}
		return p, nil
	case tea.KeyMsg:
		return p.handleKey(msg, k)
	}
	return p, nil
}

func (p *labPage) handleKey(msg tea.KeyMsg, k *common.KeyMap) (page, tea.Cmd) {
	if p.confirm != confirmNone {
		switch {
		case key.Matches(msg, k.Yes):
			c := p.confirm
			p.confirm = confirmNone
			p.status = ""
			switch c {
			case confirmSolution:
				return p, p.fetchSolution()
			case confirmReset:
				return p, p.startReset()
			}
		case key.Matches(msg, k.No), key.Matches(msg, k.Back):
			p.confirm = confirmNone
			p.setStatus("Cancelled.", false)
		}
		return p, nil
	}
	switch {
	case key.Matches(msg, k.Check):
		if p.resetting {
			p.setStatus("Wait for the reset to finish.", false)
			return p, nil
		}
		if p.panel.checking {
			p.setStatus("A check is already running.", false)
			return p, nil
		}
		p.status = ""
		return p, p.panel.startCheck(p.ctx)
	case key.Matches(msg, k.Hint):
		if p.noMoreHints {
			p.setStatus("No more hints for this scenario.", false)
			return p, nil
		}
		lab, key := p.panel.lab, p.panel.key
		return p, func() tea.Msg {
			h, err := lab.Hint(p.ctx)
			return hintMsg{key: key, hint: h, err: err}
		}
	case key.Matches(msg, k.Solution):
		if p.solution != "" {
			p.showSolution = !p.showSolution
			p.refreshExtra()
			if p.showSolution {
				p.panel.vp.GotoBottom()
			}
			return p, nil
		}
		p.confirm = confirmSolution
		return p, nil
	case key.Matches(msg, k.Reset):
		if p.resetting || p.panel.checking {
			p.setStatus("Wait for the running operation to finish.", false)
			return p, nil
		}
		p.confirm = confirmReset
		return p, nil
	case key.Matches(msg, k.Shell):
		cmd, err := p.panel.lab.ShellCommand()
		if err != nil {
			p.setStatus("shell: "+oneLine(err.Error()), true)
			return p, nil
		}
		key := p.panel.key
		return p, tea.ExecProcess(cmd, func(err error) tea.Msg { return shellDoneMsg{key: key, err: err} })
	case key.Matches(msg, k.Back):
		return p, func() tea.Msg { return backMsg{} }
	}
	var cmd tea.Cmd
	p.panel.vp, cmd = p.panel.vp.Update(msg)
	return p, cmd
}

func (p *labPage) fetchSolution() tea.Cmd {
	lab, key, ctx := p.panel.lab, p.panel.key, p.ctx
	p.setStatus("Fetching the solution…", false)
	return func() tea.Msg {
		s, err := lab.Solution(ctx)
		return solutionMsg{key: key, text: s, err: err}
	}
}

func (p *labPage) startReset() tea.Cmd {
	p.resetting = true
	p.resetLine = "resetting…"
	lab, key, ctx := p.panel.lab, p.panel.key, p.ctx
	ch := make(chan tea.Msg, 16)
	run := func() tea.Msg {
		err := lab.Reset(ctx, func(ev ProgressEvent) { ch <- resetProgressMsg{key: key, ev: ev, ch: ch} })
		ch <- resetDoneMsg{key: key, err: err}
		return nil
	}
	return tea.Batch(run, waitChan(ch), p.panel.spinner.Tick)
}

// waitChan delivers the next message of a channel-fed operation.
func waitChan(ch chan tea.Msg) tea.Cmd { return func() tea.Msg { return <-ch } }

func progressLine(ev ProgressEvent) string {
	s := ev.Title
	if s == "" {
		s = ev.ID
	}
	if ev.Line != "" {
		s += ": " + ev.Line
	}
	return s
}

func (p *labPage) refreshExtra() {
	var b strings.Builder
	if len(p.hints) > 0 {
		b.WriteString("## Hints\n\n")
		for _, h := range p.hints {
			fmt.Fprintf(&b, "%d. %s *(−%d)*\n", h.Index, oneLine(h.Text), h.Penalty)
		}
	}
	if p.showSolution && p.solution != "" {
		b.WriteString("\n## Solution\n\n" + p.solution + "\n")
	}
	p.panel.setExtra(b.String())
}

func (p *labPage) penaltyNote() string {
	if p.penalty == 0 {
		return ""
	}
	return fmt.Sprintf(" (−%d for hints)", p.penalty)
}

func (p *labPage) recordCheck(s checks.Summary, at time.Time) tea.Cmd {
	id := p.panel.sc.ID
	c := progress.Check{Score: s.Score, Max: s.Max, Passed: s.AllPassed(), At: at}
	return p.rec(func(st *progress.Store) error { return st.RecordCheck(id, c) })
}

func (p *labPage) rec(fn func(*progress.Store) error) tea.Cmd {
	if p.store == nil {
		return nil
	}
	st := p.store
	return record(func() error { return fn(st) })
}

func (p *labPage) setStatus(s string, isErr bool) { p.status, p.statusErr = s, isErr }

func (p *labPage) View() string {
	st := p.c.Styles
	w := p.c.Width
	sc := p.panel.sc
	left := st.Title.Render(sc.ID) + " " + sc.Spec.Title
	header := spread(w, left, timerView(st, p.deadline.Sub(p.now)))
	score := ""
	if p.panel.results != nil {
		s := p.panel.summary()
		score = fmt.Sprintf(" · score %d/%d", max(s.Score-p.penalty, 0), s.Max)
	}
	hints := fmt.Sprintf(" · hints %d/%d", len(p.hints), len(sc.Spec.Hints))
	if p.penalty > 0 {
		hints += fmt.Sprintf(" (−%d)", p.penalty)
	}
	sub := st.Subtitle.Render(truncate(fmt.Sprintf("%s · %s · %d min%s%s", shortDomain(string(sc.Spec.Domain)), sc.Spec.Difficulty, sc.Spec.Minutes, hints, score), w))
	rule := st.Rule.Render(strings.Repeat("─", w))

	objH := min(p.panel.objectivesHeight(), max(p.c.Height/2-1, 3))
	body := []string{header, sub, rule, fitHeight(p.panel.vp.View(), p.panel.vp.Height), rule, fitHeight(p.panel.objectivesView(w, objH), objH)}
	body = append(body, p.statusView(w), truncate(p.help.View(p), p.c.Width))
	return strings.Join(body, "\n")
}

func (p *labPage) statusView(w int) string {
	st := p.c.Styles
	switch {
	case p.confirm == confirmSolution:
		return st.Hint.Render(truncate("Show the reference solution? It is recorded in your progress. [y/n]", w))
	case p.confirm == confirmReset:
		return st.Hint.Render(truncate("Reset the lab to its seeded state? Your changes are lost. [y/n]", w))
	case p.resetting:
		return truncate(p.panel.spinner.View()+" "+p.resetLine, w)
	case p.statusErr:
		return st.ErrorText.Render(truncate(p.status, w))
	case strings.HasPrefix(p.status, "Hint"):
		return st.Hint.Render(truncate(p.status, w))
	}
	return st.StatusBar.Render(truncate(p.status, w))
}

// timerView is the countdown; amber under 20% of… simply under 2 minutes, red when over.
func timerView(st *common.Styles, left time.Duration) string {
	switch {
	case left < 0:
		return st.TimerOver.Render("⏱ +" + clock(-left) + " over")
	case left < 2*time.Minute:
		return st.TimerLow.Render("⏱ " + clock(left) + " left")
	}
	return st.Timer.Render("⏱ " + clock(left) + " left")
}
