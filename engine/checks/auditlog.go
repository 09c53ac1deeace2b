package checks

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/celx"
	"github.com/ckslab/ckslab/engine/staticpod"
)

type auditLog struct {
	spec *v1alpha1.AuditLogCheck
	expr cel.Program
}

func newAuditLog(cc *compiler, a *v1alpha1.AuditLogCheck) (impl, error) {
	switch a.Expect {
	case "", "present", "absent":
	default:
		return nil, fmt.Errorf("auditLog expect must be present or absent, got %q", a.Expect)
	}
	p, err := cc.event.Compile(a.Expr, cel.BoolType)
	if err != nil {
		return nil, fmt.Errorf("expr %q: %w", a.Expr, err)
	}
	return &auditLog{spec: a, expr: p}, nil
}

func (a *auditLog) run(ctx context.Context, env *Env) outcome {
	node, o := nodeOf(env, a.spec.Node)
	if o != nil {
		return *o
	}
	path := a.spec.Path
	if path == "" {
		mp := staticpod.ManifestsDir + "/kube-apiserver.yaml"
		data, err := node.ReadFile(ctx, mp)
		if err != nil {
			return errored("read %s on %s: %v", mp, node.Name(), err)
		}
		cmd, err := ManifestCommand(data)
		if err != nil {
			return settledFail(fmt.Sprintf("%s: %v", mp, err))
		}
		v, ok := staticpod.FlagValue(cmd, "audit-log-path")
		if !ok || v == "" {
			return settledFail("kube-apiserver has no --audit-log-path, so nothing is audited to a file", "found: --audit-log-path is not set", "expected: an audit log file")
		}
		if v == "-" {
			return settledFail("kube-apiserver writes its audit log to stdout (--audit-log-path=-); write it to a file")
		}
		path = v
	}
	data, err := node.ReadFile(ctx, path)
	if err != nil {
		return failed(fmt.Sprintf("cannot read the audit log %s on %s: %v", path, node.Name(), err), "expected: audit events in "+path)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	total, matched := 0, 0
	var example string
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var ev map[string]any
		if json.Unmarshal(line, &ev) != nil {
			continue
		}
		if before(ev, env.Since) {
			continue
		}
		total++
		ok, err := celx.EvalBool(a.expr, map[string]any{"event": ev})
		if err != nil && !celx.IsNoSuchKey(err) {
			return errored("evaluate %s on an audit event: %v", a.spec.Expr, err)
		}
		if ok {
			matched++
			if example == "" {
				example = eventSummary(ev)
			}
		}
	}
	want := a.spec.Expect
	if want == "" {
		want = "present"
	}
	switch {
	case want == "present" && matched > 0:
		return passed(fmt.Sprintf("%d of %d audit events in %s match", matched, total, path), "found: "+example)
	case want == "present":
		return failed(fmt.Sprintf("none of %d audit events in %s matches %s", total, path, a.spec.Expr), "expected: an event where "+a.spec.Expr)
	case matched > 0:
		return failed(fmt.Sprintf("%d audit events in %s match %s; expected none", matched, path, a.spec.Expr), "found: "+example)
	}
	return passed(fmt.Sprintf("no audit event in %s matches (of %d)", path, total))
}

// before reports whether an audit event was received before since (events
// without a readable timestamp count as recent).
func before(ev map[string]any, since time.Time) bool {
	if since.IsZero() {
		return false
	}
	ts, _ := ev["requestReceivedTimestamp"].(string)
	t, err := time.Parse(time.RFC3339Nano, ts)
	return err == nil && t.Before(since)
}

func eventSummary(ev map[string]any) string {
	s := fmt.Sprintf("%v %v", ev["verb"], ev["requestURI"])
	if u, ok := ev["user"].(map[string]any); ok {
		s += fmt.Sprintf(" by %v", u["username"])
	}
	if l, ok := ev["level"]; ok {
		s += fmt.Sprintf(" at level %v", l)
	}
	return s
}
