package checks

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

type answerFile struct {
	spec  *v1alpha1.AnswerFileCheck
	match *regexp.Regexp
}

func newAnswerFile(a *v1alpha1.AnswerFileCheck) (impl, error) {
	if len(a.Expect) == 0 && a.Matches == "" {
		return nil, fmt.Errorf("answerFile needs expect or matches")
	}
	af := &answerFile{spec: a}
	if a.Matches != "" {
		re, err := regexp.Compile(a.Matches)
		if err != nil {
			return nil, fmt.Errorf("matches: %w", err)
		}
		af.match = re
	}
	return af, nil
}

// normalizeLine trims, lowercases and collapses inner whitespace.
func normalizeLine(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func (a *answerFile) run(ctx context.Context, env *Env) outcome {
	node, o := nodeOf(env, a.spec.Node)
	if o != nil {
		return *o
	}
	data, err := node.ReadFile(ctx, a.spec.Path)
	if err != nil {
		return failed(fmt.Sprintf("no answer in %s on %s: %v", a.spec.Path, node.Name(), err), "expected: the answer written to "+a.spec.Path)
	}
	if a.match != nil && !a.match.Match(data) {
		return failed(fmt.Sprintf("the answer in %s is not right", a.spec.Path), "found: "+truncate(strings.TrimSpace(string(data)), 200))
	}
	if len(a.spec.Expect) > 0 {
		got := map[string]bool{}
		for _, l := range strings.Split(string(data), "\n") {
			if n := normalizeLine(l); n != "" {
				got[n] = true
			}
		}
		want := map[string]bool{}
		var missing []string
		for _, e := range a.spec.Expect {
			n := normalizeLine(e)
			want[n] = true
			if !got[n] {
				missing = append(missing, strings.TrimSpace(e))
			}
		}
		var extra []string
		for g := range got {
			if !want[g] {
				extra = append(extra, g)
			}
		}
		sort.Strings(extra)
		if len(missing) > 0 || len(extra) > 0 {
			var parts []string
			if len(missing) > 0 {
				parts = append(parts, fmt.Sprintf("%d expected line(s) missing", len(missing)))
			}
			if len(extra) > 0 {
				parts = append(parts, fmt.Sprintf("unexpected line(s): %s", strings.Join(limit(extra, 3), ", ")))
			}
			return failed(fmt.Sprintf("the answer in %s is not right: %s", a.spec.Path, strings.Join(parts, "; ")),
				fmt.Sprintf("found %d line(s), expected %d", len(got), len(want)))
		}
	}
	return passed(fmt.Sprintf("the answer in %s is right", a.spec.Path))
}
