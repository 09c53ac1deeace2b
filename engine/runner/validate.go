package runner

import (
	"context"
	"errors"
	"fmt"
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
	VerdictPass  Verdict = "pass"
	VerdictFail  Verdict = "fail"
	VerdictSkip  Verdict = "skip"
	VerdictError Verdict = "error"
)

// ValidateResult is the proof for one scenario.
type ValidateResult struct {
	ID       string          `json:"id"`
	Verdict  Verdict         `json:"verdict"`
	Reason   string          `json:"reason,omitempty"`
	Seeded   []checks.Result `json:"seeded,omitempty"`
	Solved   []checks.Result `json:"solved,omitempty"`
	Duration time.Duration   `json:"durationNanos"`
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

// Validate proves each scenario both ways: seeded, at least one objective
// is not met; after the reference solution, all are (polling for
// convergence). The cluster is reset before and after each scenario.
func (r *Runner) Validate(ctx context.Context, ids []string) []ValidateResult {
	var out []ValidateResult
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		res := r.validateOne(ctx, id)
		res.Duration = time.Since(start)
		out = append(out, res)
	}
	return out
}

func (r *Runner) validateOne(ctx context.Context, id string) ValidateResult {
	res := ValidateResult{ID: id}
	s, err := r.Catalog.Get(id)
	if err != nil {
		res.Verdict, res.Reason = VerdictError, err.Error()
		return res
	}
	if why := MissingCapabilities(s, r.Backend.Name(), r.Backend.Capabilities(ctx)); why != "" {
		res.Verdict, res.Reason = VerdictSkip, why
		return res
	}
	seeded, solved, err := r.Trial(ctx, s, s.Spec.Solution, true)
	res.Seeded, res.Solved = seeded, solved
	switch {
	case err != nil:
		res.Verdict, res.Reason = VerdictError, err.Error()
	case !anyNotPassed(seeded):
		res.Verdict, res.Reason = VerdictFail, "every objective already passes in the seeded state: the checks do not detect the misconfiguration"
	case !allPassed(solved):
		res.Verdict, res.Reason = VerdictFail, "the reference solution does not pass: "+firstNotPassed(solved)
	default:
		res.Verdict = VerdictPass
	}
	return res
}

// Trial resets the cluster, seeds s, checks, applies fix, checks again
// (polling up to the convergence window when expectPass) and resets.
func (r *Runner) Trial(ctx context.Context, s *load.Scenario, fix []v1alpha1.Operation, expectPass bool) (seeded, after []checks.Result, err error) {
	cl, err := r.ensureCluster(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	k, err := kube.New(cl.Kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	if err := r.resetPrevious(ctx, cl, k); err != nil {
		return nil, nil, err
	}
	suite, err := checks.Compile(s.Spec.Checks)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
		defer cancel()
		if rerr := r.resetPrevious(rctx, cl, k); rerr != nil && err == nil {
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
	if err != nil {
		return nil, nil, err
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

// Alternative is a testdata/alternatives file: a different fix and whether
// it must pass.
type Alternative struct {
	Expect      string               `json:"expect"`
	Description string               `json:"description"`
	Operations  []v1alpha1.Operation `json:"operations"`
}

// TryAlternative runs an alternative fix and reports whether the outcome
// matched its expectation, with a sentence saying why not.
func (r *Runner) TryAlternative(ctx context.Context, id string, alt Alternative) ([]checks.Result, error) {
	s, err := r.Catalog.Get(id)
	if err != nil {
		return nil, err
	}
	if alt.Expect != "pass" && alt.Expect != "fail" {
		return nil, fmt.Errorf("expect must be pass or fail, got %q", alt.Expect)
	}
	_, after, err := r.Trial(ctx, s, alt.Operations, alt.Expect == "pass")
	if err != nil {
		return after, err
	}
	switch {
	case alt.Expect == "pass" && !allPassed(after):
		return after, fmt.Errorf("this fix should pass but does not: %s", firstNotPassed(after))
	case alt.Expect == "fail" && allPassed(after):
		return after, errors.New("this wrong fix should fail at least one objective, but every objective passes")
	}
	return after, nil
}

func allPassed(rs []checks.Result) bool {
	for _, r := range rs {
		if r.Status != checks.Pass {
			return false
		}
	}
	return len(rs) > 0
}

func anyNotPassed(rs []checks.Result) bool {
	for _, r := range rs {
		if r.Status == checks.Fail || r.Status == checks.Error {
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
