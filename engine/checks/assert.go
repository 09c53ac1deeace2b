package checks

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/parser"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/celx"
	"github.com/ckslab/ckslab/engine/kube"
)

type assert struct {
	spec *v1alpha1.AssertCheck
	expr cel.Program
	msg  cel.Program
	// found evaluates the left side of a comparison (object.x == 'y') to
	// show what was found next to what was expected; nil when not a comparison.
	found     cel.Program
	foundText string
}

func newAssert(cc *compiler, a *v1alpha1.AssertCheck) (impl, error) {
	switch a.Mode {
	case "", "all", "any", "list":
	default:
		return nil, fmt.Errorf("assert mode %q must be all, any or list", a.Mode)
	}
	p, err := cc.expr(a.Expr, cel.BoolType)
	if err != nil {
		return nil, fmt.Errorf("expr %q: %w", a.Expr, err)
	}
	as := &assert{spec: a, expr: p}
	if a.Message != "" {
		if as.msg, err = cc.expr(a.Message, nil); err != nil {
			return nil, fmt.Errorf("message %q: %w", a.Message, err)
		}
	}
	if lhs := comparisonLHS(a.Expr); lhs != "" {
		if f, err := cc.expr(lhs, nil); err == nil {
			as.found, as.foundText = f, lhs
		}
	}
	return as, nil
}

// comparisonLHS returns the left operand of a top-level comparison.
func comparisonLHS(expr string) string {
	p, err := parser.NewParser(parser.Macros(parser.AllMacros...))
	if err != nil {
		return ""
	}
	parsed, iss := p.Parse(common.NewTextSource(expr))
	if iss != nil && len(iss.GetErrors()) > 0 {
		return ""
	}
	e := parsed.Expr()
	if e.Kind() != celast.CallKind {
		return ""
	}
	switch e.AsCall().FunctionName() {
	case "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "@in":
	default:
		return ""
	}
	args := e.AsCall().Args()
	if len(args) != 2 {
		return ""
	}
	s, err := parser.Unparse(args[0], parsed.SourceInfo())
	if err != nil {
		return ""
	}
	return s
}

func (a *assert) run(ctx context.Context, env *Env) outcome {
	r := a.spec.Resource
	objs, o := fetch(ctx, env, r)
	if o != nil {
		return *o
	}
	what := describeRef(r)
	if r.Name != "" && len(objs) == 0 {
		return failed(fmt.Sprintf("%s not found; expected it to exist with %s", what, a.spec.Expr))
	}
	if len(objs) == 0 {
		return failed(fmt.Sprintf("no %s found; expected at least one with %s", what, a.spec.Expr))
	}
	list := make([]any, len(objs))
	for i := range objs {
		list[i] = objs[i].Object
	}
	if a.spec.Mode == "list" {
		vars := map[string]any{"object": nil, "objects": list}
		ok, msg, ev := a.eval(vars, what)
		if ok {
			return passed(fmt.Sprintf("%s: %s holds over %d object(s)", what, a.spec.Expr, len(objs)))
		}
		return failed(msg, ev...)
	}
	var fails []string
	var evidence []string
	good := 0
	for i := range objs {
		name := kube.Describe(&objs[i])
		ok, msg, ev := a.eval(map[string]any{"object": objs[i].Object, "objects": list}, name)
		if ok {
			good++
			continue
		}
		fails = append(fails, msg)
		evidence = append(evidence, ev...)
	}
	if a.spec.Mode == "any" {
		if good > 0 {
			return passed(fmt.Sprintf("%d of %d %s satisfy %s", good, len(objs), what, a.spec.Expr))
		}
		return failed(fmt.Sprintf("none of %d %s satisfies the objective: %s", len(objs), what, strings.Join(limit(fails, 3), "; ")), evidence...)
	}
	if len(fails) == 0 {
		return passed(fmt.Sprintf("%s: %s holds", what, a.spec.Expr))
	}
	if len(objs) == 1 {
		return failed(fails[0], evidence...)
	}
	return failed(fmt.Sprintf("%d of %d %s do not satisfy the objective: %s", len(fails), len(objs), what, strings.Join(limit(fails, 3), "; ")), evidence...)
}

// eval returns whether expr holds, and if not a message and evidence.
func (a *assert) eval(vars map[string]any, name string) (bool, string, []string) {
	ok, err := celx.EvalBool(a.expr, vars)
	if err == nil && ok {
		return true, "", nil
	}
	var ev []string
	ev = append(ev, "expected: "+a.spec.Expr)
	if a.found != nil {
		if v, ferr := celx.EvalString(a.found, vars); ferr == nil {
			ev = append(ev, fmt.Sprintf("found: %s = %s", a.foundText, v))
		} else if celx.IsNoSuchKey(ferr) {
			ev = append(ev, fmt.Sprintf("found: %s is not set (%v)", a.foundText, ferr))
		}
	}
	if a.msg != nil {
		if m, merr := celx.EvalString(a.msg, vars); merr == nil && m != "" {
			return false, fmt.Sprintf("%s: %s", name, m), ev
		}
	}
	switch {
	case err != nil && celx.IsNoSuchKey(err):
		return false, fmt.Sprintf("%s: a field the objective needs is not set (%v)", name, err), ev
	case err != nil:
		return false, fmt.Sprintf("%s: cannot evaluate %s: %v", name, a.spec.Expr, err), ev
	}
	return false, fmt.Sprintf("%s does not satisfy %s", name, a.spec.Expr), ev
}

func limit(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string(nil), s[:n]...), fmt.Sprintf("and %d more", len(s)-n))
}

func describeRef(r v1alpha1.ObjectRef) string {
	if r.Name != "" {
		return kube.Ref(r.Kind, r.Namespace, r.Name)
	}
	s := r.Kind + " objects"
	if r.Selector != "" {
		s += " matching " + r.Selector
	}
	if r.Namespace != "" {
		s += " in namespace " + r.Namespace
	}
	return s
}

// fetch gets one object (none when NotFound) or lists by selector.
func fetch(ctx context.Context, env *Env, r v1alpha1.ObjectRef) ([]unstructured.Unstructured, *outcome) {
	if env.Kube == nil {
		o := errored("no API client: is a lab running? (ckslab start <id>)")
		return nil, &o
	}
	ri, _, err := env.Kube.Resource(r.APIVersion, r.Kind, r.Namespace)
	if err != nil {
		o := fromErr(env, "", err)
		return nil, &o
	}
	if r.Name != "" {
		obj, err := ri.Get(ctx, r.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			o := fromErr(env, "get "+describeRef(r), err)
			return nil, &o
		}
		return []unstructured.Unstructured{*obj}, nil
	}
	l, err := ri.List(ctx, metav1.ListOptions{LabelSelector: r.Selector})
	if err != nil {
		o := fromErr(env, "list "+describeRef(r), err)
		return nil, &o
	}
	return l.Items, nil
}
