package checks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"

	"github.com/google/cel-go/cel"
	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/celx"
)

type nodeFile struct {
	spec            *v1alpha1.NodeFileCheck
	match, notMatch *regexp.Regexp
	expr            cel.Program
	maxMode         fs.FileMode
}

func newNodeFile(cc *compiler, n *v1alpha1.NodeFileCheck) (impl, error) {
	nf := &nodeFile{spec: n}
	var err error
	if n.Matches != "" {
		if nf.match, err = regexp.Compile(n.Matches); err != nil {
			return nil, fmt.Errorf("matches: %w", err)
		}
	}
	if n.NotMatches != "" {
		if nf.notMatch, err = regexp.Compile(n.NotMatches); err != nil {
			return nil, fmt.Errorf("notMatches: %w", err)
		}
	}
	if n.Expr != "" {
		if nf.expr, err = cc.expr(n.Expr, cel.BoolType); err != nil {
			return nil, fmt.Errorf("expr %q: %w", n.Expr, err)
		}
	}
	if n.MaxMode != "" {
		m, err := strconv.ParseUint(n.MaxMode, 8, 32)
		if err != nil {
			return nil, fmt.Errorf("maxMode %q is not octal", n.MaxMode)
		}
		nf.maxMode = fs.FileMode(m)
	}
	return nf, nil
}

func (n *nodeFile) run(ctx context.Context, env *Env) outcome {
	node, o := nodeOf(env, n.spec.Node)
	if o != nil {
		return *o
	}
	p := n.spec.Path
	mode, err := node.Stat(ctx, p)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return errored("stat %s on %s: %v", p, node.Name(), err)
	}
	wantExists := n.spec.Exists == nil || *n.spec.Exists
	if !wantExists {
		if exists {
			return failed(fmt.Sprintf("%s exists on %s; it must be removed", p, node.Name()), "found: present", "expected: absent")
		}
		return passed(fmt.Sprintf("%s does not exist on %s", p, node.Name()))
	}
	if !exists {
		return failed(fmt.Sprintf("%s does not exist on %s", p, node.Name()), "found: absent", "expected: present")
	}
	if n.spec.MaxMode != "" && mode.Perm()&^n.maxMode != 0 {
		return failed(fmt.Sprintf("%s has mode %04o; it must be no wider than %04o", p, mode.Perm(), n.maxMode),
			fmt.Sprintf("found: %04o", mode.Perm()), "expected: at most "+n.spec.MaxMode)
	}
	if n.match == nil && n.notMatch == nil && n.expr == nil {
		return passed(fmt.Sprintf("%s exists on %s", p, node.Name()))
	}
	data, err := node.ReadFile(ctx, p)
	if err != nil {
		return errored("read %s on %s: %v", p, node.Name(), err)
	}
	if n.match != nil && !n.match.Match(data) {
		return failed(fmt.Sprintf("%s does not contain a match for %s", p, n.spec.Matches), "expected: content matching "+n.spec.Matches)
	}
	if n.notMatch != nil {
		if m := n.notMatch.Find(data); m != nil {
			return failed(fmt.Sprintf("%s still contains %q", p, truncate(string(m), 120)), "found: "+truncate(string(m), 200), "expected: no match for "+n.spec.NotMatches)
		}
	}
	if n.expr != nil {
		var obj any
		if err := yaml.Unmarshal(data, &obj); err != nil {
			return failed(fmt.Sprintf("%s is not valid YAML/JSON: %v", p, sentence(err.Error())))
		}
		ok, err := celx.EvalBool(n.expr, map[string]any{"object": obj, "objects": []any{}})
		if err != nil && !celx.IsNoSuchKey(err) {
			return errored("evaluate %s on %s: %v", n.spec.Expr, p, err)
		}
		if !ok {
			msg := fmt.Sprintf("%s does not satisfy %s", p, n.spec.Expr)
			if err != nil {
				msg += fmt.Sprintf(" (%v)", err)
			}
			return failed(msg, "expected: "+n.spec.Expr)
		}
	}
	return passed(fmt.Sprintf("%s on %s is as expected", p, node.Name()))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
