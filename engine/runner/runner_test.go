package runner_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/ops"
	"github.com/ckslab/ckslab/engine/runner"
	"github.com/ckslab/ckslab/scenarios"
)

func catalog(tb testing.TB) *load.Catalog {
	tb.Helper()
	c, probs := load.NewCatalog(
		load.Source{Name: "builtin", Kind: "builtin", FS: scenarios.FS, Display: "builtin:scenarios", Trusted: true},
		load.DirSource("testdata"),
	)
	for _, p := range probs {
		tb.Logf("catalog: %s", p)
	}
	return c
}

func newRunner(tb testing.TB) *runner.Runner {
	tb.Helper()
	lab.Need(tb)
	var events []string
	return &runner.Runner{Catalog: catalog(tb), Backend: lab.Backend, StateDir: tb.TempDir(), ClusterName: "test-runner",
		ConvergeTimeout: 90 * time.Second,
		Out: func(e runner.Event) {
			if e.Kind == runner.StepDone && e.Err != nil {
				events = append(events, e.Title+": "+e.Err.Error())
			}
		}}
}

func nsExists(tb testing.TB, name string) bool {
	tb.Helper()
	_, err := lab.Kube.Typed.CoreV1().Namespaces().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		tb.Fatal(err)
	}
	return err == nil
}

