package runner

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

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
// it must pass. A wrong fix (expect: fail) names the objectives that must
// catch it in MustFail.
type Alternative struct {
	Expect      string `json:"expect"`
	Description string `json:"description"`
	// MustFail (required for expect: fail, refused for pass) lists the
	// check ids that must fail after this fix; the others may do anything.
	MustFail []string `json:"mustFail,omitempty"`
	// Backend restricts the alternative to one backend (kind or local);
	// elsewhere it is skipped with the reason. Default: any backend the
	// scenario runs on.
	Backend    string               `json:"backend,omitempty"`
	Operations []v1alpha1.Operation `json:"operations"`
}

// AlternativeBackends are the values Alternative.Backend accepts.
func AlternativeBackends() []string { return []string{"kind", "local"} }

// yamlPosRE splits goccy/go-yaml's "[line:col] message".
var yamlPosRE = regexp.MustCompile(`^\[(\d+):(\d+)\]\s*(.*)`)

// ParseAlternative decodes an alternative file strictly: unknown fields,
// wrong types and duplicate keys are errors naming file:line:col.
func ParseAlternative(file string, data []byte) (Alternative, error) {
	var alt Alternative
	if err := yaml.UnmarshalWithOptions(data, &alt, yaml.Strict()); err != nil {
		msg := yaml.FormatError(err, false, false)
		if m := yamlPosRE.FindStringSubmatch(msg); m != nil {
			return Alternative{}, fmt.Errorf("%s:%s:%s: %s", file, m[1], m[2], m[3])
		}
		return Alternative{}, fmt.Errorf("%s: %s", file, msg)
	}
	return alt, nil
}

// Problems lists what is wrong with alt as a fix for s (empty when fine):
// expect, mustFail naming real check ids, backend, the operations.
func (a Alternative) Problems(s *load.Scenario) []string {
	var ps []string
	ids := map[string]bool{}
	for _, c := range s.Spec.Checks {
		ids[c.ID] = true
	}
	switch a.Expect {
	case "pass":
		if len(a.MustFail) > 0 {
			ps = append(ps, "mustFail: only for expect: fail (a correct fix must pass every objective)")
		}
	case "fail":
		if len(a.MustFail) == 0 {
			ps = append(ps, "mustFail: required for expect: fail: name the objectives that must catch this wrong fix (check ids: "+strings.Join(checkIDs(s), ", ")+")")
		}
	default:
		ps = append(ps, fmt.Sprintf("expect: must be pass or fail, got %q", a.Expect))
	}
	seen := map[string]bool{}
	for i, id := range a.MustFail {
		switch {
		case !ids[id]:
			ps = append(ps, fmt.Sprintf("mustFail[%d]: %s has no check %q (check ids: %s)", i, s.ID, id, strings.Join(checkIDs(s), ", ")))
		case seen[id]:
			ps = append(ps, fmt.Sprintf("mustFail[%d]: %q listed twice", i, id))
		}
		seen[id] = true
	}
	if a.Backend != "" && !slices.Contains(AlternativeBackends(), a.Backend) {
		ps = append(ps, fmt.Sprintf("backend: must be one of %s, got %q", strings.Join(AlternativeBackends(), ", "), a.Backend))
	}
	if strings.TrimSpace(a.Description) == "" {
		ps = append(ps, "description: required: say why this fix is right or plausibly wrong")
	}
	if len(a.Operations) == 0 {
		ps = append(ps, "operations: at least one operation is required")
	}
	for _, fe := range v1alpha1.ValidateOperations("operations", a.Operations) {
		ps = append(ps, fe.Error())
	}
	return ps
}

// SkipReason says why alt does not run on backend, or "".
func (a Alternative) SkipReason(backend string) string {
	if a.Backend != "" && a.Backend != backend {
		return fmt.Sprintf("this alternative runs only on the %s backend (backend: %s), not on %s", a.Backend, a.Backend, backend)
	}
	return ""
}

func checkIDs(s *load.Scenario) []string {
	var out []string
	for _, c := range s.Spec.Checks {
		out = append(out, c.ID)
	}
	return out
}

// SkippedError is returned by TryAlternative when the alternative cannot
// run on this backend; Reason says why.
type SkippedError struct{ Reason string }

func (e *SkippedError) Error() string { return "skipped: " + e.Reason }

// TryAlternative runs an alternative fix and reports whether the outcome
// matched its expectation, with a sentence saying why not. An alternative
// that cannot run here returns a *SkippedError.
func (r *Runner) TryAlternative(ctx context.Context, id string, alt Alternative) ([]checks.Result, error) {
	s, err := r.Catalog.Get(id)
	if err != nil {
		return nil, err
	}
	if ps := alt.Problems(s); len(ps) > 0 {
		return nil, fmt.Errorf("invalid alternative for %s: %s", id, strings.Join(ps, "; "))
	}
	if why := alt.SkipReason(r.Backend.Name()); why != "" {
		return nil, &SkippedError{Reason: why}
	}
	if why := MissingCapabilities(s, r.Backend.Name(), r.Backend.Capabilities(ctx)); why != "" {
		return nil, &SkippedError{Reason: why}
	}
	_, after, err := r.Trial(ctx, s, alt.Operations, alt.Expect == "pass")
	if err != nil {
		return after, err
	}
	return after, alt.judge(after)
}

// judge compares results after an alternative with its expectation.
func (a Alternative) judge(after []checks.Result) error {
	if a.Expect == "pass" {
		if !allPassed(after) {
			return fmt.Errorf("this fix should pass but does not: %s", firstNotPassed(after))
		}
		return nil
	}
	byID := map[string]checks.Result{}
	for _, r := range after {
		byID[r.ID] = r
	}
	var missed []string
	for _, id := range a.MustFail {
		r, ok := byID[id]
		switch {
		case !ok:
			missed = append(missed, id+": no result")
		case r.Status != checks.Fail:
			missed = append(missed, fmt.Sprintf("%s: %s (%s)", id, r.Status, r.Message))
		}
	}
	if len(missed) > 0 {
		return fmt.Errorf("this wrong fix must fail %s, but: %s", strings.Join(a.MustFail, ", "), strings.Join(missed, "; "))
	}
	return nil
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
