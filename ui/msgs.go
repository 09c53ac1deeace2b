package ui

import (
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/progress"
)

// Navigation messages: pages ask the root to switch.
type (
	// openScenarioMsg: the catalog asks to start a scenario.
	openScenarioMsg struct{ id string }
	// provisionedMsg: every requested lab is seeded.
	// In an exam, skipped are the tasks whose start failed (id -> error):
	// the exam runs without them.
	provisionedMsg struct {
		labs    []Lab
		skipped []skippedTask
	}
	// backMsg: leave the current page (to the catalog, or quit when there is none).
	backMsg struct{ status string }
	// examEndedMsg: the exam is over; show results.
	examEndedMsg struct{ result progress.Exam }
)

// tickMsg drives clocks. id scopes it to the page that started the loop.
type tickMsg struct {
	id int
	t  time.Time
}

// checkDoneMsg carries a check run's results. key identifies the lab/task.
type checkDoneMsg struct {
	key     int
	seq     int
	results []checks.Result
	err     error
	dur     time.Duration
	at      time.Time
}

// recordedMsg reports a progress write (only errors are shown).
type recordedMsg struct{ err error }

var pageIDs atomic.Int64

// nextID is a page-instance id for scoping ticks and async results.
func nextID() int { return int(pageIDs.Add(1)) }

// tickEvery is how often timed pages (lab, exam, provisioning) redraw.
const tickEvery = time.Second

// tick reads the injected clock (not the timer's time) so tests are deterministic.
func tick(id int, now func() time.Time) tea.Cmd {
	return tea.Tick(tickEvery, func(time.Time) tea.Msg { return tickMsg{id: id, t: now()} })
}

func record(fn func() error) tea.Cmd {
	if fn == nil {
		return nil
	}
	return func() tea.Msg { return recordedMsg{err: fn()} }
}

// skippedTask is an exam task that could not be started.
type skippedTask struct {
	id  string
	err error
}
