package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/progress"
	"github.com/ckslab/ckslab/ui/common"
)

type endCheckMsg struct {
	id, i   int
	results []checks.Result
	err     error
}

// examPage is a timed session over several seeded labs: free navigation,
// flags, checks at any time, and scoring at the end.
type examPage struct {
	c       *common.Common
	ctx     context.Context
	id      int
	plan    exam.Plan
	store   *progress.Store
	panels  []*taskPanel
	flagged []bool
	cur     int
	help    help.Model

	started, deadline, now time.Time
	listOpen               bool
	listCursor             int
	confirm                confirmKind
	ending                 bool
	endIndex               int
	endResults             []exam.TaskOutcome
	endSpinner             spinner.Model
	status                 string
	statusErr              bool
}

func newExamPage(ctx context.Context, c *common.Common, labs []Lab, plan exam.Plan, store *progress.Store) *examPage {
	sp := spinner.New(spinner.WithSpinner(spinner.Dot))
	sp.Style = c.Styles.Running
	now := c.Now()
	p := &examPage{c: c, ctx: ctx, id: nextID(), plan: plan, store: store, help: newHelp(c), started: now, now: now,
		deadline: now.Add(time.Duration(plan.Minutes) * time.Minute), flagged: make([]bool, len(labs)), endSpinner: sp}
	for _, l := range labs {
		p.panels = append(p.panels, newTaskPanel(c, l))
	}
	if n := len(plan.Unavailable); n > 0 {
		var ids []string
		for _, u := range plan.Unavailable {
			ids = append(ids, u.ID)
		}
		p.setStatus(fmt.Sprintf("%d task(s) not available here, not scored: %s (reasons in the results)", n, strings.Join(ids, ", ")), false)
	}
	p.layout()
	return p
}

func (p *examPage) Init() tea.Cmd { return tick(p.id, p.c.Now) }

// Fixed rows: header, strip, subtitle, rule, rule, status, help.
const examChromeRows = 7

func (p *examPage) layout() {
	w, h := p.c.Width, p.c.Height
	for _, panel := range p.panels {
		objH := min(panel.objectivesHeight(), max(h/2-2, 3))
		panel.setSize(w, h-examChromeRows-objH)
	}
	p.help.Width = w
}

func (p *examPage) panel() *taskPanel { return p.panels[p.cur] }

func (p *examPage) ShortHelp() []key.Binding {
	k := p.c.Keys
	switch {
	case p.confirm != confirmNone:
		return []key.Binding{k.Yes, k.No}
	case p.listOpen:
		return []key.Binding{k.Up, k.Down, key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close"))}
	}
	return []key.Binding{k.Check, k.Next, k.Prev, k.List, k.Flag, k.Shell, k.EndExam}
}
func (p *examPage) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p *examPage) setStatus(s string, isErr bool) { p.status, p.statusErr = s, isErr }

func (p *examPage) Update(msg tea.Msg) (page, tea.Cmd) {
	k := p.c.Keys
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.layout()
	case tickMsg:
		if msg.id != p.id {
			return p, nil
		}
		p.now = msg.t
		if !p.ending && !p.now.Before(p.deadline) {
			p.setStatus("Time is up.", false)
			return p, p.end()
		}
		return p, tick(p.id, p.c.Now)
	case spinner.TickMsg:
		if p.ending {
			var cmd tea.Cmd
			p.endSpinner, cmd = p.endSpinner.Update(msg)
			return p, cmd
		}
		var cmds []tea.Cmd
		for _, panel := range p.panels {
			cmds = append(cmds, panel.updateSpinner(msg))
		}
		return p, tea.Batch(cmds...)
	case checkDoneMsg:
		for i, panel := range p.panels {
			if panel.applyCheck(msg) {
				p.layout()
				if msg.err != nil {
					p.setStatus(fmt.Sprintf("task %d: check failed: %s", i+1, oneLine(msg.err.Error())), true)
				} else {
					s := panel.summary()
					p.setStatus(fmt.Sprintf("Task %d: %d/%d points.", i+1, s.Score, s.Max), false)
				}
			}
		}
		return p, nil
	case endCheckMsg:
		if msg.id != p.id {
			return p, nil
		}
		p.endResults = append(p.endResults, exam.TaskOutcome{Scenario: p.panels[msg.i].sc, Results: msg.results, Err: msg.err, Flagged: p.flagged[msg.i]})
		if msg.i+1 < len(p.panels) {
			p.endIndex = msg.i + 1
			return p, p.endCheck(msg.i + 1)
		}
		ex := exam.Score(p.plan, p.endResults, p.started, p.now)
		var rec tea.Cmd
		if p.store != nil {
			st := p.store
			rec = record(func() error { return st.RecordExam(ex) })
		}
		return p, tea.Batch(rec, func() tea.Msg { return examEndedMsg{result: ex} })
	case shellDoneMsg:
		if msg.err != nil {
			p.setStatus("shell: "+oneLine(msg.err.Error()), true)
		} else {
			p.setStatus("Back from the shell.", false)
		}
	case tea.KeyMsg:
		if p.ending {
			return p, nil
		}
		return p.handleKey(msg, k)
	}
	return p, nil
}

