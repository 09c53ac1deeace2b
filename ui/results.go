package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/progress"
	"github.com/ckslab/ckslab/ui/common"
)

// resultsPage shows a scored exam: per task and per domain.
type resultsPage struct {
	c    *common.Common
	ex   progress.Exam
	vp   viewport.Model
	help help.Model
}

func newResultsPage(c *common.Common, ex progress.Exam) *resultsPage {
	p := &resultsPage{c: c, ex: ex, vp: viewport.New(c.Width, c.Height-4), help: newHelp(c)}
	p.vp.SetContent(p.body())
	return p
}

func (p *resultsPage) Init() tea.Cmd { return nil }

func (p *resultsPage) ShortHelp() []key.Binding {
	return []key.Binding{p.c.Keys.Up, p.c.Keys.Down, p.c.Keys.Quit}
}
func (p *resultsPage) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p *resultsPage) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.vp.Width, p.vp.Height = p.c.Width, max(p.c.Height-4, 1)
		p.help.Width = p.c.Width
		p.vp.SetContent(p.body())
	case tea.KeyMsg:
		if key.Matches(msg, p.c.Keys.Quit) || msg.String() == "esc" || msg.String() == "enter" {
			return p, tea.Quit
		}
		var cmd tea.Cmd
		p.vp, cmd = p.vp.Update(msg)
		return p, cmd
	}
	return p, nil
}

func shortDomain(d string) string {
	switch v1alpha1.Domain(d) {
	case v1alpha1.DomainMicroservices:
		return "Microservice Vulns"
	case v1alpha1.DomainMonitoringRuntime:
		return "Monitoring & Runtime"
	}
	return v1alpha1.DomainTitle(v1alpha1.Domain(d))
}

func (p *resultsPage) body() string {
	st := p.c.Styles
	w := p.c.Width
	var b strings.Builder
	fmt.Fprintln(&b, st.Header.Render(fmt.Sprintf(" %-3s %-22s %-21s %7s %7s", "#", "Task", "Domain", "Weight", "Score")))
	unscored := 0
	for i, t := range p.ex.Tasks {
		var mark string
		switch {
		case strings.HasPrefix(t.Error, exam.NotScored):
			unscored++
			mark = st.Muted.Render("–")
		case t.Error != "":
			mark = st.Error.Render("!")
		case t.CheckMax > 0 && t.CheckScore == t.CheckMax:
			mark = st.Pass.Render("✔")
		case t.CheckScore > 0:
			mark = st.Error.Render("◐")
		default:
			mark = st.Fail.Render("✘")
		}
		name := t.Scenario
		if t.Flagged {
			name += " ⚑"
		}
		line := fmt.Sprintf(" %-3d %-22s %-21s %7.1f %7.1f %s %s", i+1, truncate(name, 22), truncate(shortDomain(t.Domain), 21), t.Weight, t.Score, mark,
			st.Muted.Render(fmt.Sprintf("%d/%d", t.CheckScore, t.CheckMax)))
		if len(t.BrokenGuards) > 0 {
			line += " " + st.Fail.Render("guard broken: "+strings.Join(t.BrokenGuards, ", "))
		}
		if t.Error != "" {
			line += " " + st.Muted.Render(oneLine(t.Error))
		}
		fmt.Fprintln(&b, truncate(line, w))
	}
	if unscored > 0 {
		fmt.Fprintln(&b)
		fmt.Fprintln(&b, truncate(st.Hint.Render(fmt.Sprintf(" %d task(s) could not run here and are not scored: the score is out of %.1f, not 100.", unscored, p.ex.Max)), w))
	}
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, st.Header.Render(" By domain"))
	for _, d := range p.ex.Domains {
		pct := 0.0
		if d.Max > 0 {
			pct = 100 * d.Score / d.Max
		}
		fmt.Fprintln(&b, truncate(fmt.Sprintf(" %-41s %5.1f / %5.1f  %3.0f%%", truncate(v1alpha1.DomainTitle(v1alpha1.Domain(d.Domain)), 41), d.Score, d.Max, pct), w))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (p *resultsPage) View() string {
	st := p.c.Styles
	w := p.c.Width
	verdict := st.Fail.Render(fmt.Sprintf("✘ below the %.0f%% pass mark", exam.PassPercent))
	if p.ex.Passed {
		verdict = st.Pass.Render(fmt.Sprintf("✔ pass (≥ %.0f%%)", exam.PassPercent))
	}
	title := st.Title.Render("Exam results") + st.Muted.Render(fmt.Sprintf(" · %d tasks · %s used of %d min · seed %d",
		len(p.ex.Tasks), clock(p.ex.EndedAt.Sub(p.ex.StartedAt)), p.ex.Minutes, p.ex.Seed))
	score := fmt.Sprintf("Score %.1f / %.1f  (%.1f%%)  ", p.ex.Score, p.ex.Max, p.ex.Percent) + verdict
	lines := []string{truncate(title, w), st.Bold.Render(truncate(score, w)), st.Rule.Render(strings.Repeat("─", w)),
		fitHeight(p.vp.View(), p.vp.Height), truncate(p.help.View(p), p.c.Width)}
	return strings.Join(lines, "\n")
}
