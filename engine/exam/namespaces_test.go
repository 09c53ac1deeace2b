package exam_test

import (
	"testing"

	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/scenarios/exams"
)

// A mock exam's tasks share one cluster: two tasks that seed the same
// namespace (or the same control-plane flag) overwrite each other (metadata-01 relabelled secctx-01's
// payments namespace, so secctx-01's guard broke in an untouched mock 2).
func TestMockTasksShareNoNamespace(t *testing.T) {
	mocks, err := exam.LoadMocks(exams.FS)
	if err != nil {
		t.Fatal(err)
	}
	cat := builtin(t)
	for _, m := range mocks {
		owner := map[string]string{}
		for _, task := range m.Tasks {
			s, err := cat.Get(task.Scenario)
			if err != nil {
				continue // a planned slot
			}
			nss, err := exam.SeededNamespaces(s)
			if err != nil {
				t.Fatal(err)
			}
			for _, ns := range nss {
				if other, ok := owner[ns]; ok {
					t.Errorf("%s: %s and %s both seed namespace %s", m.Name, other, s.ID, ns)
					continue
				}
				owner[ns] = s.ID
			}
			for _, f := range exam.SeededFlags(s) {
				if other, ok := owner["flag "+f]; ok {
					t.Errorf("%s: %s and %s both seed %s", m.Name, other, s.ID, f)
					continue
				}
				owner["flag "+f] = s.ID
			}
		}
		if len(owner) == 0 {
			t.Errorf("%s: no namespace found in any task's setup: the test reads nothing", m.Name)
		}
	}
}

// A drawn exam never holds two tasks that seed the same namespace or the
// same control-plane flag (audit-02 and behavior-01 both set the API
// server's audit flags), whatever
// the seed, and still fills its count from the built-in catalog.
func TestDrawSharesNoNamespace(t *testing.T) {
	cat := builtin(t)
	all := cat.All()
	for seed := int64(0); seed < 50; seed++ {
		p, err := exam.Draw(all, func(*load.Scenario) error { return nil }, 16, 120, seed)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Scenarios) != 16 {
			t.Fatalf("seed %d: %d tasks, want 16", seed, len(p.Scenarios))
		}
		owner := map[string]string{}
		for _, s := range p.Scenarios {
			nss, err := exam.SeededNamespaces(s)
			if err != nil {
				t.Fatal(err)
			}
			for _, ns := range nss {
				if other, ok := owner[ns]; ok {
					t.Fatalf("seed %d: %s and %s both seed namespace %s", seed, other, s.ID, ns)
				}
				owner[ns] = s.ID
			}
			for _, f := range exam.SeededFlags(s) {
				if other, ok := owner["flag "+f]; ok {
					t.Fatalf("seed %d: %s and %s both seed %s", seed, other, s.ID, f)
				}
				owner["flag "+f] = s.ID
			}
		}
	}
}
