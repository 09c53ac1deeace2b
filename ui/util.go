package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/load"
)

// markOnly sets how the catalog learns which scenarios only one backend
// can run (Options.OnlyBackend; the backends' facts say it, ui does not).
func (p *catalogPage) markOnly(f func([]v1alpha1.Capability) string) *catalogPage {
	p.onlyBackend = f
	return p
}

// onlyBackendFor names the one backend that can run s, "" when any can.
func (p *catalogPage) onlyBackendFor(s *load.Scenario) string {
	if p.onlyBackend == nil {
		return ""
	}
	return p.onlyBackend(s.Spec.Requires)
}

// clock formats a duration as mm:ss (h:mm:ss past an hour).
func clock(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Truncate(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", m, s)
}

func shortDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return clock(d)
	}
}

// truncate cuts s to width cells with an ellipsis.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, "…")
}

// oneLine collapses whitespace so a message fits one row.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// spread places left and right on one line of width w.
func spread(w int, left, right string) string {
	gap := w - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		left = truncate(left, w-lipgloss.Width(right)-1)
		gap = w - lipgloss.Width(left) - lipgloss.Width(right)
		if gap < 1 {
			gap = 1
		}
	}
	return left + strings.Repeat(" ", gap) + right
}

// fitHeight pads or cuts a block to exactly h lines.
func fitHeight(s string, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// wrap word-wraps to width and returns lines.
func wrap(s string, width int) []string {
	if width < 10 {
		width = 10
	}
	return strings.Split(ansi.Wrap(s, width, ""), "\n")
}
