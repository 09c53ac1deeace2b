package checks

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/celx"
	"github.com/ckslab/ckslab/engine/kube"
)

type absent struct {
	spec  *v1alpha1.AbsentCheck
	where cel.Program
}

func newAbsent(cc *compiler, a *v1alpha1.AbsentCheck) (impl, error) {
	ab := &absent{spec: a}
	if a.Where != "" {
		p, err := cc.expr(a.Where, cel.BoolType)
		if err != nil {
			return nil, fmt.Errorf("where %q: %w", a.Where, err)
		}
		ab.where = p
	}
	return ab, nil
}

func (a *absent) run(ctx context.Context, env *Env) outcome {
	objs, o := fetch(ctx, env, a.spec.Resource)
	if o != nil {
		return *o
	}
	var found []string
	for i := range objs {
		if a.where != nil {
			ok, err := celx.EvalBool(a.where, map[string]any{"object": objs[i].Object, "objects": []any{}})
			if err != nil && !celx.IsNoSuchKey(err) {
				return errored("evaluate %s on %s: %v", a.spec.Where, kube.Describe(&objs[i]), err)
			}
			if !ok {
				continue
			}
		}
		found = append(found, kube.Describe(&objs[i]))
	}
	what := describeRef(a.spec.Resource)
	if a.spec.Where != "" {
		what += " where " + a.spec.Where
	}
	if len(found) == 0 {
		return passed(fmt.Sprintf("no %s exists", what))
	}
	return failed(fmt.Sprintf("expected no %s, found %d: %s", what, len(found), strings.Join(limit(found, 5), ", ")),
		"found: "+strings.Join(limit(found, 10), ", "), "expected: none")
}