func TestStartCheckReset(t *testing.T) {
	r := newRunner(t)
	ctx := context.Background()
	lab0, err := r.Start(ctx, "psp-01")
	if err != nil {
		t.Fatal(err)
	}
	if !lab0.State.SetupDone || len(lab0.State.Tracked.Objects) != 2 {
		t.Fatalf("state %+v", lab0.State)
	}
	fi, err := os.Stat(filepath.Join(r.StateDir, "labs", "test-runner.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	ns, _ := lab.Kube.Typed.CoreV1().Namespaces().Get(ctx, "team-a", metav1.GetOptions{})
	if ns.Labels[ops.ScenarioLabel] != "psp-01" {
		t.Fatalf("namespace not labelled: %v", ns.Labels)
	}
	rs, err := r.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := checks.Summarize(rs)
	if sum.AllPassed() || sum.Errored > 0 {
		t.Fatalf("seeded lab: %+v %+v", sum, rs)
	}
	for i, res := range rs {
		if res.ID != lab0.Scenario.Spec.Checks[i].ID {
			t.Fatalf("results out of spec order: %v", rs)
		}
	}
	h, n, err := r.Hint(0)
	if err != nil || n != 1 || h.Text == "" {
		t.Fatalf("hint: %v %d %v", h, n, err)
	}
	if st, _ := r.LoadState(); st.Penalty != 1 {
		t.Fatalf("penalty %d", st.Penalty)
	}
	if txt, err := r.Solution(); err != nil || !strings.Contains(txt, "enforce=restricted") {
		t.Fatalf("solution %q %v", txt, err)
	}
	start := time.Now()
	if err := r.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("reset took %s", time.Since(start))
	if nsExists(t, "team-a") {
		t.Fatal("team-a survived reset")
	}
	if _, err := r.LoadState(); !errors.Is(err, runner.ErrNoLab) {
		t.Fatalf("state after reset: %v", err)
	}
}

func TestStartResetsPreviousLab(t *testing.T) {
	r := newRunner(t)
	ctx := context.Background()
	if _, err := r.Start(ctx, "psp-01"); err != nil {
		t.Fatal(err)
	}
	// A learner's change on top of the seeded state must not survive a restart.
	if _, err := lab.Kube.Typed.CoreV1().Namespaces().Patch(ctx, "team-a", "application/merge-patch+json", []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	l2, err := r.Start(ctx, "psp-01")
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := lab.Kube.Typed.CoreV1().Namespaces().Get(ctx, "team-a", metav1.GetOptions{})
	if ns.Labels["x"] != "" {
		t.Fatal("previous lab's change survived start")
	}
	if err := r.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	_ = l2
}

func TestValidate(t *testing.T) {
	r := newRunner(t)
	res := r.Validate(context.Background(), []string{"psp-01", "test-needs-workloads"})
	if len(res) != 2 {
		t.Fatalf("%+v", res)
	}
	if res[0].Verdict != runner.VerdictPass {
		t.Fatalf("psp-01: %s: %s", res[0].Verdict, res[0].Reason)
	}
	if res[1].Verdict != runner.VerdictSkip || !strings.Contains(res[1].Reason, "needs netpol and workloads, which the local backend cannot provide: install Docker") {
		t.Fatalf("needs-workloads: %s: %s", res[1].Verdict, res[1].Reason)
	}
	if nsExists(t, "team-a") {
		t.Fatal("validate left team-a behind")
	}
	t.Logf("psp-01 validated in %s", res[0].Duration)
}

func TestStartRefusesMissingCapability(t *testing.T) {
	r := newRunner(t)
	_, err := r.Start(context.Background(), "test-needs-workloads")
	if err == nil || !strings.Contains(err.Error(), "test-needs-workloads needs netpol and workloads, which the local backend cannot provide") {
		t.Fatalf("got %v", err)
	}
}

// TestNodeEditsReset: node files and static pod manifests written by setup
// are restored exactly by reset, and the component comes back healthy.
func TestNodeEditsReset(t *testing.T) {
	r := newRunner(t)
	ctx := context.Background()
	n, _ := lab.Cluster.Node("")
	const mp = "/etc/kubernetes/manifests/kube-controller-manager.yaml"
	before, err := n.ReadFile(ctx, mp)
	if err != nil {
		t.Fatal(err)
	}
	res := r.Validate(ctx, []string{"test-nodeops"})
	if res[0].Verdict != runner.VerdictPass {
		t.Fatalf("%s: %s %+v %+v", res[0].Verdict, res[0].Reason, res[0].Seeded, res[0].Solved)
	}
	after, err := n.ReadFile(ctx, mp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatalf("manifest not restored:\n%s\nvs\n%s", before, after)
	}
	if _, err := n.Stat(ctx, "/etc/ckslab-test/seeded.txt"); err == nil {
		t.Fatal("seeded file survived reset")
	}
	if _, err := lab.Kube.Typed.CoreV1().ConfigMaps("default").Get(ctx, "seeded", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("configmap survived reset: %v", err)
	}
}

// TestHandEditsReset: what a learner changes by hand on the node (not
// through an operation) is undone by reset too.
func TestHandEditsReset(t *testing.T) {
	r := newRunner(t)
	ctx := context.Background()
	n, _ := lab.Cluster.Node("")
	// etcd: the scenario's setup does not touch it (it edits the
	// controller-manager), so only the pre-setup backup can restore it.
	const mp = "/etc/kubernetes/manifests/etcd.yaml"
	before, err := n.ReadFile(ctx, mp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(ctx, "test-nodeops"); err != nil {
		t.Fatal(err)
	}
	seeded, err := n.ReadFile(ctx, mp)
	if err != nil {
		t.Fatal(err)
	}
	// The learner adds a flag with an editor.
	edited := strings.Replace(string(seeded), "--snapshot-count=10000", "--snapshot-count=10001", 1)
	if edited == string(seeded) {
		t.Fatalf("test edit did not apply to:\n%s", seeded)
	}
	if err := n.WriteFile(ctx, mp, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := lab.Cluster.Components.WaitHealthy(ctx, "etcd", 90*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := r.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := n.ReadFile(ctx, mp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, before) {
		t.Fatalf("hand edit survived reset:\n%s", after)
	}
}

// TestAlternatives runs every testdata/alternatives/<id>/<name>.yaml: a
// different fix applied after setup must pass or fail as the file says
// (a wrong fix failing the objectives it names in mustFail). It records
// where each objective was seen failing and passing, and fails for any
// objective of a scenario it ran that was never seen both ways: a check
// never seen failing proves nothing.
func TestAlternatives(t *testing.T) {
	lab.Need(t)
	files, _ := filepath.Glob("../../testdata/alternatives/*/*.yaml")
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no alternatives under testdata/alternatives: the glob or the working directory is wrong")
	}
	r := newRunner(t)
	cov := runner.NewCoverage()
	for _, f := range files {
		id := filepath.Base(filepath.Dir(f))
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(id+"/"+name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			alt, err := runner.ParseAlternative(f, data)
			if err != nil {
				t.Fatal(err)
			}
			s, err := r.Catalog.Get(id)
			if err != nil {
				t.Fatalf("%s is an alternative for scenario %s, which is not in the catalog", f, id)
			}
			o := r.RunAlternative(context.Background(), s, runner.NamedAlternative{Name: name, File: f, Alternative: alt})
			if o.Verdict == runner.VerdictSkip {
				t.Skip(o.Reason)
			}
			cov.Add(s, "seeded", o.Seeded)
			cov.Add(s, "alternative "+name, o.After)
			if o.Verdict != runner.VerdictPass {
				t.Fatalf("%s (%s): %s: %s\nresults: %+v", f, strings.TrimSpace(alt.Description), o.Verdict, o.Reason, o.After)
			}
		})
	}
	all := cov.All()
	gaps := runner.Gaps(all)
	for _, g := range gaps {
		t.Errorf("%s", describeGap(g))
	}
	t.Logf("%d objectives of %d scenarios seen both ways by their alternatives, %d not", len(all)-len(gaps), len(scenariosOf(all)), len(gaps))
}

func describeGap(g runner.ObjectiveSeen) string {
	kind := "objective"
	if g.Guard {
		kind = "guard"
	}
	var never []string
	if len(g.Failing) == 0 {
		never = append(never, "failing (neither in the seeded state nor after a wrong fix; a check that cannot fail proves nothing)")
	}
	if len(g.Passing) == 0 {
		never = append(never, "passing")
	}
	return g.Scenario + " " + kind + " " + g.ID + ": never seen " + strings.Join(never, ", nor ")
}

func scenariosOf(os []runner.ObjectiveSeen) map[string]bool {
	m := map[string]bool{}
	for _, o := range os {
		m[o.Scenario] = true
	}
	return m
}

// TestAlternativeFilesWellFormed needs no cluster: every alternative file
// decodes strictly and names real objectives (mustFail) of a real scenario.
func TestAlternativeFilesWellFormed(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/alternatives/*/*.yaml")
	if len(files) == 0 {
		t.Fatal("no alternatives under testdata/alternatives")
	}
	c := catalog(t)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		alt, err := runner.ParseAlternative(f, data)
		if err != nil {
			t.Error(err)
			continue
		}
		id := filepath.Base(filepath.Dir(f))
		s, err := c.Get(id)
		if err != nil {
			t.Errorf("%s: no scenario %s in the catalog", f, id)
			continue
		}
		for _, p := range alt.Problems(s) {
			t.Errorf("%s: %s", f, p)
		}
	}
	t.Logf("%d alternative files", len(files))
}

// TestUntouchedExamScoresZero: an exam of every built-in scenario this
// backend can run, ended without touching anything, scores 0 by the exam's
// own scoring (exam.Score, the same rule as check and the TUI).
func TestUntouchedExamScoresZero(t *testing.T) {
	r := newRunner(t)
	ctx := context.Background()
	caps := r.Backend.Capabilities(ctx)
	var tasks []exam.TaskOutcome
	var plan exam.Plan
	for _, s := range r.Catalog.All() {
		if s.Source != "builtin" || runner.MissingCapabilities(s, r.Backend, caps) != "" {
			continue
		}
		// The untouched lab as the exam's end-of-time check sees it
		// (without waiting out the timeouts of objectives nobody works on).
		rs, _, err := r.Trial(ctx, s, nil, false)
		if err != nil {
			t.Fatalf("%s: %v", s.ID, err)
		}
		if sum := checks.Summarize(rs); sum.Score > 0 || len(sum.BrokenGuards) > 0 {
			t.Errorf("%s untouched scores %d/%d (broken guards %v): %s", s.ID, sum.Score, sum.Max, sum.BrokenGuards, runner.SeededProblem(rs))
		}
		tasks = append(tasks, exam.TaskOutcome{Scenario: s, Results: rs})
		plan.Scenarios = append(plan.Scenarios, s)
	}
	if len(tasks) < 2 {
		t.Fatalf("only %d scenarios run on %s: not an exam", len(tasks), r.Backend.Name())
	}
	ex := exam.Score(plan, tasks, time.Now(), time.Now())
	if ex.Score != 0 || ex.Percent != 0 {
		t.Errorf("an exam of %d untouched tasks scores %.1f/%.1f (%.1f%%)", len(tasks), ex.Score, ex.Max, ex.Percent)
	}
	// For the record: the same states by the old rule (guards scored like
	// any objective), weighted by minutes as the exam does.
	var old, minutes float64
	for _, task := range tasks {
		var score, most int
		for _, res := range task.Results {
			w := res.Weight
			if res.Guard {
				w = 1
			}
			most += w
			if res.Status == checks.Pass {
				score += w
			}
		}
		m := float64(task.Scenario.Spec.Minutes)
		minutes += m
		if most > 0 {
			old += m * float64(score) / float64(most)
		}
	}
	t.Logf("exam of %d untouched tasks: %.1f/%.1f (by the old rule, guards scored: %.1f%%)", len(tasks), ex.Score, ex.Max, 100*old/minutes)
}
