package checks

import (
	"slices"
	"time"
)

// Status is a check's outcome.
type Status string

const (
	// Pass means the objective is met.
	Pass Status = "pass"
	// Fail means the objective is not met; Message says what was found versus expected.
	Fail Status = "fail"
	// Error means the check could not be evaluated (API down, file unreadable...).
	// It never counts as a pass.
	Error Status = "error"
	// Skip means the backend cannot verify this objective honestly; Message says why.
	Skip Status = "skip"
)

// Result is the outcome of one check. Results are values: specs are never mutated.
type Result struct {
	ID        string        `json:"id"`
	Objective string        `json:"objective"`
	Status    Status        `json:"status"`
	Message   string        `json:"message,omitempty"`
	Evidence  []string      `json:"evidence,omitempty"`
	Weight    int           `json:"weight"`
	Duration  time.Duration `json:"durationNanos"`
	// Guard: an objective true before the learner starts that must stay
	// true; it awards no points (Weight 0) and, when not passing, cancels
	// the points of what it protects.
	Guard bool `json:"guard,omitempty"`
	// Protects are the check ids a broken guard cancels; empty: every scored check.
	Protects []string `json:"protects,omitempty"`
}

// GuardBroken reports whether r is a guard that did not pass (fail, error
// or skip: a guard that cannot be judged protects nothing).
func (r Result) GuardBroken() bool { return r.Guard && r.Status != Pass }

// Summary totals results.
type Summary struct {
	// Score is the points of passing scored checks not cancelled by a broken guard.
	Score int `json:"score"`
	// Max is the points of every scored check; guards count in no Max.
	Max int `json:"max"`
	// Passed, Failed, Errored and Skipped count every result, guards included.
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Errored int `json:"errored"`
	Skipped int `json:"skipped"`
	// Guards counts guard results; BrokenGuards lists the ids of those
	// that did not pass.
	Guards       int      `json:"guards"`
	BrokenGuards []string `json:"brokenGuards,omitempty"`
	// Cancelled lists passing checks whose points a broken guard cancelled.
	Cancelled []string `json:"cancelled,omitempty"`
}

// AllPassed is true when every result passed (skips do not pass), guards included.
func (s Summary) AllPassed() bool {
	return s.Failed == 0 && s.Errored == 0 && s.Skipped == 0 && s.Passed > 0
}

// Summarize totals weighted scores. The rule (issue 14): guards score 0
// and count in no Max; a guard that does not pass cancels the points of
// every check it protects (all scored checks when Protects is empty).
func Summarize(rs []Result) Summary {
	var s Summary
	cancelled := CancelledBy(rs)
	for _, r := range rs {
		switch r.Status {
		case Pass:
			s.Passed++
		case Fail:
			s.Failed++
		case Error:
			s.Errored++
		case Skip:
			s.Skipped++
		}
		if r.Guard {
			s.Guards++
			if r.GuardBroken() {
				s.BrokenGuards = append(s.BrokenGuards, r.ID)
			}
			continue
		}
		w := r.Points()
		s.Max += w
		if r.Status != Pass {
			continue
		}
		if len(cancelled[r.ID]) > 0 {
			s.Cancelled = append(s.Cancelled, r.ID)
			continue
		}
		s.Score += w
	}
	return s
}

// Points is what r is worth when it passes: its weight (at least 1), 0 for a guard.
func (r Result) Points() int {
	if r.Guard {
		return 0
	}
	return max(r.Weight, 1)
}

// CancelledBy maps each scored check id to the broken guards that cancel
// its points (absent when none).
func CancelledBy(rs []Result) map[string][]string {
	out := map[string][]string{}
	for _, g := range rs {
		if !g.GuardBroken() {
			continue
		}
		for _, r := range rs {
			if r.Guard {
				continue
			}
			if len(g.Protects) == 0 || slices.Contains(g.Protects, r.ID) {
				out[r.ID] = append(out[r.ID], g.ID)
			}
		}
	}
	return out
}

// Label is how reports name r's outcome: pass, fail, error, skip, or for a
// guard "guard ok" / "guard broken".
func (r Result) Label() string {
	if r.Guard {
		if r.GuardBroken() {
			return "guard broken"
		}
		return "guard ok"
	}
	return string(r.Status)
}
