package runner

import (
	"errors"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/load"
)

func altScenario() *load.Scenario {
	return &load.Scenario{ID: "demo-01", Scenario: &v1alpha1.Scenario{Spec: v1alpha1.Spec{Checks: []v1alpha1.Check{
		{ID: "app-runs", Guard: true}, {ID: "denied"}, {ID: "restricted"},
	}}}}
}

func TestParseAlternativeStrict(t *testing.T) {
	alt, err := ParseAlternative("a.yaml", []byte("expect: fail\ndescription: d\nmustFail: [denied]\nbackend: kind\noperations:\n- kubectl: get ns\n"))
	if err != nil || alt.Expect != "fail" || alt.Backend != "kind" || len(alt.MustFail) != 1 || alt.Operations[0].Kubectl != "get ns" {
		t.Fatalf("%+v %v", alt, err)
	}
	_, err = ParseAlternative("a.yaml", []byte("expect: fail\nmustfail: [denied]\n"))
	if err == nil || !strings.Contains(err.Error(), "a.yaml") || !strings.Contains(err.Error(), "mustfail") {
		t.Fatalf("an unknown field must be an error naming the file and field, got %v", err)
	}
}

func TestAlternativeProblems(t *testing.T) {
	s := altScenario()
	ops := []v1alpha1.Operation{{Kubectl: "get ns"}}
	tests := []struct {
		alt  Alternative
		want string
	}{
		{Alternative{Expect: "fail", Description: "d", Operations: ops}, "mustFail: required for expect: fail"},
		{Alternative{Expect: "pass", Description: "d", MustFail: []string{"denied"}, Operations: ops}, "mustFail: only for expect: fail"},
		{Alternative{Expect: "fail", Description: "d", MustFail: []string{"denid"}, Operations: ops}, `mustFail[0]: demo-01 has no check "denid" (check ids: app-runs, denied, restricted)`},
		{Alternative{Expect: "fail", Description: "d", MustFail: []string{"denied"}, Backend: "docker", Operations: ops}, `backend: must be one of kind, local, got "docker"`},
		{Alternative{Expect: "maybe", Description: "d", Operations: ops}, `expect: must be pass or fail, got "maybe"`},
		{Alternative{Expect: "pass", Description: "d", Operations: []v1alpha1.Operation{{Kubectl: "kubectl get ns"}}}, "operations[0].kubectl: omit the leading"},
		{Alternative{Expect: "pass", Description: "d"}, "operations: at least one"},
	}
	for _, tt := range tests {
		ps := tt.alt.Problems(s)
		if len(ps) != 1 || !strings.HasPrefix(ps[0], tt.want) {
			t.Errorf("%+v: got %q, want one problem starting %q", tt.alt, ps, tt.want)
		}
	}
	// A guard may be named: a wrong fix can break what must keep working.
	if ps := (Alternative{Expect: "fail", Description: "d", MustFail: []string{"app-runs"}, Operations: ops}).Problems(s); len(ps) > 0 {
		t.Fatalf("mustFail of a guard refused: %v", ps)
	}
}

func TestAlternativeSkipReason(t *testing.T) {
	a := Alternative{Backend: "kind"}
	if why := a.SkipReason("local"); !strings.Contains(why, "only on the kind backend") {
		t.Fatalf("got %q", why)
	}
	if why := a.SkipReason("kind"); why != "" {
		t.Fatalf("got %q", why)
	}
	if why := (Alternative{}).SkipReason("local"); why != "" {
		t.Fatalf("got %q", why)
	}
	var skip *SkippedError
	if !errors.As(error(&SkippedError{Reason: "x"}), &skip) {
		t.Fatal("SkippedError does not match errors.As")
	}
}

func res(id string, st checks.Status) checks.Result {
	return checks.Result{ID: id, Status: st, Weight: 1}
}

// A wrong fix must be caught by the objectives it names, not by any.
func TestAlternativeJudge(t *testing.T) {
	wrong := Alternative{Expect: "fail", MustFail: []string{"denied"}}
	if err := wrong.judge([]checks.Result{res("app-runs", checks.Pass), res("denied", checks.Fail), res("restricted", checks.Pass)}); err != nil {
		t.Fatalf("caught by the named objective: %v", err)
	}
	err := wrong.judge([]checks.Result{res("app-runs", checks.Pass), res("denied", checks.Pass), res("restricted", checks.Fail)})
	if err == nil || !strings.Contains(err.Error(), "must fail denied") || !strings.Contains(err.Error(), "denied: pass") {
		t.Fatalf("caught only by another objective must not count: %v", err)
	}
	if err := wrong.judge([]checks.Result{res("denied", checks.Error)}); err == nil {
		t.Fatal("an error is not a fail: the check could not judge")
	}
	right := Alternative{Expect: "pass"}
	if err := right.judge([]checks.Result{res("app-runs", checks.Fail), res("denied", checks.Pass)}); err == nil || !strings.Contains(err.Error(), "app-runs") {
		t.Fatalf("a correct fix must pass its guards too: %v", err)
	}
}
