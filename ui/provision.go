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

	"github.com/ckslab/ckslab/ui/common"
)

type (
	provisionEventMsg struct {
		id int
		ev ProgressEvent
	}
	provisionDoneMsg struct {
		id  int
		lab Lab
		err error
	}
	provisionFailedMsg struct{ err error }
)

type stepState struct {
	id, title, line string
	started, ended  time.Time
	done            bool
	err             error
}

// provisionPage starts one or more labs in turn, showing each step with a
// spinner, its elapsed time and its last output line. esc / ctrl+c cancels
// the context; the engine tears down and the page shows those steps too.
type provisionPage struct {
	c      *common.Common
	id     int
	eng    Engine
	ids    []string
	exam   bool
	ctx    context.Context
	cancel context.CancelFunc
	ch     chan tea.Msg

	cur        int
	labs       []Lab
	skipped    []skippedTask
	steps      []*stepState
	now, since time.Time
	spinner    spinner.Model
	help       help.Model
	cancelling bool
	failed     error
}

func newProvisionPage(parent context.Context, c *common.Common, eng Engine, ids []string, exam bool) *provisionPage {
	ctx, cancel := context.WithCancel(parent)
	sp := spinner.New(spinner.WithSpinner(spinner.Dot))
	sp.Style = c.Styles.Running
	now := c.Now()
	return &provisionPage{c: c, id: nextID(), eng: eng, ids: ids, exam: exam, ctx: ctx, cancel: cancel,
		spinner: sp, help: newHelp(c), now: now, since: now}
}

func (p *provisionPage) Init() tea.Cmd {
	return tea.Batch(p.startNext(), p.spinner.Tick, tick(p.id, p.c.Now))
}

// startNext runs Engine.Start for ids[cur] in a goroutine; its events and its
// result come back, in order, through one channel.
func (p *provisionPage) startNext() tea.Cmd {
	p.ch = make(chan tea.Msg, 64)
	ch, id, eng, ctx, sid := p.ch, p.id, p.eng, p.ctx, p.ids[p.cur]
	run := func() tea.Msg {
		lab, err := eng.Start(ctx, sid, func(ev ProgressEvent) { ch <- provisionEventMsg{id: id, ev: ev} })
		ch <- provisionDoneMsg{id: id, lab: lab, err: err}
		return nil
	}
	return tea.Batch(run, waitChan(ch))
}

func (p *provisionPage) ShortHelp() []key.Binding {
	if p.failed != nil {
		return []key.Binding{p.c.Keys.Back}
	}
	return []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
}
func (p *provisionPage) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p *provisionPage) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.help.Width = p.c.Width
	case tickMsg:
		if msg.id == p.id {
			p.now = msg.t
			return p, tick(p.id, p.c.Now)
		}
	case spinner.TickMsg:
		var cmd tea.Cmd
		p.spinner, cmd = p.spinner.Update(msg)
		return p, cmd
	case provisionEventMsg:
		if msg.id != p.id {
			return p, nil
		}
		p.apply(msg.ev)
		return p, waitChan(p.ch)
	case provisionDoneMsg:
		if msg.id != p.id {
			return p, nil
		}
		return p.done(msg)
	case tea.KeyMsg:
		switch {
		case p.failed != nil && (key.Matches(msg, p.c.Keys.Back) || msg.String() == "ctrl+c" || msg.String() == "enter"):
			err := p.failed
			return p, func() tea.Msg { return provisionFailedMsg{err: err} }
		case msg.String() == "esc" || msg.String() == "ctrl+c":
			if !p.cancelling {
				p.cancelling = true
				p.cancel()
			}
		}
	}
	return p, nil
}

