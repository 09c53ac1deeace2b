package v1alpha1

import (
	"strings"
	"testing"
)

func guardScenario(cs ...Check) *Scenario {
	return &Scenario{APIVersion: APIVersion, Kind: KindName, Metadata: Metadata{Name: "g"},
		Spec: Spec{Title: "t", Domain: DomainClusterHardening, Competency: "c", Difficulty: "easy", Minutes: 3,
			Task: "t", Checks: cs, Solution: []Operation{{Kubectl: "get ns"}}}}
}

func nsCheck(id string) Check {
	return Check{ID: id, Objective: "o " + id, Assert: &AssertCheck{
		Resource: ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "demo"}, Expr: "true"}}
}

func TestGuardValid(t *testing.T) {
	g := nsCheck("still-runs")
	g.Guard, g.Protects = true, []string{"a"}
	g2 := nsCheck("kept")
	g2.Guard = true
	if errs := guardScenario(g, g2, nsCheck("a"), nsCheck("b")).Validate(); len(errs) > 0 {
		t.Fatalf("valid guards refused: %v", errs)
	}
}

func TestGuardProblems(t *testing.T) {
	g := nsCheck("still-runs")
	g.Guard = true
	errs := guardScenario(g).Validate()
	if len(errs) != 1 || errs[0].Path != "spec.checks" || !strings.Contains(errs[0].Message, "every check is a guard") {
		t.Fatalf("an all-guard scenario must be refused, got %v", errs)
	}
	g.Protects = []string{"a", "a"}
	errs = guardScenario(g, nsCheck("a")).Validate()
	if len(errs) != 1 || errs[0].Path != "spec.checks[0].protects[1]" || !strings.Contains(errs[0].Message, "listed twice") {
		t.Fatalf("duplicate protects: %v", errs)
	}
}

// guard and protects are metadata, not check types.
func TestGuardIsNotACheckType(t *testing.T) {
	for _, n := range CheckTypes() {
		if n == "guard" || n == "protects" {
			t.Fatalf("CheckTypes lists %q", n)
		}
	}
	c := Check{ID: "x", Objective: "o", Guard: true}
	errs := guardScenario(c, nsCheck("a")).Validate()
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "has no check type") {
		t.Fatalf("a guard without a type: %v", errs)
	}
}
