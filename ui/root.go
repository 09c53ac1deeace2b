package ui

import (
	"context"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/progress"
	"github.com/ckslab/ckslab/ui/common"
)

// page is one screen. The root model forwards messages to the active page only.
type page interface {
	Init() tea.Cmd
	Update(tea.Msg) (page, tea.Cmd)
	View() string
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
}

// Options configure a Model.
type Options struct {
	Common  *common.Common
	Engine  Engine
	Catalog []*load.Scenario
	// Store records progress; nil records nothing.
	Store *progress.Store
	// StartID opens this scenario directly (ckslab start ID); leaving the lab quits.
	StartID string
	// OnlyBackend names the one backend whose facts provide every
	// capability in requires, "" when any can (engine/cluster/backend's
	// OnlyProvider): the catalog marks such scenarios ("needs kind"). Nil
	// marks none.
	OnlyBackend func(requires []v1alpha1.Capability) string
	// Exam runs an exam session over these scenarios.
	Exam *exam.Plan
}

// Model is the root bubbletea model.
type Model struct {
	ctx  context.Context
	c    *common.Common
	opts Options
	page page
	// Err is set when the program ended because of an error (e.g. a failed start).
	Err error
}

// New builds the root model. ctx bounds every engine call.
func New(ctx context.Context, o Options) *Model {
	m := &Model{ctx: ctx, c: o.Common, opts: o}
	switch {
	case o.Exam != nil:
		m.page = newProvisionPage(ctx, o.Common, o.Engine, o.Exam.IDs(), true)
	case o.StartID != "":
		m.page = newProvisionPage(ctx, o.Common, o.Engine, []string{o.StartID}, false)
	default:
		m.page = newCatalogPage(o.Common, o.Engine, o.Catalog, o.Store).markOnly(o.OnlyBackend)
	}
	return m
}

// Init starts the current page.
func (m *Model) Init() tea.Cmd { return m.page.Init() }

// Update handles global keys and window size, switches pages and hands
// every other message to the current page.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.SetSize(msg.Width, msg.Height)
	case tea.KeyMsg:
		if msg.String() == "ctrl+c" {
			if _, provisioning := m.page.(*provisionPage); !provisioning {
				return m, tea.Quit // provisioning cancels (and tears down) first
			}
		}
	case openScenarioMsg:
		return m.switchTo(newProvisionPage(m.ctx, m.c, m.opts.Engine, []string{msg.id}, false))
	case provisionedMsg:
		if m.opts.Exam != nil {
			plan := *m.opts.Exam
			for _, s := range msg.skipped {
				plan = plan.Without(s.id, "could not be set up here: "+oneLine(s.err.Error()))
			}
			return m.switchTo(newExamPage(m.ctx, m.c, msg.labs, plan, m.opts.Store))
		}
		return m.switchTo(newLabPage(m.ctx, m.c, msg.labs[0], m.opts.Store))
	case provisionFailedMsg:
		if m.opts.StartID != "" || m.opts.Exam != nil {
			m.Err = msg.err
			return m, tea.Quit
		}
		cp := newCatalogPage(m.c, m.opts.Engine, m.opts.Catalog, m.opts.Store).markOnly(m.opts.OnlyBackend)
		cp.setStatus(msg.err.Error(), true)
		return m.switchTo(cp)
	case backMsg:
		if m.opts.StartID != "" || m.opts.Exam != nil {
			return m, tea.Quit
		}
		cp := newCatalogPage(m.c, m.opts.Engine, m.opts.Catalog, m.opts.Store).markOnly(m.opts.OnlyBackend)
		if msg.status != "" {
			cp.setStatus(msg.status, false)
		}
		return m.switchTo(cp)
	case examEndedMsg:
		return m.switchTo(newResultsPage(m.c, msg.result))
	}
	var cmd tea.Cmd
	m.page, cmd = m.page.Update(msg)
	return m, cmd
}

func (m *Model) switchTo(p page) (tea.Model, tea.Cmd) {
	m.page = p
	// Pages lay themselves out from Common on construction; a synthetic size
	// message keeps components (viewport, help) in step.
	next, cmd := p.Update(tea.WindowSizeMsg{Width: m.c.Width, Height: m.c.Height})
	m.page = next
	return m, tea.Batch(cmd, m.page.Init())
}

// View renders the current page.
func (m *Model) View() string { return m.page.View() }
