package runner

import (
	"slices"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/load"
)

// ObjectiveSeen records where one objective was seen failing and passing:
// "seeded", "solution", "alternative <name>". A check never seen failing
// cannot fail, and proves nothing; one never seen passing cannot be met.
type ObjectiveSeen struct {
	Scenario string   `json:"scenario"`
	ID       string   `json:"id"`
	Guard    bool     `json:"guard,omitempty"`
	Failing  []string `json:"failing,omitempty"`
	Passing  []string `json:"passing,omitempty"`
	// NotJudged is why the backend could not judge the objective (its
	// skip message), when it was skipped as not judged here.
	NotJudged string `json:"notJudged,omitempty"`
}

// Unjudged reports whether o was never judged on this backend: never seen
// failing or passing, only skipped as not judged here. It is no gap of
// this backend's proof (another backend must prove it).
func (o ObjectiveSeen) Unjudged() bool {
	return len(o.Failing) == 0 && len(o.Passing) == 0 && o.NotJudged != ""
}

// BothWays reports whether o was seen failing and passing.
func (o ObjectiveSeen) BothWays() bool { return len(o.Failing) > 0 && len(o.Passing) > 0 }

// Coverage accumulates ObjectiveSeen over trials. Only fail counts as
// failing (an error means the check could not judge) and only pass as
// passing.
type Coverage struct {
	order []string
	seen  map[string]map[string]*ObjectiveSeen
	ids   map[string][]string
}

// NewCoverage returns an empty Coverage.
func NewCoverage() *Coverage {
	return &Coverage{seen: map[string]map[string]*ObjectiveSeen{}, ids: map[string][]string{}}
}

// Add records the results of one trial of s (source names the trial).
func (c *Coverage) Add(s *load.Scenario, source string, rs []checks.Result) {
	m := c.seen[s.ID]
	if m == nil {
		m = map[string]*ObjectiveSeen{}
		c.seen[s.ID] = m
		c.order = append(c.order, s.ID)
		for _, ch := range s.Spec.Checks {
			m[ch.ID] = &ObjectiveSeen{Scenario: s.ID, ID: ch.ID, Guard: ch.Guard}
			c.ids[s.ID] = append(c.ids[s.ID], ch.ID)
		}
	}
	for _, r := range rs {
		o := m[r.ID]
		if o == nil {
			continue
		}
		switch r.Status {
		case checks.Fail:
			if !slices.Contains(o.Failing, source) {
				o.Failing = append(o.Failing, source)
			}
		case checks.Pass:
			if !slices.Contains(o.Passing, source) {
				o.Passing = append(o.Passing, source)
			}
		case checks.Skip:
			if checks.NotJudged(r) {
				o.NotJudged = r.Message
			}
		}
	}
}

// Scenario returns what was seen of scenario id's objectives, in spec order.
func (c *Coverage) Scenario(id string) []ObjectiveSeen {
	var out []ObjectiveSeen
	for _, cid := range c.ids[id] {
		out = append(out, *c.seen[id][cid])
	}
	return out
}

// All returns every recorded objective, scenarios in the order first seen.
func (c *Coverage) All() []ObjectiveSeen {
	var out []ObjectiveSeen
	for _, id := range c.order {
		out = append(out, c.Scenario(id)...)
	}
	return out
}

// Gaps returns the objectives not seen both ways, leaving out those this
// backend could not judge at all (Unjudged).
func Gaps(os []ObjectiveSeen) []ObjectiveSeen {
	var out []ObjectiveSeen
	for _, o := range os {
		if !o.BothWays() && !o.Unjudged() {
			out = append(out, o)
		}
	}
	return out
}

// CoverageGaps collects the gaps of every scenario that was proved (pass
// or fail verdict): skipped and errored scenarios saw nothing to report.
func CoverageGaps(rs []ValidateResult) []ObjectiveSeen {
	var out []ObjectiveSeen
	for _, r := range rs {
		if r.Verdict == VerdictPass || r.Verdict == VerdictFail {
			out = append(out, Gaps(r.Objectives)...)
		}
	}
	return out
}

// UnjudgedObjectives collects the objectives of proved scenarios that the
// backend could not judge (each with its reason).
func UnjudgedObjectives(rs []ValidateResult) []ObjectiveSeen {
	var out []ObjectiveSeen
	for _, r := range rs {
		if r.Verdict != VerdictPass && r.Verdict != VerdictFail {
			continue
		}
		for _, o := range r.Objectives {
			if o.Unjudged() {
				out = append(out, o)
			}
		}
	}
	return out
}