func (p *provisionPage) done(msg provisionDoneMsg) (page, tea.Cmd) {
	for _, s := range p.steps { // a step left open ended with the run
		if !s.done {
			s.done, s.ended = true, p.now
			if msg.err != nil && s.err == nil {
				s.err = msg.err
			}
		}
	}
	if msg.err != nil {
		if p.cancelling || errors.Is(msg.err, context.Canceled) {
			return p, func() tea.Msg { return backMsg{status: "Start cancelled; what was started was torn down."} }
		}
		if !p.exam || (p.cur+1 == len(p.ids) && len(p.labs) == 0) {
			p.failed = fmt.Errorf("start %s: %w", p.ids[p.cur], msg.err)
			return p, nil
		}
		// An exam goes on without a task that cannot be seeded here; it
		// is shown as not available and is not scored.
		p.skipped = append(p.skipped, skippedTask{id: p.ids[p.cur], err: msg.err})
	} else {
		p.labs = append(p.labs, msg.lab)
	}
	if p.cur+1 < len(p.ids) {
		p.cur++
		p.steps = nil
		return p, p.startNext()
	}
	p.cancel = func() {} // the labs outlive this page; the parent context bounds them
	labs, skipped := p.labs, p.skipped
	return p, func() tea.Msg { return provisionedMsg{labs: labs, skipped: skipped} }
}

func (p *provisionPage) apply(ev ProgressEvent) {
	at := ev.At
	if at.IsZero() {
		at = p.now
	}
	if at.After(p.now) {
		p.now = at
	}
	var s *stepState
	for _, x := range p.steps {
		if x.id == ev.ID {
			s = x
		}
	}
	if s == nil {
		s = &stepState{id: ev.ID, title: ev.Title, started: at}
		p.steps = append(p.steps, s)
	}
	if ev.Title != "" {
		s.title = ev.Title
	}
	if ev.Line != "" {
		s.line = ev.Line
	}
	if ev.Done || ev.Err != nil {
		s.done, s.ended, s.err = true, at, ev.Err
	}
}

func (p *provisionPage) View() string {
	st := p.c.Styles
	w, h := p.c.Width, p.c.Height
	var title string
	if p.exam {
		title = fmt.Sprintf("Preparing exam: task %d/%d · %s", p.cur+1, len(p.ids), p.ids[p.cur])
	} else {
		title = "Starting " + p.ids[p.cur]
	}
	lines := []string{spread(w, st.Title.Render(title), st.Muted.Render(clock(p.now.Sub(p.since)))), st.Rule.Render(strings.Repeat("─", w))}
	for _, s := range p.steps {
		mark := p.spinner.View()
		end := p.now
		switch {
		case s.err != nil:
			mark, end = st.Fail.Render("✘"), s.ended
		case s.done:
			mark, end = st.Pass.Render("✔"), s.ended
		}
		name := s.title
		if name == "" {
			name = s.id
		}
		el := st.Muted.Render(shortDur(end.Sub(s.started).Truncate(100 * time.Millisecond)))
		lines = append(lines, spread(w, " "+mark+" "+name, el))
		detail := s.line
		if s.err != nil {
			detail = s.err.Error()
		}
		if detail != "" {
			lines = append(lines, st.Evidence.Render(truncate("     "+oneLine(detail), w)))
		}
	}
	if len(p.steps) == 0 {
		lines = append(lines, " "+p.spinner.View()+" preparing…")
	}
	lines = append(lines, "")
	switch {
	case p.failed != nil:
		for _, l := range wrap(p.failed.Error(), w-2) {
			lines = append(lines, st.ErrorText.Render(" "+l))
		}
		lines = append(lines, "", st.Muted.Render(" Press q to go back."))
	case p.cancelling:
		lines = append(lines, st.Hint.Render(" Cancelling: tearing down what was started…"))
	}
	body := lines
	if len(body) > h-1 { // keep the latest steps in view
		body = append(body[:2:2], body[len(body)-(h-3):]...)
	}
	return fitHeight(strings.Join(body, "\n"), h-1) + "\n" + truncate(p.help.View(p), p.c.Width)
}