func (p *examPage) handleKey(msg tea.KeyMsg, k *common.KeyMap) (page, tea.Cmd) {
	if p.confirm != confirmNone {
		switch {
		case key.Matches(msg, k.Yes):
			p.confirm = confirmNone
			return p, p.end()
		case key.Matches(msg, k.No), msg.String() == "q":
			p.confirm = confirmNone
			p.setStatus("The exam goes on.", false)
		}
		return p, nil
	}
	if p.listOpen {
		switch {
		case key.Matches(msg, k.Up):
			p.listCursor = max(p.listCursor-1, 0)
		case key.Matches(msg, k.Down):
			p.listCursor = min(p.listCursor+1, len(p.panels)-1)
		case msg.String() == "enter":
			p.cur, p.listOpen = p.listCursor, false
		case msg.String() == "esc", key.Matches(msg, k.List), msg.String() == "q":
			p.listOpen = false
		}
		return p, nil
	}
	switch {
	case key.Matches(msg, k.Check):
		if p.panel().checking {
			p.setStatus("A check is already running for this task.", false)
			return p, nil
		}
		p.status = ""
		return p, p.panel().startCheck(p.ctx)
	case key.Matches(msg, k.Next):
		p.cur = (p.cur + 1) % len(p.panels)
	case key.Matches(msg, k.Prev):
		p.cur = (p.cur - 1 + len(p.panels)) % len(p.panels)
	case key.Matches(msg, k.Flag):
		p.flagged[p.cur] = !p.flagged[p.cur]
	case key.Matches(msg, k.List):
		p.listOpen, p.listCursor = true, p.cur
	case key.Matches(msg, k.Shell):
		cmd, err := p.panel().lab.ShellCommand()
		if err != nil {
			p.setStatus("shell: "+oneLine(err.Error()), true)
			return p, nil
		}
		key := p.panel().key
		return p, tea.ExecProcess(cmd, func(err error) tea.Msg { return shellDoneMsg{key: key, err: err} })
	case key.Matches(msg, k.EndExam), msg.String() == "q":
		p.confirm = confirmEndExam
	case msg.String() >= "1" && msg.String() <= "9" && len(msg.String()) == 1:
		if i := int(msg.String()[0] - '1'); i < len(p.panels) {
			p.cur = i
		}
	default:
		var cmd tea.Cmd
		p.panel().vp, cmd = p.panel().vp.Update(msg)
		return p, cmd
	}
	return p, nil
}

// end checks every task once more, in order, then scores the exam.
func (p *examPage) end() tea.Cmd {
	if p.ending {
		return nil
	}
	p.ending = true
	p.endResults = nil
	p.endIndex = 0
	return tea.Batch(p.endCheck(0), p.endSpinner.Tick)
}

func (p *examPage) endCheck(i int) tea.Cmd {
	lab, id, ctx := p.panels[i].lab, p.id, p.ctx
	return func() tea.Msg {
		rs, err := lab.Check(ctx)
		return endCheckMsg{id: id, i: i, results: rs, err: err}
	}
}

