// Package progress records a learner's history: per scenario attempts, best
// score, time spent and hints used, and the results of exam sessions. It is
// one JSON file under the state root, written atomically (temp file + rename,
// mode 0600) under a file lock so the TUI and CLI commands can both record.
package progress

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gofrs/flock"

	"github.com/ckslab/ckslab/engine/fsutil"
)

// FileName is the progress file's name inside the state root.
const FileName = "progress.json"

// Version is the file format version.
const Version = 1

// Data is the whole progress file.
type Data struct {
	Version   int                  `json:"version"`
	Scenarios map[string]*Scenario `json:"scenarios"`
	Exams     []Exam               `json:"exams,omitempty"`
}

// Scenario is one scenario's history.
type Scenario struct {
	ID string `json:"id"`
	// Attempts counts lab sessions started (ckslab start / the TUI).
	Attempts int `json:"attempts"`
	// Checks counts check runs over all attempts.
	Checks int `json:"checks"`
	// BestScore and BestMax are the best check result (after hint penalties).
	BestScore int `json:"bestScore"`
	BestMax   int `json:"bestMax"`
	// Solved is true once every objective passed in one check.
	Solved bool `json:"solved"`
	// HintsUsed is the total number of hints revealed over all attempts.
	HintsUsed int `json:"hintsUsed"`
	// Penalty is the hint penalty of the current (latest) attempt.
	Penalty int `json:"penalty"`
	// SolutionViewed is set when the learner looked at the reference solution.
	SolutionViewed bool `json:"solutionViewed,omitempty"`
	// TimeSpent sums the time of all attempts up to their latest check.
	TimeSpent time.Duration `json:"timeSpentNanos"`
	// BestTime is the shortest time to a full pass.
	BestTime time.Duration `json:"bestTimeNanos,omitempty"`
	// CurrentStart is when the latest attempt started; CurrentElapsed how much
	// of it is already counted in TimeSpent.
	CurrentStart   time.Time     `json:"currentStart,omitempty"`
	CurrentElapsed time.Duration `json:"currentElapsedNanos,omitempty"`
	LastAt         time.Time     `json:"lastAt,omitempty"`
}

// Percent is the best score as a percentage (0 when never checked).
func (s *Scenario) Percent() int {
	if s == nil || s.BestMax == 0 {
		return 0
	}
	return s.BestScore * 100 / s.BestMax
}

// Exam is one finished exam session.
type Exam struct {
	StartedAt time.Time     `json:"startedAt"`
	EndedAt   time.Time     `json:"endedAt"`
	Minutes   int           `json:"minutes"`
	Seed      int64         `json:"seed"`
	Tasks     []ExamTask    `json:"tasks"`
	Domains   []DomainScore `json:"domains"`
	// Score and Max are weighted points; Percent = Score/Max.
	Score   float64 `json:"score"`
	Max     float64 `json:"max"`
	Percent float64 `json:"percent"`
	Passed  bool    `json:"passed"`
}

