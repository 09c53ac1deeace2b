package common

import "github.com/charmbracelet/lipgloss"

// Styles are every style the TUI draws with, built from one renderer.
type Styles struct {
	App, Title, Subtitle, Muted, Faint, Bold lipgloss.Style
	Header, Domain, Selected, Cursor         lipgloss.Style
	Pass, Fail, Error, Skip, Running         lipgloss.Style
	Badge, BadgeWarn, Done, Attempted        lipgloss.Style
	Timer, TimerLow, TimerOver               lipgloss.Style
	Box, Confirm, Hint, Evidence, Rule       lipgloss.Style
	HelpKey, HelpDesc, HelpSep               lipgloss.Style
	StatusBar, ErrorText                     lipgloss.Style
}

// NewStyles builds the palette. Colours are adaptive; with the ascii profile
// they simply disappear and the layout stays.
func NewStyles(r *lipgloss.Renderer) *Styles {
	accent := lipgloss.AdaptiveColor{Light: "#5A56E0", Dark: "#7D79F6"}
	green := lipgloss.AdaptiveColor{Light: "#0A7D36", Dark: "#3DDC84"}
	red := lipgloss.AdaptiveColor{Light: "#C0252B", Dark: "#FF5F6D"}
	amber := lipgloss.AdaptiveColor{Light: "#A15C00", Dark: "#FFB454"}
	grey := lipgloss.AdaptiveColor{Light: "#6B6B6B", Dark: "#8A8A8A"}
	faint := lipgloss.AdaptiveColor{Light: "#9A9A9A", Dark: "#5C5C5C"}
	n := r.NewStyle
	return &Styles{
		App:       n(),
		Title:     n().Bold(true).Foreground(accent),
		Subtitle:  n().Foreground(grey),
		Muted:     n().Foreground(grey),
		Faint:     n().Foreground(faint),
		Bold:      n().Bold(true),
		Header:    n().Bold(true),
		Domain:    n().Bold(true).Foreground(accent),
		Selected:  n().Bold(true).Foreground(accent),
		Cursor:    n().Foreground(accent),
		Pass:      n().Foreground(green),
		Fail:      n().Foreground(red),
		Error:     n().Foreground(amber),
		Skip:      n().Foreground(grey),
		Running:   n().Foreground(accent),
		Badge:     n().Foreground(grey),
		BadgeWarn: n().Foreground(amber),
		Done:      n().Foreground(green),
		Attempted: n().Foreground(amber),
		Timer:     n().Bold(true),
		TimerLow:  n().Bold(true).Foreground(amber),
		TimerOver: n().Bold(true).Foreground(red),
		Box:       n().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1),
		Confirm:   n().Border(lipgloss.RoundedBorder()).BorderForeground(amber).Padding(0, 1),
		Hint:      n().Foreground(amber),
		Evidence:  n().Foreground(grey),
		Rule:      n().Foreground(faint),
		HelpKey:   n().Foreground(grey),
		HelpDesc:  n().Foreground(faint),
		HelpSep:   n().Foreground(faint),
		StatusBar: n().Foreground(grey),
		ErrorText: n().Foreground(red),
	}
}
