package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/ui/common"
)

// taskPanel shows one scenario: its task (markdown, scrollable) and its
// objectives with the latest check results. The lab page and each exam task
// own one.
type taskPanel struct {
	c   *common.Common
	key int
	sc  *load.Scenario
	lab Lab

	vp        viewport.Model
	extra     string // markdown appended to the task (revealed hints, solution)
	renderedW int
	rendered  string

	results   []checks.Result
	checkErr  error
	checking  bool
	seq       int
	checkedAt time.Time
	checkDur  time.Duration
	spinner   spinner.Model
}

func newTaskPanel(c *common.Common, lab Lab) *taskPanel {
	sp := spinner.New(spinner.WithSpinner(spinner.Dot))
	sp.Style = c.Styles.Running
	p := &taskPanel{c: c, key: nextID(), lab: lab, sc: lab.Scenario(), spinner: sp, vp: viewport.New(c.Width, 5)}
	return p
}

// markdown is the task plus appended sections.
func (p *taskPanel) markdown() string {
	md := strings.TrimSpace(p.sc.Spec.Task)
	if p.extra != "" {
		md += "\n\n" + p.extra
	}
	return md
}

// setSize sizes the task viewport and re-renders the markdown when the width changed.
func (p *taskPanel) setSize(w, h int) {
	p.vp.Width, p.vp.Height = w, max(h, 1)
	if w != p.renderedW {
		p.render()
	}
}

func (p *taskPanel) setExtra(md string) {
	p.extra = md
	p.render()
}

func (p *taskPanel) render() {
	w := p.vp.Width
	p.renderedW = w
	p.rendered = renderMarkdown(p.markdown(), w, p.c.NoColor)
	p.vp.SetContent(p.rendered)
}

// startCheck runs the lab's checks in a tea.Cmd; the UI keeps drawing (with a
// spinner on the objectives) until checkDoneMsg arrives.
func (p *taskPanel) startCheck(ctx context.Context) tea.Cmd {
	if p.checking {
		return nil
	}
	p.checking = true
	p.seq++
	key, seq, lab, now := p.key, p.seq, p.lab, p.c.Now
	run := func() tea.Msg {
		t0 := now()
		rs, err := lab.Check(ctx)
		t1 := now()
		return checkDoneMsg{key: key, seq: seq, results: rs, err: err, dur: t1.Sub(t0), at: t1}
	}
	return tea.Batch(run, p.spinner.Tick)
}

// applyCheck stores a check's results; it reports false for stale messages.
func (p *taskPanel) applyCheck(m checkDoneMsg) bool {
	if m.key != p.key || m.seq != p.seq {
		return false
	}
	p.checking = false
	p.checkedAt, p.checkDur = m.at, m.dur
	p.checkErr = m.err
	if m.err == nil {
		p.results = m.results
	}
	return true
}

func (p *taskPanel) updateSpinner(msg spinner.TickMsg) tea.Cmd {
	if !p.checking {
		return nil
	}
	var cmd tea.Cmd
	p.spinner, cmd = p.spinner.Update(msg)
	return cmd
}

func (p *taskPanel) summary() checks.Summary { return exam.Summary(p.sc, p.results) }

// objective is one row of the objectives list.
type objective struct {
	text   string
	weight int
	guard  bool
	// protects: what this guard protects (empty: every scored objective).
	protects []string
	result   *checks.Result
	// cancelledBy: the broken guards that cancel this passing objective's points.
	cancelledBy []string
}

// broken: o is a guard whose last result did not pass.
func (o objective) broken() bool {
	return o.guard && o.result != nil && o.result.Status != checks.Pass
}

// tag is the right-hand column of an objective row: its points, or for a
// guard what it is.
func (o objective) tag() string {
	switch {
	case o.broken():
		return "[guard broken]"
	case o.guard:
		return "[guard]"
	case len(o.cancelledBy) > 0:
		return fmt.Sprintf("[0/%d]", o.weight)
	}
	return fmt.Sprintf("[%d]", o.weight)
}

