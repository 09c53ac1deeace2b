package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/kube"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/ops"
)

// Verdict of validating one scenario.
type Verdict string

const (
	// VerdictPass means every trial of the scenario went as expected.
	VerdictPass Verdict = "pass"
	// VerdictFail means some trial did not go as expected (the report says which).
	VerdictFail Verdict = "fail"
	// VerdictSkip means the backend cannot run or judge the scenario.
	VerdictSkip Verdict = "skip"
	// VerdictError means validation itself could not run.
	VerdictError Verdict = "error"
)

// ValidateResult is the proof for one scenario.
type ValidateResult struct {
	ID      string          `json:"id"`
	Verdict Verdict         `json:"verdict"`
	Reason  string          `json:"reason,omitempty"`
	Seeded  []checks.Result `json:"seeded,omitempty"`
	Solved  []checks.Result `json:"solved,omitempty"`
	// SeededScore and SeededMax score the seeded state by the scoring
	// rule; an untouched lab must score 0.
	SeededScore int `json:"seededScore"`
	SeededMax   int `json:"seededMax"`
	// Alternatives are the instructor's other fixes run after the proof.
	Alternatives []AlternativeOutcome `json:"alternatives,omitempty"`
	// Objectives says, per check, where it was seen failing and passing.
	Objectives []ObjectiveSeen `json:"objectives,omitempty"`
	Duration   time.Duration   `json:"durationNanos"`
}

// Passed reports whether every scenario validated (skips do not fail).
func Passed(rs []ValidateResult) bool {
	for _, r := range rs {
		if r.Verdict == VerdictFail || r.Verdict == VerdictError {
			return false
		}
	}
	return true
}

func (r *Runner) convergeTimeout() time.Duration {
	if r.ConvergeTimeout > 0 {
		return r.ConvergeTimeout
	}
	return 90 * time.Second
}

// Validate proves each scenario both ways: the seeded state scores 0 with
// every guard holding, and after the reference solution every objective
// passes (polling for convergence). The cluster is reset before and after
// each scenario.
func (r *Runner) Validate(ctx context.Context, ids []string) []ValidateResult {
	return r.ValidateWith(ctx, ids, nil)
}

// ValidateWith is Validate that also runs, after each scenario's proof,
// the alternatives given for it (keyed by scenario id; see
// LoadAlternatives). A disagreeing alternative fails the scenario.
func (r *Runner) ValidateWith(ctx context.Context, ids []string, alts map[string][]NamedAlternative) []ValidateResult {
	var out []ValidateResult
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		res := r.validateOne(ctx, id, alts[id])
		res.Duration = time.Since(start)
		out = append(out, res)
	}
	return out
}

func (r *Runner) validateOne(ctx context.Context, id string, alts []NamedAlternative) (res ValidateResult) {
	res = ValidateResult{ID: id}
	s, err := r.Catalog.Get(id)
	if err != nil {
		res.Verdict, res.Reason = VerdictError, err.Error()
		return res
	}
	if why := MissingCapabilities(s, r.Backend, r.Backend.Capabilities(ctx)); why != "" {
		res.Verdict, res.Reason = VerdictSkip, why
		return res
	}
	cov := NewCoverage()
	// The trials keep the scenario's add-ons from one to the next; once
	// they are done the add-ons go, as when a learner's lab ends.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 6*time.Minute)
		defer cancel()
		if err := r.RemoveAddons(rctx, id); err != nil && res.Verdict != VerdictError {
			res.Verdict, res.Reason = VerdictError, "after validating: "+err.Error()
		}
	}()
	seeded, solved, err := r.Trial(ctx, s, s.Spec.Solution, true)
	res.Seeded, res.Solved = seeded, solved
	sum := checks.Summarize(seeded)
	res.SeededScore, res.SeededMax = sum.Score, sum.Max
	cov.Add(s, "seeded", seeded)
	cov.Add(s, "solution", solved)
	switch {
	case err != nil:
		res.Verdict, res.Reason = VerdictError, err.Error()
	case SeededProblem(seeded) != "":
		res.Verdict, res.Reason = VerdictFail, SeededProblem(seeded)
	case !allPassed(solved):
		res.Verdict, res.Reason = VerdictFail, "the reference solution does not pass: "+firstNotPassed(solved)
	default:
		res.Verdict = VerdictPass
	}
	if res.Verdict == VerdictPass {
		// Alternatives only mean something once the proof holds.
		var bad []string
		for _, a := range alts {
			o := r.RunAlternative(ctx, s, a)
			res.Alternatives = append(res.Alternatives, o)
			if o.Verdict == VerdictSkip {
				continue
			}
			cov.Add(s, "seeded", o.Seeded)
			cov.Add(s, "alternative "+a.Name, o.After)
			if o.Verdict != VerdictPass {
				bad = append(bad, a.Name+": "+o.Reason)
			}
		}
		if len(bad) > 0 {
			res.Verdict = VerdictFail
			res.Reason = fmt.Sprintf("%d of %d alternative(s) disagree with the checks: %s", len(bad), len(alts), strings.Join(bad, "; "))
		}
	}
	res.Objectives = cov.Scenario(s.ID)
	return res
}

