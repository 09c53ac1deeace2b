package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/load"
)

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

// NamedAlternative is an alternative with where it came from.
type NamedAlternative struct {
	// Name is the file's base name without .yaml.
	Name string
	// File is the path as shown in messages.
	File string
	Alternative
}

// AlternativeOutcome is the result of running one alternative.
type AlternativeOutcome struct {
	Name    string  `json:"name"`
	File    string  `json:"file,omitempty"`
	Expect  string  `json:"expect"`
	Verdict Verdict `json:"verdict"`
	// Reason says why the alternative disagreed, was skipped or errored.
	Reason string          `json:"reason,omitempty"`
	Seeded []checks.Result `json:"-"`
	After  []checks.Result `json:"after,omitempty"`
}

// RunAlternative applies alt after seeding s and judges the outcome:
// pass (the checks agree with the file), fail (they disagree), skip (not
// on this backend) or error (the trial could not run).
func (r *Runner) RunAlternative(ctx context.Context, s *load.Scenario, alt NamedAlternative) AlternativeOutcome {
	o := AlternativeOutcome{Name: alt.Name, File: alt.File, Expect: alt.Expect}
	if ps := alt.Problems(s); len(ps) > 0 {
		o.Verdict, o.Reason = VerdictError, "invalid alternative: "+strings.Join(ps, "; ")
		return o
	}
	if why := alt.SkipReason(r.Backend.Name()); why != "" {
		o.Verdict, o.Reason = VerdictSkip, why
		return o
	}
	if why := MissingCapabilities(s, r.Backend, r.Backend.Capabilities(ctx)); why != "" {
		o.Verdict, o.Reason = VerdictSkip, why
		return o
	}
	seeded, after, err := r.Trial(ctx, s, alt.Operations, alt.Expect == "pass")
	o.Seeded, o.After = seeded, after
	if err != nil {
		o.Verdict, o.Reason = VerdictError, err.Error()
		return o
	}
	if err := alt.judge(after); err != nil {
		var skip *SkippedError
		if errors.As(err, &skip) {
			o.Verdict, o.Reason = VerdictSkip, skip.Reason
			return o
		}
		o.Verdict, o.Reason = VerdictFail, err.Error()
		return o
	}
	o.Verdict = VerdictPass
	return o
}

// TryAlternative runs an alternative fix and reports whether the outcome
// matched its expectation, with a sentence saying why not. An alternative
// that cannot run here returns a *SkippedError.
func (r *Runner) TryAlternative(ctx context.Context, id string, alt Alternative) ([]checks.Result, error) {
	s, err := r.Catalog.Get(id)
	if err != nil {
		return nil, err
	}
	o := r.RunAlternative(ctx, s, NamedAlternative{Alternative: alt})
	switch o.Verdict {
	case VerdictSkip:
		return nil, &SkippedError{Reason: o.Reason}
	case VerdictPass:
		return o.After, nil
	}
	return o.After, fmt.Errorf("%s", o.Reason)
}

// LoadAlternatives reads dir/<scenario-id>/*.yaml. Every problem is
// returned together: a file that does not decode, a directory that names
// no scenario of the catalog, an alternative that names no real
// objective. Only ids in want (all when nil) are returned.
func LoadAlternatives(c *load.Catalog, dir string, want []string) (map[string][]NamedAlternative, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read alternatives directory: %w", err)
	}
	out := map[string][]NamedAlternative{}
	var problems []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		id := e.Name()
		s, err := c.Get(id)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: no scenario %q in the catalog for these alternatives", filepath.Join(dir, id), id))
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, id, "*.yaml"))
		sort.Strings(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			alt, err := ParseAlternative(f, data)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			for _, p := range alt.Problems(s) {
				problems = append(problems, f+": "+p)
			}
			if want == nil || slices.Contains(want, id) {
				out[id] = append(out[id], NamedAlternative{Name: strings.TrimSuffix(filepath.Base(f), ".yaml"), File: f, Alternative: alt})
			}
		}
	}
	return out, problems, nil
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
	var missed, unjudged []string
	for _, id := range a.MustFail {
		r, ok := byID[id]
		switch {
		case !ok:
			missed = append(missed, id+": no result")
		case checks.NotJudged(r):
			unjudged = append(unjudged, id)
		case r.Status != checks.Fail:
			missed = append(missed, fmt.Sprintf("%s: %s (%s)", id, r.Status, r.Message))
		}
	}
	if len(missed) > 0 {
		return fmt.Errorf("this wrong fix must fail %s, but: %s", strings.Join(a.MustFail, ", "), strings.Join(missed, "; "))
	}
	if len(unjudged) == len(a.MustFail) {
		// Nothing it must fail can be judged here: no verdict either way.
		return &SkippedError{Reason: "every objective this wrong fix must fail is not judged on this backend (" + strings.Join(unjudged, ", ") + ")"}
	}
	return nil
}