// note is the evidence row under an objective: why it failed, what a broken
// guard costs, or why a passing objective scores nothing ("" for none).
func (o objective) note() string {
	r := o.result
	if r == nil {
		return ""
	}
	if len(o.cancelledBy) > 0 {
		return "passes, but scores 0 while guard " + strings.Join(o.cancelledBy, ", ") + " is broken"
	}
	if r.Status == checks.Pass {
		return ""
	}
	ev := r.Message
	if ev == "" && len(r.Evidence) > 0 {
		ev = r.Evidence[0]
	}
	if o.guard {
		cost := "no objective scores"
		if len(o.protects) > 0 {
			cost = "no points for " + strings.Join(o.protects, ", ")
		}
		if ev == "" {
			return "guard broken: " + cost
		}
		return "guard broken (" + cost + "): " + ev
	}
	return ev
}

func (p *taskPanel) objectives() []objective {
	byID := map[string]*checks.Result{}
	for i := range p.results {
		byID[p.results[i].ID] = &p.results[i]
	}
	cancelled := checks.CancelledBy(exam.WithSpec(p.sc, p.results))
	var out []objective
	seen := map[string]bool{}
	for _, c := range p.sc.Spec.Checks {
		w := c.Weight
		if w <= 0 {
			w = 1
		}
		o := objective{text: c.Objective, weight: w, guard: c.Guard, protects: c.Protects, result: byID[c.ID]}
		if o.result != nil && o.result.Status == checks.Pass && !c.Guard {
			o.cancelledBy = cancelled[c.ID]
		}
		out = append(out, o)
		seen[c.ID] = true
	}
	for i := range p.results { // results for checks not in the spec (should not happen) still show
		if r := &p.results[i]; !seen[r.ID] {
			out = append(out, objective{text: r.Objective, weight: max(r.Weight, 1), result: r})
		}
	}
	return out
}

// objectivesView draws the objectives in at most maxLines rows of width w:
// one row per objective plus, while space allows, one evidence row under
// each objective that did not pass.
func (p *taskPanel) objectivesView(w, maxLines int) string {
	st := p.c.Styles
	objs := p.objectives()
	head := st.Header.Render("Objectives")
	var right string
	switch {
	case p.checking:
		right = p.spinner.View() + " checking…"
	case p.checkErr != nil:
		right = st.ErrorText.Render("check failed")
	case p.results != nil:
		s := p.summary()
		right = fmt.Sprintf("%d/%d points · %s · %s", s.Score, s.Max, p.checkedAt.Format("15:04:05"), shortDur(p.checkDur))
	default:
		right = st.Muted.Render("press c to check")
	}
	lines := []string{spread(w, head, right)}
	if p.checkErr != nil {
		lines = append(lines, st.ErrorText.Render(truncate("  "+oneLine(p.checkErr.Error()), w)))
	}
	budget := maxLines - len(lines)
	evidenceRows := budget - len(objs)
	for _, o := range objs {
		if budget <= 0 {
			break
		}
		mark, style := "·", st.Muted
		if p.checking {
			mark = p.spinner.View()
		} else if o.result != nil {
			switch o.result.Status {
			case checks.Pass:
				mark, style = "✔", st.Pass
			case checks.Fail:
				mark, style = "✘", st.Fail
			case checks.Error:
				mark, style = "!", st.Error
			case checks.Skip:
				mark, style = "-", st.Skip
			}
		}
		tag := o.tag()
		weight := st.Muted.Render(tag)
		if o.broken() {
			weight = st.Fail.Render(tag)
		}
		text := truncate(o.text, w-4-len(tag)-1)
		lines = append(lines, spread(w, " "+style.Render(mark)+" "+text, weight))
		budget--
		if evidenceRows > 0 && budget > 0 {
			if ev := o.note(); ev != "" {
				lines = append(lines, st.Evidence.Render(truncate("     "+oneLine(ev), w)))
				evidenceRows--
				budget--
			}
		}
	}
	return strings.Join(lines, "\n")
}

// objectivesHeight is how many rows objectivesView wants at most.
func (p *taskPanel) objectivesHeight() int {
	n := 1 + len(p.sc.Spec.Checks)
	if p.checkErr != nil {
		n++
	}
	for _, o := range p.objectives() {
		if o.note() != "" {
			n++
		}
	}
	return n
}
