package curriculum_test

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/curriculum"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/scenarios"
)

// The list transcribes CKS v1.34: six domains weighted 15/15/10/20/20/20
// and 26 competencies (5, 4, 4, 4, 4, 5), ids unique.
func TestCurriculumShape(t *testing.T) {
	ds := curriculum.Domains()
	if len(ds) != len(v1alpha1.Domains) {
		t.Fatalf("%d domains, want %d", len(ds), len(v1alpha1.Domains))
	}
	sum := 0
	for i, d := range ds {
		if d.ID != v1alpha1.Domains[i] {
			t.Errorf("domain %d is %s, want %s (curriculum order)", i, d.ID, v1alpha1.Domains[i])
		}
		sum += d.Weight
	}
	if sum != 100 {
		t.Errorf("domain weights add up to %d, want 100", sum)
	}
	want := map[v1alpha1.Domain]int{v1alpha1.DomainClusterSetup: 5, v1alpha1.DomainClusterHardening: 4, v1alpha1.DomainSystemHardening: 4,
		v1alpha1.DomainMicroservices: 4, v1alpha1.DomainSupplyChain: 4, v1alpha1.DomainMonitoringRuntime: 5}
	got := map[v1alpha1.Domain]int{}
	seen := map[string]bool{}
	for _, c := range curriculum.Competencies() {
		got[c.Domain]++
		if seen[c.ID] {
			t.Errorf("duplicate id %s", c.ID)
		}
		seen[c.ID] = true
		if c.Text == "" || strings.ToLower(c.ID) != c.ID || strings.ContainsAny(c.ID, " _") {
			t.Errorf("competency %+v: ids are lower-case words joined by '-', text is set", c)
		}
	}
	if len(seen) != 26 {
		t.Errorf("%d competencies, want 26", len(seen))
	}
	for d, n := range want {
		if got[d] != n {
			t.Errorf("domain %s has %d competencies, want %d", d, got[d], n)
		}
	}
}

func TestCheck(t *testing.T) {
	if err := curriculum.Check("rbac", v1alpha1.DomainClusterHardening); err != nil {
		t.Errorf("rbac in cluster-hardening: %v", err)
	}
	for _, tc := range []struct{ id, want string }{
		{"rbac", "belongs to domain cluster-hardening"},
		{"Use Network security policies to restrict cluster level access", `by its id: "network-policies"`},
		{"netpols", "unknown competency"},
	} {
		err := curriculum.Check(tc.id, v1alpha1.DomainClusterSetup)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%q): %v, want %q", tc.id, err, tc.want)
		}
	}
}

// coverage maps each competency id to the built-in scenarios drilling it.
func coverage(t *testing.T) map[string][]string {
	t.Helper()
	c, ps := load.NewCatalog(load.Source{Name: "builtin", Kind: "builtin", FS: scenarios.FS, Display: "scenarios", Trusted: true})
	if len(ps) > 0 {
		t.Fatalf("built-in catalog has problems:\n%v", ps)
	}
	out := map[string][]string{}
	for _, s := range c.Summaries() {
		out[s.Competency] = append(out[s.Competency], s.ID)
	}
	return out
}

// Every built-in scenario names a competency of the curriculum list, of its
// own domain. The gaps are logged.
func TestCatalogMapsToCurriculum(t *testing.T) {
	cov := coverage(t)
	known := map[string]bool{}
	for _, c := range curriculum.Competencies() {
		known[c.ID] = true
	}
	for id, ss := range cov {
		if !known[id] {
			t.Errorf("scenarios %v name competency %q, which is not in the curriculum", ss, id)
		}
	}
	if gaps := gaps(cov); len(gaps) > 0 {
		t.Logf("%d of 26 competencies have no scenario: %s", len(gaps), strings.Join(gaps, ", "))
	}
}

func gaps(cov map[string][]string) []string {
	var out []string
	for _, c := range curriculum.Competencies() {
		if len(cov[c.ID]) == 0 {
			out = append(out, c.ID)
		}
	}
	sort.Strings(out)
	return out
}

// Every competency of the curriculum has a scenario (issue 16). Until the
// catalog covers all 26 the test skips, naming the gaps; set
// CKSLAB_REQUIRE_FULL_COVERAGE=1 (or delete the skip) to make it binding.
func TestEveryCompetencyCovered(t *testing.T) {
	g := gaps(coverage(t))
	if len(g) == 0 {
		return
	}
	msg := strings.Join(g, ", ")
	if os.Getenv("CKSLAB_REQUIRE_FULL_COVERAGE") == "" {
		t.Skipf("%d competencies uncovered (set CKSLAB_REQUIRE_FULL_COVERAGE=1 to fail): %s", len(g), msg)
	}
	t.Errorf("%d competencies have no scenario: %s", len(g), msg)
}
