package checks

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

type regoCheck struct {
	spec   *v1alpha1.RegoCheck
	inputs []any
	match  []*regexp.Regexp
}

func newRego(r *v1alpha1.RegoCheck) (impl, error) {
	if r.PolicyPath == "" || r.Query == "" || len(r.Cases) == 0 {
		return nil, fmt.Errorf("rego needs policyPath, query and at least one case")
	}
	rc := &regoCheck{spec: r}
	for i, c := range r.Cases {
		var in any
		if err := yaml.Unmarshal([]byte(c.Input), &in); err != nil {
			return nil, fmt.Errorf("case %d (%s) input: %w", i, c.Name, err)
		}
		rc.inputs = append(rc.inputs, in)
		var re *regexp.Regexp
		if c.MessageMatches != "" {
			var err error
			if re, err = regexp.Compile(c.MessageMatches); err != nil {
				return nil, fmt.Errorf("case %d (%s) messageMatches: %w", i, c.Name, err)
			}
		}
		rc.match = append(rc.match, re)
	}
	return rc, nil
}

// prepare compiles the learner's policy: Rego v1 first, then v0 syntax
// (many CKS tutorials still write `deny[msg] { ... }`).
func prepare(ctx context.Context, path, src, query string) (rego.PreparedEvalQuery, error) {
	var first error
	for _, v := range []ast.RegoVersion{ast.RegoV1, ast.RegoV0} {
		pq, err := rego.New(rego.Query(query), rego.Module(path, src), rego.SetRegoVersion(v)).PrepareForEval(ctx)
		if err == nil {
			return pq, nil
		}
		if first == nil {
			first = err
		}
	}
	return rego.PreparedEvalQuery{}, first
}

func (r *regoCheck) run(ctx context.Context, env *Env) outcome {
	node, o := nodeOf(env, r.spec.Node)
	if o != nil {
		return *o
	}
	src, err := node.ReadFile(ctx, r.spec.PolicyPath)
	if err != nil {
		return failed(fmt.Sprintf("cannot read the policy %s on %s: %v", r.spec.PolicyPath, node.Name(), err))
	}
	pq, err := prepare(ctx, r.spec.PolicyPath, string(src), r.spec.Query)
	if err != nil {
		return failed(fmt.Sprintf("the policy %s does not compile: %s", r.spec.PolicyPath, oneLineRego(err)))
	}
	var bad, ev []string
	for i, c := range r.spec.Cases {
		rs, err := pq.Eval(ctx, rego.EvalInput(r.inputs[i]))
		if err != nil {
			bad = append(bad, fmt.Sprintf("case %q: evaluation failed: %s", c.Name, oneLineRego(err)))
			continue
		}
		deny, msgs := decision(rs)
		got := "allow"
		if deny {
			got = "deny"
		}
		want := "allow"
		if c.ExpectDeny {
			want = "deny"
		}
		ev = append(ev, fmt.Sprintf("case %s: %s (expected %s)%s", c.Name, got, want, msgList(msgs)))
		switch {
		case deny != c.ExpectDeny:
			bad = append(bad, fmt.Sprintf("case %q: the policy decides %s, expected %s", c.Name, got, want))
		case deny && r.match[i] != nil && !anyMatch(r.match[i], msgs):
			bad = append(bad, fmt.Sprintf("case %q: denied, but no message matches %s%s", c.Name, c.MessageMatches, msgList(msgs)))
		}
	}
	if len(bad) > 0 {
		return failed(strings.Join(limit(bad, 3), "; "), ev...)
	}
	return passed(fmt.Sprintf("the policy gives the expected decision for all %d cases", len(r.spec.Cases)), ev...)
}

// decision reads a deny-style query result: a non-empty set/array/object,
// true, or a non-empty string means deny; strings found are the messages.
func decision(rs rego.ResultSet) (bool, []string) {
	deny := false
	var msgs []string
	for _, res := range rs {
		for _, e := range res.Expressions {
			switch v := e.Value.(type) {
			case bool:
				deny = deny || v
			case string:
				if v != "" {
					deny = true
					msgs = append(msgs, v)
				}
			case []any:
				if len(v) > 0 {
					deny = true
				}
				for _, m := range v {
					msgs = append(msgs, fmt.Sprint(m))
				}
			case map[string]any:
				if len(v) > 0 {
					deny = true
				}
				for k := range v {
					msgs = append(msgs, k)
				}
			case nil:
			default:
				deny = true
				msgs = append(msgs, fmt.Sprint(v))
			}
		}
	}
	sort.Strings(msgs)
	return deny, msgs
}

func anyMatch(re *regexp.Regexp, msgs []string) bool {
	for _, m := range msgs {
		if re.MatchString(m) {
			return true
		}
	}
	return false
}

func msgList(msgs []string) string {
	if len(msgs) == 0 {
		return ""
	}
	return ": " + strings.Join(limit(msgs, 3), "; ")
}

func oneLineRego(err error) string {
	s := strings.TrimSpace(err.Error())
	lines := strings.Split(s, "\n")
	var keep []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "^") {
			continue
		}
		keep = append(keep, l)
		if len(keep) == 3 {
			break
		}
	}
	return strings.Join(keep, " ")
}
