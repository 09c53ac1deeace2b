// Package exam plans, weighs and scores ckslab's timed exam sessions: a
// seeded draw across the CKS domains (ckslab exam) or a curated mock exam
// (ckslab exam --mock N, defined in scenarios/exams), and runs their tasks
// on one cluster (Session), undoing every task at the end. The UI renders
// a Plan and a scored progress.Exam; it decides nothing about them.
package exam

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/curriculum"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/progress"
)

// PassPercent is the CKS passing score.
const PassPercent = 67.0

// NotScored starts the error of a task that could not run in this session
// (progress.ExamTask.Error): it has no weight and is not in the maximum.
const NotScored = "not scored: "

// Plan is an exam session: which scenarios, in which order, for how long,
// and how much each task is worth.
type Plan struct {
	Scenarios []*load.Scenario
	// Weights are the tasks' points, in the order of Scenarios; they add
	// up to 100 less the weight of Unavailable tasks.
	Weights []float64
	Minutes int
	Seed    int64
	// Mock names the mock exam ("mock-1"), "" for a drawn exam.
	Mock string
	// Unavailable are the mock exam's tasks that cannot run here (the
	// backend lacks what they need, or the scenario is not in the catalog
	// yet): not seeded, not scored, excluded from the maximum.
	Unavailable []Unavailable
}

// Unavailable is a task of a mock exam left out of this session.
type Unavailable struct {
	ID     string
	Domain v1alpha1.Domain
	// Weight is what the task would have been worth.
	Weight float64
	Reason string
}

// IDs are the plan's scenario ids in task order.
func (p Plan) IDs() []string {
	out := make([]string, len(p.Scenarios))
	for i, s := range p.Scenarios {
		out[i] = s.ID
	}
	return out
}

// Without returns the plan without task id (a task that could not be
// seeded): it moves to Unavailable with its weight and reason, so it is
// neither shown as a task nor part of the maximum.
func (p Plan) Without(id, reason string) Plan {
	out := p
	out.Scenarios, out.Weights = nil, nil
	out.Unavailable = append([]Unavailable(nil), p.Unavailable...)
	for i, s := range p.Scenarios {
		if s.ID == id {
			out.Unavailable = append(out.Unavailable, Unavailable{ID: id, Domain: s.Spec.Domain, Weight: p.Weight(i), Reason: reason})
			continue
		}
		out.Scenarios = append(out.Scenarios, s)
		out.Weights = append(out.Weights, p.Weight(i))
	}
	return out
}

// Weight is task i's share of the exam in points.
func (p Plan) Weight(i int) float64 {
	if i < len(p.Weights) {
		return p.Weights[i]
	}
	return 0
}

// Draw plans a drawn exam: up to count scenarios the backend supports,
// spread across the CKS domains (each domain's scenarios are shuffled with
// seed, then domains are taken round-robin in curriculum order; same seed,
// same exam). Tasks are weighted by their suggested minutes, as the real
// exam weights tasks by size.
func Draw(all []*load.Scenario, supports func(*load.Scenario) error, count, minutes int, seed int64) (Plan, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x636b736c6162))
	var pools [][]*load.Scenario
	total := 0
	for _, d := range v1alpha1.Domains {
		var pool []*load.Scenario
		for _, s := range all {
			if s.Spec.Domain == d && supports(s) == nil {
				pool = append(pool, s)
			}
		}
		rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		pools = append(pools, pool)
		total += len(pool)
	}
	if total == 0 {
		return Plan{}, fmt.Errorf("no scenario in the catalog can run on this backend; try --backend kind")
	}
	// Round-robin over the domains; within a domain the next scenario that
	// seeds no namespace and no control-plane flag an earlier pick seeds
	// (tasks share one cluster).
	var out []*load.Scenario
	next := make([]int, len(pools))
	guard := seedGuard{}
	for progress := true; progress && len(out) < count; {
		progress = false
		for i, pool := range pools {
			for next[i] < len(pool) && len(out) < count {
				s := pool[next[i]]
				next[i]++
				if guard.admit(s) {
					out = append(out, s)
					progress = true
					break
				}
			}
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return Plan{Scenarios: out, Weights: MinuteWeights(out), Minutes: minutes, Seed: seed}, nil
}

// MinuteWeights weighs tasks by their suggested minutes, scaled to 100.
func MinuteWeights(ss []*load.Scenario) []float64 {
	total := 0
	for _, s := range ss {
		total += max(s.Spec.Minutes, 1)
	}
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = 100 * float64(max(s.Spec.Minutes, 1)) / float64(total)
	}
	return out
}