// SeededProblem says what is wrong with a scenario's seeded-state results,
// or "": every guard must hold (a guard is true before the learner
// starts) and the untouched lab must score 0 (every scored objective still
// to do), naming the offending objectives.
func SeededProblem(seeded []checks.Result) string {
	var guards, scoring []string
	for _, r := range seeded {
		switch {
		case r.Guard && r.Status != checks.Pass:
			guards = append(guards, fmt.Sprintf("%s (%s: %s)", r.ID, r.Status, r.Message))
		case !r.Guard && r.Status == checks.Pass:
			scoring = append(scoring, r.ID)
		}
	}
	var parts []string
	if len(guards) > 0 {
		parts = append(parts, "guard(s) broken in the seeded state, but a guard must hold before the learner starts: "+strings.Join(guards, "; "))
	}
	if len(scoring) > 0 {
		sum := checks.Summarize(seeded)
		parts = append(parts, fmt.Sprintf("the untouched lab scores %d/%d: %s already pass(es) in the seeded state (seed it broken, or mark what is true before the learner starts as guard: true)",
			scoredPoints(seeded, scoring), sum.Max, strings.Join(scoring, ", ")))
	}
	if len(seeded) == 0 {
		parts = append(parts, "no objective was checked in the seeded state")
	} else if len(scoring) == 0 && !anyNotPassed(seeded) {
		parts = append(parts, "no objective fails in the seeded state: the checks do not detect the misconfiguration")
	}
	return strings.Join(parts, "; ")
}

// scoredPoints is what the objectives ids would score with no guard broken.
func scoredPoints(rs []checks.Result, ids []string) int {
	n := 0
	for _, r := range rs {
		if slices.Contains(ids, r.ID) {
			n += r.Points()
		}
	}
	return n
}

// Trial resets the cluster, seeds s, checks, applies fix, checks again
// (polling up to the convergence window when expectPass) and resets. A
// nil fix checks the seeded state only (after is nil).
func (r *Runner) Trial(ctx context.Context, s *load.Scenario, fix []v1alpha1.Operation, expectPass bool) (seeded, after []checks.Result, err error) {
	cl, err := r.ensureCluster(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	k, err := kube.New(cl.Kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	if err := r.resetPrevious(ctx, cl, k, s); err != nil {
		return nil, nil, err
	}
	suite, err := checks.Compile(s.Spec.Checks)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
		defer cancel()
		if rerr := r.resetPrevious(rctx, cl, k, s); rerr != nil && err == nil {
			err = fmt.Errorf("reset after %s: %w", s.ID, rerr)
		}
	}()
	st, err := r.setup(ctx, s, cl, k)
	if err != nil {
		return nil, nil, err
	}
	suite.NoPolling = true
	seeded, err = r.runChecks(ctx, s, cl, suite, st.Started)
	suite.NoPolling = false
	if err != nil || fix == nil {
		return seeded, nil, err
	}
	// The fix is tracked too, so the final reset removes what it created.
	tr := ops.NewTracker(st.Tracked, func(t ops.Tracked) error {
		st.Tracked = t
		return r.saveState(st)
	})
	if err := r.step("solution", "Applying the fix for "+s.ID, func() error {
		return ops.Run(ctx, r.opsEnv(s, cl, k, tr, "solution"), fix)
	}); err != nil {
		return seeded, nil, fmt.Errorf("apply the fix: %w", err)
	}
	deadline := time.Now().Add(r.convergeTimeout())
	for {
		if after, err = r.runChecks(ctx, s, cl, suite, st.Started); err != nil {
			return seeded, nil, err
		}
		if !expectPass || allPassed(after) || time.Now().After(deadline) {
			return seeded, after, nil
		}
		select {
		case <-ctx.Done():
			return seeded, after, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// allPassed: every objective passes, except scored ones this backend
// cannot judge (skipped as not judged here, see checks.NotJudged), and at
// least one scored objective was judged and passed. A guard must pass.
func allPassed(rs []checks.Result) bool {
	judged := false
	for _, r := range rs {
		switch {
		case r.Status == checks.Pass:
			judged = judged || !r.Guard
		case !r.Guard && checks.NotJudged(r):
		default:
			return false
		}
	}
	return judged
}

// anyNotPassed: some scored objective fails or errors.
func anyNotPassed(rs []checks.Result) bool {
	for _, r := range rs {
		if !r.Guard && (r.Status == checks.Fail || r.Status == checks.Error) {
			return true
		}
	}
	return false
}

func firstNotPassed(rs []checks.Result) string {
	var parts []string
	for _, r := range rs {
		if r.Status != checks.Pass {
			parts = append(parts, fmt.Sprintf("%s: %s: %s", r.ID, r.Status, r.Message))
		}
	}
	return strings.Join(parts, "; ")
}
