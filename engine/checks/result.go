package checks

import "time"

// Status is a check's outcome.
type Status string

const (
	// Pass: the objective is met.
	Pass Status = "pass"
	// Fail: the objective is not met; Message says what was found versus expected.
	Fail Status = "fail"
	// Error: the check could not be evaluated (API down, file unreadable...).
	// It never counts as a pass.
	Error Status = "error"
	// Skip: the backend cannot verify this objective honestly; Message says why.
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
}

// Summary totals results.
type Summary struct {
	Score   int `json:"score"`
	Max     int `json:"max"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Errored int `json:"errored"`
	Skipped int `json:"skipped"`
}

// AllPassed is true when every result passed (skips do not pass).
func (s Summary) AllPassed() bool {
	return s.Failed == 0 && s.Errored == 0 && s.Skipped == 0 && s.Passed > 0
}

// Summarize totals weighted scores.
func Summarize(rs []Result) Summary {
	var s Summary
	for _, r := range rs {
		w := r.Weight
		if w <= 0 {
			w = 1
		}
		s.Max += w
		switch r.Status {
		case Pass:
			s.Passed++
			s.Score += w
		case Fail:
			s.Failed++
		case Error:
			s.Errored++
		case Skip:
			s.Skipped++
		}
	}
	return s
}
