package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/progress"
	"github.com/ckslab/ckslab/ui/common"
)

type progressLoadedMsg struct {
	id   int
	data *progress.Data
	err  error
}

// catalogRow is a domain header (sc == nil) or a scenario.
type catalogRow struct {
	domain v1alpha1.Domain
	count  int
	sc     *load.Scenario
}

// catalogPage lists scenarios grouped by the six CKS domains.
type catalogPage struct {
	c     *common.Common
	id    int
	eng   Engine
	all   []*load.Scenario
	store *progress.Store
	// onlyBackend: see Options.OnlyBackend (may be nil).
	onlyBackend func([]v1alpha1.Capability) string
	data        *progress.Data

	rows      []catalogRow
	cursor    int // index into rows; always a scenario row when any exists
	offset    int
	filter    textinput.Model
	filtering bool
	help      help.Model
	status    string
	statusErr bool
}

func newCatalogPage(c *common.Common, eng Engine, all []*load.Scenario, store *progress.Store) *catalogPage {
	ti := textinput.New()
	ti.Prompt = "/ "
	ti.Placeholder = "filter by id, title, domain or competency"
	ti.CharLimit = 64
	p := &catalogPage{c: c, id: nextID(), eng: eng, all: all, store: store, filter: ti, help: newHelp(c)}
	p.rebuild()
	return p
}

func (p *catalogPage) Init() tea.Cmd {
	if p.store == nil {
		return nil
	}
	st, id := p.store, p.id
	return func() tea.Msg {
		d, err := st.Load()
		return progressLoadedMsg{id: id, data: d, err: err}
	}
}

func (p *catalogPage) setStatus(s string, isErr bool) { p.status, p.statusErr = s, isErr }

func (p *catalogPage) matches(s *load.Scenario, q string) bool {
	if q == "" {
		return true
	}
	hay := strings.ToLower(strings.Join([]string{s.ID, s.Spec.Title, string(s.Spec.Domain), v1alpha1.DomainTitle(s.Spec.Domain), s.Spec.Competency, s.Spec.Difficulty}, " "))
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// rebuild recomputes rows for the filter, keeping the selected scenario.
func (p *catalogPage) rebuild() {
	var keep string
	if sc := p.selected(); sc != nil {
		keep = sc.ID
	}
	q := strings.TrimSpace(p.filter.Value())
	p.rows = nil
	for _, d := range v1alpha1.Domains {
		var in []*load.Scenario
		for _, s := range p.all {
			if s.Spec.Domain == d && p.matches(s, q) {
				in = append(in, s)
			}
		}
		if q != "" && len(in) == 0 {
			continue
		}
		p.rows = append(p.rows, catalogRow{domain: d, count: len(in)})
		for _, s := range in {
			p.rows = append(p.rows, catalogRow{domain: d, sc: s})
		}
	}
	p.cursor = -1
	for i, r := range p.rows {
		if r.sc != nil && (p.cursor < 0 || r.sc.ID == keep) {
			p.cursor = i
		}
	}
	p.scroll()
}

func (p *catalogPage) selected() *load.Scenario {
	if p.cursor >= 0 && p.cursor < len(p.rows) {
		return p.rows[p.cursor].sc
	}
	return nil
}

func (p *catalogPage) move(delta int) {
	if p.cursor < 0 {
		return
	}
	i := p.cursor
	for {
		i += delta
		if i < 0 || i >= len(p.rows) {
			return
		}
		if p.rows[i].sc != nil {
			p.cursor = i
			p.scroll()
			return
		}
	}
}

// listHeight: rows left after title, rule, detail (2), status, help.
func (p *catalogPage) listHeight() int { return max(p.c.Height-7, 3) }

func (p *catalogPage) scroll() {
	h := p.listHeight()
	top := p.cursor
	if top > 0 && p.rows[top-1].sc == nil { // keep the domain header of the first visible scenario
		top--
	}
	if top < p.offset {
		p.offset = top
	}
	if p.cursor >= p.offset+h {
		p.offset = p.cursor - h + 1
	}
	p.offset = max(min(p.offset, len(p.rows)-h), 0)
}

func (p *catalogPage) ShortHelp() []key.Binding {
	k := p.c.Keys
	if p.filtering {
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear"))}
	}
	return []key.Binding{k.Up, k.Down, k.Enter, k.Filter, k.Quit}
}
func (p *catalogPage) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p *catalogPage) Update(msg tea.Msg) (page, tea.Cmd) {
	k := p.c.Keys
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.help.Width = p.c.Width
		p.filter.Width = max(p.c.Width-4, 10)
		p.scroll()
	case progressLoadedMsg:
		if msg.id == p.id {
			p.data = msg.data
			if msg.err != nil {
				p.setStatus(msg.err.Error(), true)
			}
		}
	case tea.KeyMsg:
		if p.filtering {
			switch msg.String() {
			case "enter":
				p.filtering = false
				p.filter.Blur()
				return p, nil
			case "esc":
				p.filtering = false
				p.filter.Blur()
				p.filter.SetValue("")
				p.rebuild()
				return p, nil
			case "up", "down":
				p.move(map[string]int{"up": -1, "down": 1}[msg.String()])
				return p, nil
			}
			var cmd tea.Cmd
			p.filter, cmd = p.filter.Update(msg)
			p.rebuild()
			return p, cmd
		}
		switch {
		case key.Matches(msg, k.Up):
			p.move(-1)
		case key.Matches(msg, k.Down):
			p.move(1)
		case key.Matches(msg, k.PageUp):
			for range p.listHeight() {
				p.move(-1)
			}
		case key.Matches(msg, k.PageDown):
			for range p.listHeight() {
				p.move(1)
			}
		case key.Matches(msg, k.Filter):
			p.filtering = true
			return p, p.filter.Focus()
		case msg.String() == "esc" && p.filter.Value() != "":
			p.filter.SetValue("")
			p.rebuild()
		case key.Matches(msg, k.Enter):
			sc := p.selected()
			if sc == nil {
				return p, nil
			}
			if err := p.eng.Supports(sc); err != nil {
				p.setStatus(err.Error(), true)
				return p, nil
			}
			return p, func() tea.Msg { return openScenarioMsg{id: sc.ID} }
		case key.Matches(msg, k.Quit), msg.String() == "esc":
			return p, tea.Quit
		}
	}
	return p, nil
}

