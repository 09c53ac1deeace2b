package common

import "github.com/charmbracelet/bubbles/key"

// KeyMap is every key binding of the TUI, in one place.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	Enter, Back, Quit, ForceQuit, Filter  key.Binding
	Check, Hint, Solution, Reset, Shell   key.Binding
	Next, Prev, Flag, List, EndExam       key.Binding
	Yes, No, Help                         key.Binding
}

// DefaultKeyMap is the bindings shown in the help bar.
func DefaultKeyMap() *KeyMap {
	b := func(help string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keys[0], help))
	}
	km := &KeyMap{
		Up:        b("up", "up", "k"),
		Down:      b("down", "down", "j"),
		PageUp:    b("page up", "pgup"),
		PageDown:  b("page down", "pgdown", " "),
		Home:      b("top", "home", "g"),
		End:       b("bottom", "end", "G"),
		Enter:     b("start", "enter"),
		Back:      b("back", "q", "esc"),
		Quit:      b("quit", "q"),
		ForceQuit: b("quit", "ctrl+c"),
		Filter:    b("filter", "/"),
		Check:     b("check", "c"),
		Hint:      b("hint", "h"),
		Solution:  b("solution", "s"),
		Reset:     b("reset", "r"),
		Shell:     b("shell", "!"),
		Next:      b("next", "n", "tab"),
		Prev:      b("prev", "p", "shift+tab"),
		Flag:      b("flag", "f"),
		List:      b("tasks", "l"),
		EndExam:   b("end exam", "E"),
		Yes:       b("yes", "y", "Y"),
		No:        b("no", "n", "N", "esc"),
		Help:      b("more keys", "?"),
	}
	km.Up.SetHelp("↑/k", "up")
	km.Down.SetHelp("↓/j", "down")
	km.Back.SetHelp("q", "back")
	km.ForceQuit.SetHelp("ctrl+c", "quit")
	km.Next.SetHelp("n", "next")
	km.Prev.SetHelp("p", "prev")
	return km
}