// ExamTask is one task's outcome in an exam.
type ExamTask struct {
	Scenario string `json:"scenario"`
	Domain   string `json:"domain"`
	// Weight is the task's share of the exam (points available).
	Weight float64 `json:"weight"`
	// Score is Weight × (check score / check max).
	Score      float64 `json:"score"`
	CheckScore int     `json:"checkScore"`
	CheckMax   int     `json:"checkMax"`
	// BrokenGuards are the task's guards that did not pass (each cancels
	// the points of what it protects).
	BrokenGuards []string `json:"brokenGuards,omitempty"`
	Flagged      bool     `json:"flagged,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// DomainScore sums tasks per CKS domain.
type DomainScore struct {
	Domain string  `json:"domain"`
	Score  float64 `json:"score"`
	Max    float64 `json:"max"`
}

// Store reads and writes the progress file.
type Store struct {
	Path string
}

// Open returns the store of a state root.
func Open(stateRoot string) *Store { return &Store{Path: filepath.Join(stateRoot, FileName)} }

// Load reads the file; a missing file is empty progress.
func (s *Store) Load() (*Data, error) {
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return newData(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read progress %s: %w", s.Path, err)
	}
	d := newData()
	if err := json.Unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("progress file %s is corrupt (%v); move it away to start afresh", s.Path, err)
	}
	if d.Scenarios == nil {
		d.Scenarios = map[string]*Scenario{}
	}
	return d, nil
}

func newData() *Data { return &Data{Version: Version, Scenarios: map[string]*Scenario{}} }

// Update loads, applies fn and saves, holding a lock so concurrent ckslab
// processes do not lose each other's records.
func (s *Store) Update(fn func(*Data) error) error {
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	lock := flock.New(s.Path + ".lock")
	if err := lock.Lock(); err != nil {
		return fmt.Errorf("lock progress %s: %w", s.Path, err)
	}
	defer func() { _ = lock.Unlock() }()
	d, err := s.Load()
	if err != nil {
		return err
	}
	if err := fn(d); err != nil {
		return err
	}
	return s.save(d)
}

func (s *Store) save(d *Data) error {
	d.Version = Version
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(s.Path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save progress: %w", err)
	}
	return nil
}

func (d *Data) scenario(id string) *Scenario {
	sc := d.Scenarios[id]
	if sc == nil {
		sc = &Scenario{ID: id}
		d.Scenarios[id] = sc
	}
	return sc
}

// Get returns a scenario's record, or nil.
func (d *Data) Get(id string) *Scenario {
	if d == nil {
		return nil
	}
	return d.Scenarios[id]
}

// List returns the records sorted by id.
func (d *Data) List() []*Scenario {
	out := make([]*Scenario, 0, len(d.Scenarios))
	for _, s := range d.Scenarios {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// StartAttempt records that a lab session began at `at`.
func (s *Store) StartAttempt(id string, at time.Time) error {
	return s.Update(func(d *Data) error {
		sc := d.scenario(id)
		sc.Attempts++
		sc.CurrentStart = at
		sc.CurrentElapsed = 0
		sc.Penalty = 0
		sc.LastAt = at
		return nil
	})
}

// Check is one check run's outcome.
type Check struct {
	Score, Max int
	Passed     bool // every objective passed
	At         time.Time
}

// RecordCheck records a check of the current attempt: best score (minus the
// attempt's hint penalty), time spent so far, and a solve.
func (s *Store) RecordCheck(id string, c Check) error {
	return s.Update(func(d *Data) error {
		sc := d.scenario(id)
		if sc.CurrentStart.IsZero() { // checked without a recorded start (e.g. CLI after a restart)
			sc.Attempts = max(sc.Attempts, 1)
			sc.CurrentStart = c.At
		}
		sc.Checks++
		sc.LastAt = c.At
		elapsed := c.At.Sub(sc.CurrentStart)
		if elapsed > sc.CurrentElapsed {
			sc.TimeSpent += elapsed - sc.CurrentElapsed
			sc.CurrentElapsed = elapsed
		}
		score := max(c.Score-sc.Penalty, 0)
		if sc.BestMax == 0 || score*max(sc.BestMax, 1) > sc.BestScore*max(c.Max, 1) {
			sc.BestScore, sc.BestMax = score, c.Max
		}
		if c.Passed {
			sc.Solved = true
			if sc.BestTime == 0 || elapsed < sc.BestTime {
				sc.BestTime = elapsed
			}
		}
		return nil
	})
}

// RecordHint records a revealed hint and its penalty.
func (s *Store) RecordHint(id string, penalty int, at time.Time) error {
	return s.Update(func(d *Data) error {
		sc := d.scenario(id)
		sc.HintsUsed++
		sc.Penalty += penalty
		sc.LastAt = at
		return nil
	})
}

// RecordSolution records that the reference solution was viewed.
func (s *Store) RecordSolution(id string, at time.Time) error {
	return s.Update(func(d *Data) error {
		sc := d.scenario(id)
		sc.SolutionViewed = true
		sc.LastAt = at
		return nil
	})
}

// RecordExam appends an exam result.
func (s *Store) RecordExam(e Exam) error {
	return s.Update(func(d *Data) error {
		d.Exams = append(d.Exams, e)
		return nil
	})
}