func (p *examPage) taskMark(i int) string {
	st := p.c.Styles
	panel := p.panels[i]
	n := fmt.Sprint(i + 1)
	switch {
	case panel.checking:
		n += "…"
	case panel.results != nil:
		s := panel.summary()
		if s.AllPassed() {
			n = st.Pass.Render(n + "✔")
		} else if s.Score > 0 {
			n = st.Error.Render(n + "◐")
		} else {
			n = st.Fail.Render(n + "✘")
		}
	}
	if p.flagged[i] {
		n += st.Hint.Render("⚑")
	}
	if i == p.cur {
		n = st.Selected.Render("[") + n + st.Selected.Render("]")
	} else {
		n = " " + n + " "
	}
	return n
}

func (p *examPage) View() string {
	st := p.c.Styles
	w, h := p.c.Width, p.c.Height
	panel := p.panel()
	sc := panel.sc
	flag := ""
	if p.flagged[p.cur] {
		flag = " " + st.Hint.Render("⚑ flagged")
	}
	name := "Exam"
	if p.plan.Mock != "" {
		name = "Mock exam " + strings.TrimPrefix(p.plan.Mock, "mock-")
	}
	header := spread(w, st.Title.Render(fmt.Sprintf("%s · task %d/%d", name, p.cur+1, len(p.panels)))+" "+sc.Spec.Title+flag, timerView(st, p.deadline.Sub(p.now)))
	var strip []string
	for i := range p.panels {
		strip = append(strip, p.taskMark(i))
	}
	weight := p.plan.Weight(p.cur)
	sub := st.Subtitle.Render(truncate(fmt.Sprintf("%s · %s · %s · weight %.0f%%", sc.ID, v1alpha1.DomainTitle(sc.Spec.Domain), sc.Spec.Difficulty, weight), w))
	rule := st.Rule.Render(strings.Repeat("─", w))
	lines := []string{header, truncate(strings.Join(strip, ""), w), sub, rule}

	objH := min(panel.objectivesHeight(), max(h/2-2, 3))
	// The list and the ending screen take the task view's rows: viewport,
	// rule and objectives.
	bodyH := h - examChromeRows + 1
	switch {
	case p.ending:
		body := fmt.Sprintf(" %s Checking task %d of %d…", p.endSpinner.View(), p.endIndex+1, len(p.panels))
		lines = append(lines, fitHeight("\n"+body, bodyH))
	case p.listOpen:
		lines = append(lines, fitHeight(p.listView(w, bodyH), bodyH))
	default:
		lines = append(lines, fitHeight(panel.vp.View(), panel.vp.Height), rule, fitHeight(panel.objectivesView(w, objH), objH))
	}
	status := st.StatusBar.Render(truncate(p.status, w))
	switch {
	case p.confirm == confirmEndExam:
		flagged := 0
		for _, f := range p.flagged {
			if f {
				flagged++
			}
		}
		status = st.Hint.Render(truncate(fmt.Sprintf("End the exam now and score it? (%d task(s) flagged for review) [y/n]", flagged), w))
	case p.statusErr:
		status = st.ErrorText.Render(truncate(p.status, w))
	}
	lines = append(lines, status, truncate(p.help.View(p), p.c.Width))
	return strings.Join(lines, "\n")
}

func (p *examPage) listView(w, h int) string {
	st := p.c.Styles
	lines := []string{st.Header.Render("Tasks")}
	start := max(0, min(p.listCursor-(h-2), len(p.panels)-(h-1)))
	for i := start; i < len(p.panels) && len(lines) < h; i++ {
		x := p.panels[i]
		cursor := "  "
		if i == p.listCursor {
			cursor = st.Cursor.Render("▸ ")
		}
		state := st.Muted.Render("not checked")
		if x.results != nil {
			s := x.summary()
			state = fmt.Sprintf("%d/%d", s.Score, s.Max)
		}
		if p.flagged[i] {
			state = st.Hint.Render("⚑ ") + state
		}
		lines = append(lines, spread(w, fmt.Sprintf("%s%2d %s", cursor, i+1, x.sc.Spec.Title), state))
	}
	return strings.Join(lines, "\n")
}
