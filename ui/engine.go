// Package ui is the ckslab terminal UI: a root model that routes messages to
// the active page (catalog, provisioning, lab, exam, exam results). Pages share
// one *common.Common. The UI never talks to a cluster itself: it drives an
// Engine, and every call into it runs inside a tea.Cmd so Update never blocks.
package ui

import (
	"context"
	"errors"
	"os/exec"
	"time"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/load"
)

// ProgressEvent is one provisioning / reset step (mirrors cluster.Step, so the
// UI needs no cluster import).
type ProgressEvent struct {
	// ID is stable per step ("binaries", "cluster", "cni", "addons", "setup"...).
	ID    string
	Title string
	// Line is the step's latest output line.
	Line string
	Done bool
	Err  error
	At   time.Time
}

// Engine is what the UI needs from ckslab's engine. cmd/ckslab adapts
// engine/runner to it; tests use a fake.
type Engine interface {
	// Supports reports whether the configured backend can run and honestly
	// verify a scenario (nil) or why not. It must be cheap: no I/O.
	Supports(s *load.Scenario) error
	// Start provisions the cluster if needed and seeds the scenario, reporting
	// steps. When ctx is cancelled it tears down what it half-did (reporting
	// those steps too) and returns ctx.Err().
	Start(ctx context.Context, id string, progress func(ProgressEvent)) (Lab, error)
}

// Lab is one seeded scenario.
type Lab interface {
	Scenario() *load.Scenario
	// StartedAt is when the lab was seeded (the countdown starts there).
	StartedAt() time.Time
	Check(ctx context.Context) ([]checks.Result, error)
	// Hint reveals the next hint. It returns ErrNoMoreHints when all are shown.
	Hint(ctx context.Context) (Hint, error)
	// Solution returns the reference solution as markdown.
	Solution(ctx context.Context) (string, error)
	// Reset restores the seeded state.
	Reset(ctx context.Context, progress func(ProgressEvent)) error
	// ShellCommand is an interactive shell with KUBECONFIG pointing at the lab.
	ShellCommand() (*exec.Cmd, error)
}

// Hint is one revealed hint.
type Hint struct {
	Text    string
	Penalty int
	// Index is 1-based; Total is how many the scenario has.
	Index, Total int
}

// ErrNoMoreHints is returned by Lab.Hint when every hint was revealed.
var ErrNoMoreHints = errors.New("no more hints")