// CurriculumWeights weighs tasks as the curriculum weighs domains: each
// domain's weight (curriculum.Weight) is shared by its tasks in proportion
// to their suggested minutes. Over tasks covering every domain the weights
// add up to 100; a domain without a task leaves its weight out.
func CurriculumWeights(domains []v1alpha1.Domain, minutes []int) []float64 {
	perDomain := map[v1alpha1.Domain]int{}
	for i, d := range domains {
		perDomain[d] += max(minutes[i], 1)
	}
	out := make([]float64, len(domains))
	for i, d := range domains {
		out[i] = float64(curriculum.Weight(d)) * float64(max(minutes[i], 1)) / float64(perDomain[d])
	}
	return out
}

// TaskOutcome is what Score needs of one task.
type TaskOutcome struct {
	Scenario *load.Scenario
	Results  []checks.Result
	Err      error
	Flagged  bool
}

// Score scores each task of plan (tasks in plan order) by the share of its
// objectives' weights that passed, by the same rule as check and the lab
// TUI (checks.Summarize): guards award nothing and a broken guard cancels
// what it protects, so an untouched task scores 0. A task whose check
// failed to run scores 0. Unavailable tasks are listed with weight 0 and
// their reason; they are not part of the maximum.
func Score(plan Plan, tasks []TaskOutcome, started, ended time.Time) progress.Exam {
	ex := progress.Exam{StartedAt: started, EndedAt: ended, Minutes: plan.Minutes, Seed: plan.Seed}
	byDomain := map[string]*progress.DomainScore{}
	for i, t := range tasks {
		weight := plan.Weight(i)
		s := Summary(t.Scenario, t.Results)
		et := progress.ExamTask{Scenario: t.Scenario.ID, Domain: string(t.Scenario.Spec.Domain), Weight: round1(weight),
			CheckScore: s.Score, CheckMax: s.Max, BrokenGuards: s.BrokenGuards, Flagged: t.Flagged}
		score := 0.0
		if t.Err != nil {
			et.Error = t.Err.Error()
		} else if s.Max > 0 {
			score = weight * float64(s.Score) / float64(s.Max)
			et.Score = round1(score)
		}
		ex.Tasks = append(ex.Tasks, et)
		// Sum exact values and round once: rounded weights may add up to
		// 100.1.
		ex.Score += score
		ex.Max += weight
		d := byDomain[et.Domain]
		if d == nil {
			d = &progress.DomainScore{Domain: et.Domain}
			byDomain[et.Domain] = d
		}
		d.Score += score
		d.Max += weight
	}
	for _, u := range plan.Unavailable {
		ex.Tasks = append(ex.Tasks, progress.ExamTask{Scenario: u.ID, Domain: string(u.Domain), Error: NotScored + u.Reason})
	}
	for _, d := range v1alpha1.Domains {
		if s := byDomain[string(d)]; s != nil {
			s.Score, s.Max = round1(s.Score), round1(s.Max)
			ex.Domains = append(ex.Domains, *s)
		}
	}
	ex.Score, ex.Max = round1(ex.Score), round1(ex.Max)
	if ex.Max > 0 {
		ex.Percent = round1(100 * ex.Score / ex.Max)
	}
	ex.Passed = ex.Percent >= PassPercent
	return ex
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// WithSpec returns rs with each result's guard, protects and weight taken
// from the scenario's checks, so scoring follows the spec whatever engine
// produced the results.
func WithSpec(sc *load.Scenario, rs []checks.Result) []checks.Result {
	if sc == nil || sc.Scenario == nil {
		return rs
	}
	byID := map[string]int{}
	for i, c := range sc.Spec.Checks {
		byID[c.ID] = i
	}
	out := make([]checks.Result, len(rs))
	for i, r := range rs {
		if j, ok := byID[r.ID]; ok {
			c := sc.Spec.Checks[j]
			r.Guard, r.Protects, r.Weight = c.Guard, c.Protects, max(c.Weight, 1)
			if c.Guard {
				r.Weight = 0
			}
		}
		out[i] = r
	}
	return out
}

// Summary scores one task's results by the spec (checks.Summarize).
func Summary(sc *load.Scenario, rs []checks.Result) checks.Summary {
	return checks.Summarize(WithSpec(sc, rs))
}
