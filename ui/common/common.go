// Package common holds what every page of the ckslab TUI shares: the window
// size, the styles, the keymap and the clock. Pages receive one *Common from
// the root model, so a resize or a colour choice is made in exactly one place.
package common

import (
	"io"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Common is shared by the root model and all pages.
type Common struct {
	Width, Height int
	Styles        *Styles
	Keys          *KeyMap
	// Now is the clock; tests inject a fixed one so views are deterministic.
	Now func() time.Time
	// NoColor is true when colours are off (NO_COLOR / --no-color / ascii profile).
	NoColor bool
	// Renderer carries the colour profile of the output.
	Renderer *lipgloss.Renderer
}

// Options configure New.
type Options struct {
	Output  io.Writer
	NoColor bool
	Now     func() time.Time
	// Profile forces a colour profile (tests use termenv.Ascii).
	Profile *termenv.Profile
}

// New builds a Common for an output. With NoColor the ascii profile is used:
// styles keep their layout (padding, borders) but emit no colour codes.
func New(o Options) *Common {
	var r *lipgloss.Renderer
	if o.Output != nil {
		r = lipgloss.NewRenderer(o.Output)
	} else {
		r = lipgloss.NewRenderer(io.Discard)
	}
	switch {
	case o.NoColor:
		r.SetColorProfile(termenv.Ascii)
	case o.Profile != nil:
		r.SetColorProfile(*o.Profile)
	}
	noColor := o.NoColor || r.ColorProfile() == termenv.Ascii
	now := o.Now
	if now == nil {
		now = time.Now
	}
	// A dark background is assumed rather than queried: querying the terminal
	// from inside a running program races with bubbletea's input reader.
	r.SetHasDarkBackground(true)
	return &Common{Width: 80, Height: 24, Styles: NewStyles(r), Keys: DefaultKeyMap(), Now: now, NoColor: noColor, Renderer: r}
}

// SetSize records the terminal size.
func (c *Common) SetSize(w, h int) { c.Width, c.Height = w, h }