func (p *catalogPage) View() string {
	st := p.c.Styles
	w := p.c.Width
	done, attempted := 0, 0
	for _, s := range p.all {
		if r := p.data.Get(s.ID); r != nil {
			if r.Solved {
				done++
			} else if r.Attempts > 0 {
				attempted++
			}
		}
	}
	right := st.Muted.Render(fmt.Sprintf("%d scenarios · %d done · %d attempted", len(p.all), done, attempted))
	lines := []string{spread(w, st.Title.Render("ckslab")+" "+st.Subtitle.Render("CKS practice labs"), right)}
	if p.filtering || p.filter.Value() != "" {
		lines = append(lines, truncate(p.filter.View(), w))
	} else {
		lines = append(lines, st.Rule.Render(strings.Repeat("─", w)))
	}
	h := p.listHeight()
	end := min(p.offset+h, len(p.rows))
	var list []string
	for i := p.offset; i < end; i++ {
		list = append(list, p.rowView(p.rows[i], i == p.cursor, w))
	}
	if len(p.rows) == 0 || p.cursor < 0 {
		list = append(list, st.Muted.Render("  no scenarios match"))
	}
	lines = append(lines,
		fitHeight(strings.Join(list, "\n"), h),
		st.Rule.Render(strings.Repeat("─", w)),
		p.detailView(w))
	status := st.StatusBar.Render(truncate(p.status, w))
	if p.statusErr {
		status = st.ErrorText.Render(truncate(oneLine(p.status), w))
	}
	lines = append(lines, status, truncate(p.help.View(p), p.c.Width))
	return strings.Join(lines, "\n")
}

func (p *catalogPage) rowView(r catalogRow, sel bool, w int) string {
	st := p.c.Styles
	if r.sc == nil {
		n := fmt.Sprintf("(%d)", r.count)
		if r.count == 0 {
			n = "(none yet)"
		}
		return st.Domain.Render(v1alpha1.DomainTitle(r.domain)) + " " + st.Muted.Render(n)
	}
	s := r.sc
	mark := " "
	if rec := p.data.Get(s.ID); rec != nil {
		switch {
		case rec.Solved:
			mark = st.Done.Render("✔")
		case rec.Attempts > 0:
			mark = st.Attempted.Render("◐")
		}
	}
	cursor := "  "
	if sel {
		cursor = st.Cursor.Render("▸ ")
	}
	var badges []string
	if err := p.eng.Supports(s); err != nil {
		badges = append(badges, st.BadgeWarn.Render("unavailable"))
	} else if b := p.onlyBackendFor(s); b != "" {
		badges = append(badges, st.BadgeWarn.Render("needs "+b))
	}
	meta := fmt.Sprintf("%-6s %3dm", s.Spec.Difficulty, s.Spec.Minutes)
	right := st.Muted.Render(meta)
	if len(badges) > 0 {
		right = strings.Join(badges, " ") + " " + right
	}
	id := s.ID
	if sel {
		id = st.Selected.Render(id)
	}
	left := cursor + mark + " " + id + " " + st.Muted.Render(s.Spec.Title)
	if sel {
		left = cursor + mark + " " + id + " " + s.Spec.Title
	}
	return spread(w, left, right)
}

// detailView is two lines about the selected scenario.
func (p *catalogPage) detailView(w int) string {
	st := p.c.Styles
	sc := p.selected()
	if sc == nil {
		return "\n"
	}
	var req []string
	for _, c := range sc.Spec.Requires {
		req = append(req, string(c))
	}
	l1 := fmt.Sprintf("%s · requires %s", sc.Spec.Competency, strings.Join(req, ", "))
	l2 := "not attempted yet"
	if r := p.data.Get(sc.ID); r != nil && r.Attempts > 0 {
		l2 = fmt.Sprintf("attempts %d · best %d/%d · time %s · hints %d", r.Attempts, r.BestScore, r.BestMax, clock(r.TimeSpent), r.HintsUsed)
		if r.Solved {
			l2 += " · solved"
		}
	}
	if err := p.eng.Supports(sc); err != nil {
		l2 = oneLine(err.Error())
	}
	return st.Muted.Render(truncate(l1, w)) + "\n" + st.Muted.Render(truncate(l2, w))
}
