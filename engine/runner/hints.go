package runner

import (
	"fmt"
	"strings"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/ops"
	"github.com/ckslab/ckslab/engine/staticpod"
)

// Hint reveals hint n (1-based) of the current lab and records its penalty once.
func (r *Runner) Hint(n int) (v1alpha1.Hint, int, error) {
	st, err := r.LoadState()
	if err != nil {
		return v1alpha1.Hint{}, 0, err
	}
	s, err := r.Catalog.Get(st.Scenario)
	if err != nil {
		return v1alpha1.Hint{}, 0, err
	}
	hs := s.Spec.Hints
	if len(hs) == 0 {
		return v1alpha1.Hint{}, 0, fmt.Errorf("%s has no hints", s.ID)
	}
	if n == 0 {
		n = len(st.HintsUsed) + 1
		if n > len(hs) {
			n = len(hs)
		}
	}
	if n < 1 || n > len(hs) {
		return v1alpha1.Hint{}, 0, fmt.Errorf("%s has hints 1 to %d, not %d", s.ID, len(hs), n)
	}
	seen := false
	for _, u := range st.HintsUsed {
		seen = seen || u == n
	}
	if !seen {
		st.HintsUsed = append(st.HintsUsed, n)
		st.Penalty += hs[n-1].Penalty
		if err := r.saveState(st); err != nil {
			return v1alpha1.Hint{}, 0, err
		}
	}
	return hs[n-1], n, nil
}

// Solution returns the reference solution of the current lab as text and
// records that it was seen.
func (r *Runner) Solution() (string, error) {
	st, err := r.LoadState()
	if err != nil {
		return "", err
	}
	s, err := r.Catalog.Get(st.Scenario)
	if err != nil {
		return "", err
	}
	st.SolutionSeen = true
	if err := r.saveState(st); err != nil {
		return "", err
	}
	return SolutionText(s), nil
}

// SolutionText renders a scenario's solution as steps a learner can follow.
func SolutionText(s *load.Scenario) string {
	var b strings.Builder
	for i, op := range s.Spec.Solution {
		switch {
		case op.Kubectl != "":
			fmt.Fprintf(&b, "%d. kubectl %s\n", i+1, op.Kubectl)
		case op.Apply != nil && op.Apply.File != "":
			fmt.Fprintf(&b, "%d. Apply %s:\n\n", i+1, op.Apply.File)
			if data, err := s.ReadFile(op.Apply.File); err == nil {
				b.WriteString(indent(string(data)))
			}
			b.WriteString("\n")
		case op.Apply != nil:
			fmt.Fprintf(&b, "%d. Apply:\n\n%s\n", i+1, indent(op.Apply.Manifest))
		case op.Node != nil && op.Node.EditManifest != nil:
			em := op.Node.EditManifest
			fmt.Fprintf(&b, "%d. Edit %s/%s.yaml on the control-plane node:\n", i+1, staticpod.ManifestsDir, em.Component)
			for k, v := range em.SetFlags {
				fmt.Fprintf(&b, "   - set --%s=%s\n", k, v)
			}
			for _, f := range em.RemoveFlags {
				fmt.Fprintf(&b, "   - remove --%s\n", f)
			}
			for _, v := range em.AddHostPathVolumes {
				fmt.Fprintf(&b, "   - mount host path %s (volume %s)\n", v.Path, v.Name)
			}
		case op.Node != nil && op.Node.WriteFile != nil:
			w := op.Node.WriteFile
			fmt.Fprintf(&b, "%d. Write %s on the node:\n\n", i+1, w.Path)
			content := w.Content
			if w.File != "" {
				if data, err := s.ReadFile(w.File); err == nil {
					content = string(data)
				}
			}
			b.WriteString(indent(content))
			b.WriteString("\n")
		default:
			fmt.Fprintf(&b, "%d. %s\n", i+1, ops.Describe(op))
		}
	}
	return b.String()
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}
