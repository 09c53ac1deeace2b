package main

// In-process tests of the ckslab command line: the real command tree built
// by run() with buffers for stdin/stdout/stderr, and every state, cache and
// home directory redirected to a per-test temporary directory. No test
// starts, downloads or builds a cluster: commands that need one are run only
// where they must fail before provisioning (no lab, no cluster, bad flags).

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/cluster/local"
	"github.com/ckslab/ckslab/engine/progress"
	"github.com/ckslab/ckslab/engine/runner"
)

// repoRoot is the module root, relative to this package's directory (the
// working directory of `go test`).
var repoRoot = filepath.Join("..", "..")

// testEnv is one test's isolated set of directories.
type testEnv struct {
	root  string // the temp dir everything below lives in
	state string // CKSLAB_STATE_DIR
	cache string // CKSLAB_CACHE_DIR
	xdgC  string // XDG_CACHE_HOME (the local backend keeps clusters under it)
	bin   string // CKSLAB_BIN_DIR: empty, so no control-plane binary is found
}

// isolate points every directory ckslab (and the local/kind backends) could
// read or write at a fresh temp dir, and clears env that changes defaults.
func isolate(t *testing.T) testEnv {
	t.Helper()
	root := t.TempDir()
	e := testEnv{
		root:  root,
		state: filepath.Join(root, "ckslab-state"),
		cache: filepath.Join(root, "ckslab-cache"),
		xdgC:  filepath.Join(root, "xdg-cache"),
		bin:   filepath.Join(root, "bin"),
	}
	home := filepath.Join(root, "home")
	for _, d := range []string{home, e.bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{
		"HOME":               home,
		"XDG_STATE_HOME":     filepath.Join(root, "xdg-state"),
		"XDG_CACHE_HOME":     e.xdgC,
		"XDG_CONFIG_HOME":    filepath.Join(root, "xdg-config"),
		"XDG_DATA_HOME":      filepath.Join(root, "xdg-data"),
		"CKSLAB_STATE_DIR":   e.state,
		"CKSLAB_CACHE_DIR":   e.cache,
		"CKSLAB_BIN_DIR":     e.bin,
		"KUBEBUILDER_ASSETS": "",
		"KUBECONFIG":         filepath.Join(root, "no-kubeconfig"),
		"NO_COLOR":           "1",
		// Unset in effect: the CLI treats an empty value as absent.
		"CKSLAB_SCENARIOS": "",
		"CKSLAB_BACKEND":   "",
		"CKSLAB_CLUSTER":   "",
	} {
		t.Setenv(k, v)
	}
	return e
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout:\n" + r.stdout + "\n--- stderr:\n" + r.stderr
}

// runCLI runs ckslab in-process, not on a terminal, with empty stdin.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runCLIWith(t, "", false, args...)
}

// runCLIWith runs ckslab in-process with the given stdin and TTY flag. A
// command that does not return within the deadline fails the test instead
// of hanging it.
func runCLIWith(t *testing.T, stdin string, tty bool, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	s := streams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut, TTY: tty}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, s) }()
	select {
	case code := <-done:
		return result{code: code, stdout: out.String(), stderr: errOut.String()}
	case <-time.After(25 * time.Second):
		t.Fatalf("ckslab %s did not return within 25s", strings.Join(args, " "))
	}
	return result{}
}

// diskScenario is a built-in scenario as found on disk under scenarios/.
type diskScenario struct {
	id, domain, dir string
	spec            v1alpha1.Scenario
}

// diskScenarios walks scenarios/ for scenario.yaml files: the catalog the
// CLI embeds must be exactly this.
func diskScenarios(t *testing.T) map[string]diskScenario {
	t.Helper()
	base := filepath.Join(repoRoot, "scenarios")
	out := map[string]diskScenario{}
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "scenario.yaml" {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var s v1alpha1.Scenario
		if err := yaml.Unmarshal(data, &s); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if _, dup := out[s.Metadata.Name]; dup {
			t.Fatalf("scenario id %s twice on disk", s.Metadata.Name)
		}
		out[s.Metadata.Name] = diskScenario{id: s.Metadata.Name, domain: parts[0], dir: filepath.Dir(p), spec: s}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d scenarios under %s", len(out), base)
	}
	if _, ok := out["psp-01"]; !ok {
		t.Fatal("psp-01 is not under scenarios/")
	}
	return out
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// wantFailure asserts a non-zero exit with an error message on stderr and
// nothing on stdout.
func wantFailure(t *testing.T, r result, code int, stderrHas ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\n%s", r.code, code, r)
	}
	if r.stdout != "" {
		t.Errorf("a failing command wrote to stdout:\n%s", r)
	}
	for _, s := range stderrHas {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q\n%s", s, r)
		}
	}
}

func wantSuccess(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", r.code, r)
	}
}

// ---------------------------------------------------------------------------
// Root, help and argument errors

func TestHelpShowsCommandGroups(t *testing.T) {
	isolate(t)
	r := runCLI(t, "--help")
	wantSuccess(t, r)
	for _, s := range []string{"Labs:", "Catalog and authoring:", "Clusters:",
		"check", "hint", "solution", "list", "describe", "lint", "schema", "cluster", "doctor", "version"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("help lacks %q:\n%s", s, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "__supervise") {
		t.Errorf("help lists the internal __supervise command:\n%s", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("help wrote to stderr: %q", r.stderr)
	}
	// Off a terminal, ckslab without arguments prints the same help (the
	// TUI opens only on a terminal).
	bare := runCLI(t)
	wantSuccess(t, bare)
	if bare.stdout != r.stdout {
		t.Errorf("`ckslab` off a terminal should print the help:\n%s", bare)
	}
}

func TestUsageErrors(t *testing.T) {
	isolate(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"bogus"}, []string{`error: unknown command "bogus" for "ckslab"`}},
		{[]string{"lsit"}, []string{`unknown command "lsit"`, "Did you mean this?", "list"}},
		{[]string{"--bogus"}, []string{"error: unknown flag: --bogus"}},
		{[]string{"list", "--bogus"}, []string{"error: unknown flag: --bogus"}},
		{[]string{"list", "extra"}, []string{`unknown command "extra" for "ckslab list"`}},
		{[]string{"schema", "extra"}, []string{`unknown command "extra" for "ckslab schema"`}},
		{[]string{"describe"}, []string{"accepts 1 arg(s), received 0"}},
		{[]string{"describe", "a", "b"}, []string{"accepts 1 arg(s), received 2"}},
		{[]string{"hint", "1", "2"}, []string{"accepts at most 1 arg(s), received 2"}},
		// Argument validation runs before anything is provisioned.
		{[]string{"start"}, []string{"accepts 1 arg(s), received 0"}},
		{[]string{"__supervise"}, []string{`required flag(s) "node-dir" not set`}},
		{[]string{"--backend", "vagrant", "cluster", "status"}, []string{`unknown backend "vagrant": use auto, kind or local`}},
		// A mistyped subcommand of a group fails instead of printing help.
		{[]string{"cluster", "dwon"}, []string{`unknown command "dwon" for "ckslab cluster"`}},
		{[]string{"pack", "bogus"}, []string{`unknown command "bogus" for "ckslab pack"`}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			r := runCLI(t, tt.args...)
			wantFailure(t, r, 1, tt.want...)
			if !strings.HasPrefix(r.stderr, "error: ") {
				t.Errorf("stderr should start with \"error: \":\n%s", r)
			}
		})
	}
}

func TestInvalidOutputFormat(t *testing.T) {
	isolate(t)
	tests := []struct {
		args    []string
		code    int
		formats string
	}{
		{[]string{"list"}, 1, "[table json yaml name]"},
		{[]string{"describe", "psp-01"}, 1, "[text json yaml]"},
		{[]string{"lint"}, 1, "[text json]"},
		{[]string{"progress"}, 1, "[table json]"},
		{[]string{"pack", "list"}, 1, "[table json]"},
		{[]string{"doctor"}, 1, "[text json]"},
		{[]string{"cluster", "status", "--backend", "local"}, 1, "[text json]"},
		{[]string{"validate", "psp-01", "--backend", "local"}, 1, "[table json junit]"},
		// check documents exit 2 for "the checks could not run".
		{[]string{"check", "--backend", "local"}, 2, "[table json junit]"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			r := runCLI(t, append(tt.args, "-o", "xml")...)
			wantFailure(t, r, tt.code, `unknown output format "xml"; use one of `+tt.formats)
		})
	}
}

func TestCompletion(t *testing.T) {
	isolate(t)
	r := runCLI(t, "__complete", "describe", "psp-0")
	wantSuccess(t, r)
	if !strings.Contains(r.stdout, "psp-01\tEnforce the restricted Pod Security Standard in team-a") {
		t.Errorf("describe completion lacks psp-01 with its title:\n%s", r)
	}
	for _, l := range nonEmptyLines(r.stdout) {
		if !strings.HasPrefix(l, ":") && !strings.HasPrefix(l, "psp-0") {
			t.Errorf("completion of prefix psp-0 offered %q", l)
		}
	}
	r = runCLI(t, "__complete", "list", "--domain", "")
	wantSuccess(t, r)
	for _, d := range v1alpha1.Domains {
		if !strings.Contains(r.stdout, string(d)+"\n") {
			t.Errorf("--domain completion lacks %s:\n%s", d, r.stdout)
		}
	}
	r = runCLI(t, "completion", "bash")
	wantSuccess(t, r)
	if !strings.Contains(r.stdout, "bash completion V2 for ckslab") {
		t.Errorf("completion bash printed no script:\n%.300s", r.stdout)
	}
}

// ---------------------------------------------------------------------------
// list / describe

func listJSON(t *testing.T, args ...string) []scenarioSummary {
	t.Helper()
	r := runCLI(t, append([]string{"list", "-o", "json"}, args...)...)
	wantSuccess(t, r)
	var sums []scenarioSummary
	if err := json.Unmarshal([]byte(r.stdout), &sums); err != nil {
		t.Fatalf("list -o json is not JSON: %v\n%s", err, r.stdout)
	}
	return sums
}

func TestListJSONIsTheCatalogOnDisk(t *testing.T) {
	isolate(t)
	disk := diskScenarios(t)
	sums := listJSON(t)
	got := map[string]scenarioSummary{}
	for _, s := range sums {
		if _, dup := got[s.ID]; dup {
			t.Errorf("list shows %s twice", s.ID)
		}
		got[s.ID] = s
	}
	for id, d := range disk {
		s, ok := got[id]
		if !ok {
			t.Errorf("scenario %s (%s) is missing from list -o json", id, d.dir)
			continue
		}
		if s.Domain != d.domain || s.Domain != string(d.spec.Spec.Domain) {
			t.Errorf("%s: domain %q, want %q (its directory)", id, s.Domain, d.domain)
		}
		if s.Title != d.spec.Spec.Title || s.Minutes != d.spec.Spec.Minutes || s.Difficulty != d.spec.Spec.Difficulty {
			t.Errorf("%s: got %+v, want title %q, %d minutes, %s", id, s, d.spec.Spec.Title, d.spec.Spec.Minutes, d.spec.Spec.Difficulty)
		}
		if s.Source != "builtin" {
			t.Errorf("%s: source %q, want builtin", id, s.Source)
		}
		if s.Competency == "" || s.Requires == nil {
			t.Errorf("%s: competency and requires must be set: %+v", id, s)
		}
	}
	for id := range got {
		if _, ok := disk[id]; !ok {
			t.Errorf("list shows %s, which is not under scenarios/", id)
		}
	}
	if p := got["psp-01"]; p.Domain != "minimize-microservice-vulnerabilities" || !slices.Equal(p.Requires, []string{"api"}) {
		t.Errorf("psp-01: %+v", p)
	}
	// Curriculum order: by domain as v1alpha1.Domains lists them, then id.
	idx := func(d string) int { return slices.Index(v1alpha1.Domains, v1alpha1.Domain(d)) }
	for i := 1; i < len(sums); i++ {
		a, b := sums[i-1], sums[i]
		if idx(a.Domain) > idx(b.Domain) || (a.Domain == b.Domain && a.ID > b.ID) {
			t.Errorf("list order: %s (%s) before %s (%s)", a.ID, a.Domain, b.ID, b.Domain)
		}
	}
}

func TestListTableYAMLAndNameAgreeWithJSON(t *testing.T) {
	isolate(t)
	sums := listJSON(t)

	r := runCLI(t, "list", "-o", "yaml")
	wantSuccess(t, r)
	var fromYAML []scenarioSummary
	if err := yaml.Unmarshal([]byte(r.stdout), &fromYAML); err != nil {
		t.Fatalf("list -o yaml is not YAML: %v", err)
	}
	if !reflect.DeepEqual(fromYAML, sums) {
		t.Errorf("list -o yaml differs from -o json:\n%+v\n%+v", fromYAML, sums)
	}

	r = runCLI(t, "list", "-o", "name")
	wantSuccess(t, r)
	var ids []string
	for _, s := range sums {
		ids = append(ids, s.ID)
	}
	if got := nonEmptyLines(r.stdout); !slices.Equal(got, ids) {
		t.Errorf("list -o name:\n%v\nwant\n%v", got, ids)
	}

	r = runCLI(t, "list")
	wantSuccess(t, r)
	lines := nonEmptyLines(r.stdout)
	if len(lines) != len(sums)+1 {
		t.Fatalf("table has %d lines, want a header and %d rows:\n%s", len(lines), len(sums), r.stdout)
	}
	if h := strings.Fields(lines[0]); !slices.Equal(h, []string{"ID", "DOMAIN", "COMPETENCY", "DIFFICULTY", "MIN", "REQUIRES", "TITLE"}) {
		t.Errorf("table header %q", lines[0])
	}
	for i, s := range sums {
		row := lines[i+1]
		f := strings.Fields(row)
		want := []string{s.ID, s.Domain, s.Competency, s.Difficulty, strconv.Itoa(s.Minutes)}
		if len(s.Requires) > 0 {
			want = append(want, strings.Join(s.Requires, ","))
		}
		if len(f) < len(want) || !slices.Equal(f[:len(want)], want) || !strings.HasSuffix(row, "  "+s.Title) {
			t.Errorf("row %d %q, want fields %v and title %q", i, row, want, s.Title)
		}
	}
	if r.stderr != "" {
		t.Errorf("list wrote to stderr: %q", r.stderr)
	}
}

func TestListDomain(t *testing.T) {
	isolate(t)
	disk := diskScenarios(t)
	want := 0
	for _, d := range disk {
		if d.domain == "cluster-setup" {
			want++
		}
	}
	sums := listJSON(t, "--domain", "cluster-setup")
	if len(sums) != want || want == 0 {
		t.Errorf("--domain cluster-setup listed %d, want %d", len(sums), want)
	}
	for _, s := range sums {
		if s.Domain != "cluster-setup" {
			t.Errorf("--domain cluster-setup listed %s of %s", s.ID, s.Domain)
		}
	}
	r := runCLI(t, "list", "--domain", "networking")
	wantFailure(t, r, 1, `unknown domain "networking"; use one of: cluster-setup, cluster-hardening, system-hardening, minimize-microservice-vulnerabilities, supply-chain-security, monitoring-logging-runtime-security`)
}

func TestDescribeText(t *testing.T) {
	isolate(t)
	d := diskScenarios(t)["psp-01"]
	r := runCLI(t, "describe", "psp-01")
	wantSuccess(t, r)
	sp := d.spec.Spec
	want := []string{
		"psp-01: " + sp.Title + "\n",
		"Domain:      Minimize Microservice Vulnerabilities\n",
		"Competency:  " + sp.Competency + "\n",
		"Difficulty:  medium, 8 minutes\n",
		"Requires:    api\n",
		"Source:      builtin (builtin:scenarios/minimize-microservice-vulnerabilities/psp-01/scenario.yaml)\n",
		"\nTask:\n  PodSecurityPolicy was removed",
		"\nObjectives:\n",
		"\nHints: 3 (ckslab hint)\n",
	}
	guards := 0
	for _, c := range sp.Checks {
		w := c.Weight
		if w == 0 {
			w = 1
		}
		if c.Guard {
			want = append(want, "  - [guard] "+c.Objective+"\n")
			guards++
			continue
		}
		want = append(want, "  - ["+strconv.Itoa(w)+"] "+c.Objective+"\n")
	}
	if len(sp.Checks) < 4 || guards == 0 {
		t.Fatalf("psp-01 has %d checks (%d guards) on disk; the test expects at least 4 with a guard", len(sp.Checks), guards)
	}
	for _, s := range want {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("describe psp-01 lacks %q:\n%s", s, r.stdout)
		}
	}
	if !strings.HasPrefix(r.stdout, "psp-01: ") {
		t.Errorf("describe should start with the id and title:\n%s", r.stdout)
	}
}

func TestDescribeJSONAndYAML(t *testing.T) {
	isolate(t)
	d := diskScenarios(t)["psp-01"]
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			r := runCLI(t, "describe", "psp-01", "-o", format)
			wantSuccess(t, r)
			var s v1alpha1.Scenario
			var err error
			if format == "json" {
				err = json.Unmarshal([]byte(r.stdout), &s)
			} else {
				err = yaml.UnmarshalStrict([]byte(r.stdout), &s)
			}
			if err != nil {
				t.Fatalf("describe -o %s does not parse: %v\n%s", format, err, r.stdout)
			}
			if s.APIVersion != v1alpha1.APIVersion || s.Kind != "Scenario" || s.Metadata.Name != "psp-01" {
				t.Errorf("header: %s %s %s", s.APIVersion, s.Kind, s.Metadata.Name)
			}
			if s.Spec.Title != d.spec.Spec.Title || len(s.Spec.Checks) != len(d.spec.Spec.Checks) || len(s.Spec.Hints) != len(d.spec.Spec.Hints) {
				t.Errorf("describe -o %s does not match scenario.yaml: title %q, %d checks, %d hints", format, s.Spec.Title, len(s.Spec.Checks), len(s.Spec.Hints))
			}
			for i, c := range s.Spec.Checks {
				if c.Objective != d.spec.Spec.Checks[i].Objective {
					t.Errorf("check %d objective %q, want %q", i, c.Objective, d.spec.Spec.Checks[i].Objective)
				}
			}
		})
	}
}

func TestDescribeUnknownScenario(t *testing.T) {
	isolate(t)
	r := runCLI(t, "describe", "does-not-exist")
	wantFailure(t, r, 1, `error: no scenario "does-not-exist" (ckslab list shows all)`)

	r = runCLI(t, "describe", "psp")
	wantFailure(t, r, 1, `no scenario "psp"; did you mean psp-01, psp-02`)
}

// ---------------------------------------------------------------------------
// lint

var locRE = regexp.MustCompile(`^(.+?):(\d+):(\d+): `)

func TestLintEveryInvalidFixture(t *testing.T) {
	isolate(t)
	files, err := filepath.Glob(filepath.Join(repoRoot, "testdata", "invalid", "*.yaml"))
	if err != nil || len(files) < 10 {
		t.Fatalf("want at least 10 invalid fixtures, have %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := runCLI(t, "lint", f)
			if r.code != 1 {
				t.Fatalf("lint %s: exit %d, want 1\n%s", f, r.code, r)
			}
			lines := nonEmptyLines(r.stdout)
			if len(lines) == 0 {
				t.Fatalf("lint %s printed no problem\n%s", f, r)
			}
			for _, l := range lines {
				m := locRE.FindStringSubmatch(l)
				if len(m) != 4 || m[1] != f || m[2] == "0" || m[3] == "0" {
					t.Errorf("problem %q is not located as %s:LINE:COL: ...", l, f)
				}
			}
			if want := strconv.Itoa(len(lines)) + " problem(s) in 1 file(s) linted\n"; r.stderr != want {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
		})
	}
}

// A few messages exactly (they are a contract with scenario authors; see
// engine/load/load_test.go), as the CLI prints them.
func TestLintExactMessages(t *testing.T) {
	isolate(t)
	p := func(name string) string { return filepath.Join(repoRoot, "testdata", "invalid", name) }
	tests := []struct {
		file string
		want []string
	}{
		{"unknown-field.yaml", []string{`:14:5: spec.checks[0].objectiv: unknown field "objectiv" (did you mean "objective"?)`}},
		{"wrong-type.yaml", []string{`:10:12: spec.minutes: expected an integer, got a string "ten"`}},
		{"duplicate-key.yaml", []string{`:7:3: invalid YAML: mapping key "title" already defined at [6:3]`}},
		{"missing-file.yaml", []string{`:12:13: spec.setup[0].apply.file: file "manifests/nope.yaml" does not exist next to the scenario`}},
		{"bad-domain.yaml", []string{
			`:4:3: metadata.name: "Bad_Name" must be lowercase letters, digits and '-', at most 63 characters`,
			`:7:3: spec.domain: "networking" is not a CKS domain; expected one of: cluster-setup, cluster-hardening, system-hardening, minimize-microservice-vulnerabilities, supply-chain-security, monitoring-logging-runtime-security`,
			`:9:3: spec.difficulty: must be easy, medium or hard, got "impossible"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := runCLI(t, "lint", p(tt.file))
			lines := nonEmptyLines(r.stdout)
			if r.code != 1 || len(lines) != len(tt.want) {
				t.Fatalf("want exit 1 and %d problem(s)\n%s", len(tt.want), r)
			}
			for i, w := range tt.want {
				if want := p(tt.file) + w; !strings.HasPrefix(lines[i], want) {
					t.Errorf("problem %d:\n got: %s\nwant: %s", i, lines[i], want)
				}
			}
		})
	}
}

func TestLintManyFilesAndJSON(t *testing.T) {
	isolate(t)
	files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "invalid", "*.yaml"))
	r := runCLI(t, append([]string{"lint"}, files...)...)
	lines := nonEmptyLines(r.stdout)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r)
	}
	// Every file is reported, not only the first broken one.
	for _, f := range files {
		if !strings.Contains(r.stdout, f+":") {
			t.Errorf("lint of all fixtures does not report %s", f)
		}
	}
	if want := strconv.Itoa(len(lines)) + " problem(s) in " + strconv.Itoa(len(files)) + " file(s) linted\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}

	f := filepath.Join(repoRoot, "testdata", "invalid", "bad-domain.yaml")
	r = runCLI(t, "lint", "-o", "json", f)
	if r.code != 1 {
		t.Fatalf("lint -o json: exit %d, want 1\n%s", r.code, r)
	}
	var ps []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Field   string `json:"field"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ps); err != nil {
		t.Fatalf("lint -o json is not JSON: %v\n%s", err, r.stdout)
	}
	if len(ps) != 3 {
		t.Fatalf("want 3 problems, got %+v", ps)
	}
	if ps[1].File != f || ps[1].Line != 7 || ps[1].Column != 3 || ps[1].Field != "spec.domain" || !strings.HasPrefix(ps[1].Message, `"networking" is not a CKS domain`) {
		t.Errorf("problem 1: %+v", ps[1])
	}

	valid := filepath.Join(repoRoot, "testdata", "valid", "minimal.yaml")
	r = runCLI(t, "lint", "-o", "json", valid)
	wantSuccess(t, r)
	if strings.TrimSpace(r.stdout) != "[]" || r.stderr != "" {
		t.Errorf("lint -o json of a valid file: want [] and a quiet stderr\n%s", r)
	}
}

func TestLintValid(t *testing.T) {
	isolate(t)
	files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "valid", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no valid fixtures")
	}
	for _, f := range files {
		r := runCLI(t, "lint", f)
		wantSuccess(t, r)
		if r.stdout != "" || r.stderr != "1 scenario file(s) OK\n" {
			t.Errorf("lint %s:\n%s", f, r)
		}
	}
	n := strconv.Itoa(len(diskScenarios(t)))
	// The embedded catalog (no arguments) and the same files on disk.
	for _, args := range [][]string{{"lint"}, {"lint", filepath.Join(repoRoot, "scenarios")}} {
		r := runCLI(t, args...)
		wantSuccess(t, r)
		want := n + " scenario file(s) OK\n"
		if len(args) == 1 {
			want += "2 mock exam file(s) OK\n" // the built-in lint covers scenarios/exams too
		}
		if r.stdout != "" || r.stderr != want {
			t.Errorf("%v: want %s files OK\n%s", args, n, r)
		}
	}
}

func TestLintBadPaths(t *testing.T) {
	isolate(t)
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	r := runCLI(t, "lint", missing)
	if r.code != 1 || !strings.HasPrefix(r.stdout, missing+": cannot read: ") || r.stderr != "1 problem(s) in 0 file(s) linted\n" {
		t.Errorf("lint of a missing file:\n%s", r)
	}
	// A directory is searched for scenario.yaml; testdata/valid holds none.
	dir := filepath.Join(repoRoot, "testdata", "valid")
	r = runCLI(t, "lint", dir)
	if r.code != 1 || !strings.Contains(r.stdout, dir+": no scenario.yaml files found") {
		t.Errorf("lint of a directory without scenario.yaml:\n%s", r)
	}
}

// extraScenarioDir builds a --scenarios directory with one valid scenario
// (minimal) and one invalid one (bad, from testdata/invalid/wrong-type.yaml).
func extraScenarioDir(t *testing.T) (dir, badFile string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "extra")
	for name, src := range map[string]string{
		"minimal": filepath.Join(repoRoot, "testdata", "valid", "minimal.yaml"),
		"bad":     filepath.Join(repoRoot, "testdata", "invalid", "wrong-type.yaml"),
	} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "scenario.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, filepath.Join(dir, "bad", "scenario.yaml")
}

func TestExtraScenarioDirectories(t *testing.T) {
	isolate(t)
	dir, bad := extraScenarioDir(t)
	check := func(t *testing.T, args ...string) {
		t.Helper()
		r := runCLI(t, append(args, "list", "-o", "json")...)
		wantSuccess(t, r)
		var sums []scenarioSummary
		if err := json.Unmarshal([]byte(r.stdout), &sums); err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(sums, func(s scenarioSummary) bool { return s.ID == "minimal" })
		if i < 0 {
			t.Fatalf("minimal from %s is not listed", dir)
		}
		if sums[i].Source != "dir:"+dir || sums[i].Domain != "cluster-hardening" {
			t.Errorf("minimal: %+v", sums[i])
		}
		if slices.ContainsFunc(sums, func(s scenarioSummary) bool { return s.ID == "bad" }) {
			t.Error("the invalid scenario is listed")
		}
		if !strings.Contains(r.stderr, "warning: skipped invalid scenario: "+bad+":10:12: spec.minutes") {
			t.Errorf("no warning about %s:\n%s", bad, r.stderr)
		}
	}
	t.Run("flag", func(t *testing.T) { check(t, "--scenarios", dir) })
	t.Run("env", func(t *testing.T) {
		t.Setenv("CKSLAB_SCENARIOS", dir)
		check(t)
	})

	r := runCLI(t, "--scenarios", dir, "describe", "minimal")
	wantSuccess(t, r)
	if !strings.HasPrefix(r.stdout, "minimal: Minimal valid scenario\n") || !strings.Contains(r.stdout, "Source:      dir:"+dir) {
		t.Errorf("describe minimal:\n%s", r)
	}

	// lint without arguments lints the whole catalog, extra directories included.
	r = runCLI(t, "--scenarios", dir, "lint")
	if r.code != 1 || !strings.HasPrefix(r.stdout, bad+":10:12: spec.minutes: expected an integer") {
		t.Errorf("lint of a catalog with a broken extra scenario:\n%s", r)
	}
	// Every scenario file counts (the broken one too) and so does every mock
	// exam file, and the problem is reported once (stdout), not again as a
	// catalog warning.
	exams, err := filepath.Glob(filepath.Join(repoRoot, "scenarios", "exams", "*.yaml"))
	if err != nil || len(exams) == 0 {
		t.Fatalf("mock exam files: %v %v", exams, err)
	}
	if want := len(diskScenarios(t)) + 2 + len(exams); !strings.Contains(r.stderr, fmt.Sprintf("1 problem(s) in %d file(s)", want)) {
		t.Errorf("lint summary should count %d files:\n%s", want, r)
	}
	if strings.Contains(r.stderr, "skipped invalid scenario") {
		t.Errorf("lint reports the problem twice:\n%s", r)
	}
}

// ---------------------------------------------------------------------------
// schema / version

func TestSchemaIsTheCommittedFile(t *testing.T) {
	isolate(t)
	want, err := os.ReadFile(filepath.Join(repoRoot, "scenarios", "scenario.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "schema")
	wantSuccess(t, r)
	if r.stdout != string(want) {
		t.Errorf("ckslab schema differs from scenarios/scenario.schema.json (%d vs %d bytes)", len(r.stdout), len(want))
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if _, ok := doc["$schema"]; !ok {
		t.Errorf("schema has no $schema key: %v", reflect.ValueOf(doc).MapKeys())
	}
	if r.stderr != "" {
		t.Errorf("schema wrote to stderr: %q", r.stderr)
	}
}

func TestVersion(t *testing.T) {
	isolate(t)
	r := runCLI(t, "version")
	wantSuccess(t, r)
	re := regexp.MustCompile(`^ckslab (\S+) \(scenario API ` + regexp.QuoteMeta(v1alpha1.APIVersion) + `, Kubernetes (v\d+\.\d+\.\d+)\)\n$`)
	m := re.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("version output %q does not match %s", r.stdout, re)
	}
	if m[2] != local.DefaultKubernetesVersion {
		t.Errorf("version says Kubernetes %s, the local backend pins %s", m[2], local.DefaultKubernetesVersion)
	}
	if m[1] != version() {
		t.Errorf("version %q, want %q", m[1], version())
	}

	// -ldflags -X main.buildVersion wins.
	old := buildVersion
	buildVersion = "v9.8.7-test"
	t.Cleanup(func() { buildVersion = old })
	r = runCLI(t, "version")
	if !strings.HasPrefix(r.stdout, "ckslab v9.8.7-test (") {
		t.Errorf("version with buildVersion set: %q", r.stdout)
	}
}

// The Kubernetes version ckslab announces is also the one client-go is
// built from (kubernetesVersion's doc says so): same minor release.
func TestKubernetesVersionMatchesClientGo(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*k8s\.io/client-go v0\.(\d+)\.\d+`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod requires no k8s.io/client-go")
	}
	if want := "v1." + string(m[1]) + "."; !strings.HasPrefix(kubernetesVersion, want) {
		t.Errorf("kubernetesVersion %s, but client-go is v0.%s.x", kubernetesVersion, m[1])
	}
}

// ---------------------------------------------------------------------------
// Lab commands without a lab or without a cluster

// noDownloads asserts nothing was fetched, built or provisioned: the cache
// directories are empty or absent.
func noDownloads(t *testing.T, e testEnv) {
	t.Helper()
	for _, d := range []string{e.cache, e.xdgC, e.bin} {
		_ = filepath.WalkDir(d, func(p string, de fs.DirEntry, err error) error {
			if err == nil && !de.IsDir() {
				t.Errorf("a command wrote %s", p)
			}
			return nil
		})
	}
}

func TestLabCommandsWithoutALab(t *testing.T) {
	e := isolate(t)
	for _, args := range [][]string{
		{"check"}, {"check", "-o", "json"}, {"check", "-o", "junit"},
		{"hint"}, {"hint", "2"}, {"solution"}, {"solution", "--yes"},
		{"reset"}, {"env"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			start := time.Now()
			r := runCLI(t, append(args, "--backend", "local")...)
			wantFailure(t, r, 2, runner.ErrNoLab.Error())
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v to say there is no lab", d)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(e.state, "labs")); err == nil {
		t.Error("a command without a lab created lab state")
	}
	noDownloads(t, e)
}

func TestClusterCommandsWithoutACluster(t *testing.T) {
	e := isolate(t)
	r := runCLI(t, "cluster", "status", "--backend", "local")
	wantFailure(t, r, 1, "cluster ckslab (local) does not exist: ckslab cluster up creates it")

	r = runCLI(t, "cluster", "status", "--backend", "local", "-o", "json", "--cluster", "other")
	wantFailure(t, r, 1, "cluster other (local) does not exist")

	r = runCLI(t, "ssh", "--backend", "local")
	wantFailure(t, r, 1, "error: no running cluster ckslab (local)", "start a lab first")

	r = runCLI(t, "cluster", "down", "--backend", "local")
	wantSuccess(t, r)
	if r.stdout != "cluster ckslab (local) does not exist\n" {
		t.Errorf("down of a missing cluster: %q", r.stdout)
	}

	noDownloads(t, e)
}

// writeLab records a lab of the default cluster ("ckslab") the way
// `ckslab start` does, without a cluster.
func writeLab(t *testing.T, e testEnv, st runner.LabState) string {
	t.Helper()
	p := filepath.Join(e.state, "labs", "ckslab.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readLab(t *testing.T, p string) runner.LabState {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var st runner.LabState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestLabWhoseClusterIsGone(t *testing.T) {
	e := isolate(t)
	p := writeLab(t, e, runner.LabState{Scenario: "psp-01", Cluster: "ckslab", Backend: "local",
		Kubeconfig: filepath.Join(e.root, "kubeconfig"), SetupDone: true})

	for _, args := range [][]string{{"check"}, {"check", "-o", "json"}, {"check", "-o", "junit"}} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			r := runCLI(t, append(args, "--backend", "local")...)
			wantFailure(t, r, 2, "error: cluster ckslab (local backend): ", "not found")
		})
	}
	// --backend auto follows the lab's own backend (no Docker probe) and says so.
	r := runCLI(t, "check")
	wantFailure(t, r, 2, "backend local (the running lab's backend)\n", "error: cluster ckslab (local backend): ")

	r = runCLI(t, "reset", "--backend", "local")
	wantFailure(t, r, 1, "error: cluster ckslab (local backend): ", "not found")
	if st := readLab(t, p); st.Scenario != "psp-01" || !st.SetupDone {
		t.Errorf("a reset that could not reach the cluster changed the lab state: %+v", st)
	}
	noDownloads(t, e)
}

func TestBrokenLabState(t *testing.T) {
	e := isolate(t)
	p := filepath.Join(e.state, "labs", "ckslab.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"hint"}, {"solution", "--yes"}, {"check", "--backend", "local"}} {
		r := runCLI(t, args...)
		wantFailure(t, r, 1, "lab state "+p+" is corrupt")
	}

	writeLab(t, e, runner.LabState{Scenario: "gone-01", Backend: "local"})
	r := runCLI(t, "hint")
	wantFailure(t, r, 1, `no scenario "gone-01"`)
	r = runCLI(t, "check", "--backend", "local")
	wantFailure(t, r, 2, "the current lab's scenario is no longer in the catalog", `no scenario "gone-01"`)
}

func TestEnvPrintsTheLabKubeconfig(t *testing.T) {
	e := isolate(t)
	kc := filepath.Join(e.root, "my kube's", "config")
	writeLab(t, e, runner.LabState{Scenario: "psp-01", Backend: "local", Kubeconfig: kc})
	r := runCLI(t, "env")
	wantSuccess(t, r)
	if want := "export KUBECONFIG=" + shellQuote(kc) + "\n"; r.stdout != want {
		t.Errorf("env: %q, want %q", r.stdout, want)
	}
	if !strings.Contains(r.stdout, `'\''`) {
		t.Errorf("the quote in the path is not escaped for the shell: %q", r.stdout)
	}
	// Another cluster has no lab.
	r = runCLI(t, "--cluster", "other", "env", "--backend", "local")
	wantFailure(t, r, 2, runner.ErrNoLab.Error())
}

// hint and solution need no cluster: they read the current lab's scenario.
func TestHintReadsTheScenarioAndRecordsPenalties(t *testing.T) {
	e := isolate(t)
	hints := diskScenarios(t)["psp-01"].spec.Spec.Hints
	if len(hints) != 3 {
		t.Fatalf("psp-01 has %d hints on disk; the test expects 3", len(hints))
	}
	p := writeLab(t, e, runner.LabState{Scenario: "psp-01", Cluster: "ckslab", Backend: "local", SetupDone: true})
	line := func(n int) string {
		return "Hint " + strconv.Itoa(n) + "/3 (-" + strconv.Itoa(hints[n-1].Penalty) + "): " + hints[n-1].Text + "\n"
	}
	steps := []struct {
		args        []string
		hint        int
		used        []int
		wantPenalty int
	}{
		{[]string{"hint"}, 1, []int{1}, hints[0].Penalty},
		{[]string{"hint"}, 2, []int{1, 2}, hints[0].Penalty + hints[1].Penalty},
		// Revealing a hint again costs nothing more.
		{[]string{"hint", "1"}, 1, []int{1, 2}, hints[0].Penalty + hints[1].Penalty},
		{[]string{"hint", "3"}, 3, []int{1, 2, 3}, hints[0].Penalty + hints[1].Penalty + hints[2].Penalty},
		// Past the last hint, the last one is shown again.
		{[]string{"hint"}, 3, []int{1, 2, 3}, hints[0].Penalty + hints[1].Penalty + hints[2].Penalty},
	}
	for _, s := range steps {
		r := runCLI(t, s.args...)
		wantSuccess(t, r)
		if r.stdout != line(s.hint) {
			t.Errorf("%v: %q, want %q", s.args, r.stdout, line(s.hint))
		}
		st := readLab(t, p)
		if !slices.Equal(st.HintsUsed, s.used) || st.Penalty != s.wantPenalty {
			t.Errorf("after %v: hints used %v, penalty %d; want %v, %d", s.args, st.HintsUsed, st.Penalty, s.used, s.wantPenalty)
		}
	}

	r := runCLI(t, "hint", "99")
	wantFailure(t, r, 1, "error: psp-01 has hints 1 to 3, not 99")
	for _, bad := range []string{"0", "-1", "abc"} {
		r := runCLI(t, "hint", "--", bad)
		wantFailure(t, r, 1, `error: hint number "`+bad+`" must be a positive integer`)
	}
	if st := readLab(t, p); st.Penalty != hints[0].Penalty+hints[1].Penalty+hints[2].Penalty {
		t.Errorf("refused hints changed the penalty: %+v", st)
	}
	// The plain CLI records progress like the UI: three hints, once each.
	d, err := progress.Open(e.state).Load()
	if err != nil {
		t.Fatal(err)
	}
	sc := d.Get("psp-01")
	if sc == nil || sc.HintsUsed != 3 || sc.Penalty != hints[0].Penalty+hints[1].Penalty+hints[2].Penalty {
		t.Errorf("progress after hints: %+v", sc)
	}
}

func TestSolution(t *testing.T) {
	e := isolate(t)
	d := diskScenarios(t)["psp-01"]
	p := writeLab(t, e, runner.LabState{Scenario: "psp-01", Cluster: "ckslab", Backend: "local", SetupDone: true})

	// Off a terminal the solution needs --yes.
	r := runCLI(t, "solution")
	wantFailure(t, r, 1, "error: showing the solution of psp-01 needs confirmation: rerun with --yes")
	if readLab(t, p).SolutionSeen {
		t.Fatal("a refused solution was recorded as seen")
	}

	// On a terminal, anything but y/yes declines.
	r = runCLIWith(t, "n\n", true, "solution")
	wantSuccess(t, r)
	if r.stdout != "" || !strings.Contains(r.stderr, "Reveal the solution of psp-01?") {
		t.Errorf("declined solution:\n%s", r)
	}
	if readLab(t, p).SolutionSeen {
		t.Fatal("a declined solution was recorded as seen")
	}

	webYAML, err := os.ReadFile(filepath.Join(d.dir, "solution", "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantText := []string{
		"Solution of psp-01:\n\n",
		"1. kubectl " + d.spec.Spec.Solution[0].Kubectl + "\n",
		"2. Apply solution/web.yaml:\n\n",
		"    kind: Deployment\n",
		"    " + strings.Split(strings.TrimSpace(string(webYAML)), "\n")[0] + "\n",
	}
	for _, run := range []struct {
		name  string
		stdin string
		tty   bool
		args  []string
	}{
		{"yes-flag", "", false, []string{"solution", "--yes"}},
		{"prompt", "yes\n", true, []string{"solution"}},
	} {
		t.Run(run.name, func(t *testing.T) {
			writeLab(t, e, runner.LabState{Scenario: "psp-01", Cluster: "ckslab", Backend: "local", SetupDone: true})
			r := runCLIWith(t, run.stdin, run.tty, run.args...)
			wantSuccess(t, r)
			if !strings.HasPrefix(r.stdout, wantText[0]) {
				t.Errorf("solution should start with %q:\n%s", wantText[0], r.stdout)
			}
			for _, w := range wantText {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("solution lacks %q:\n%s", w, r.stdout)
				}
			}
			if !readLab(t, p).SolutionSeen {
				t.Error("the revealed solution is not recorded in the lab state")
			}
			d, err := progress.Open(e.state).Load()
			if err != nil {
				t.Fatal(err)
			}
			if sc := d.Get("psp-01"); sc == nil || !sc.SolutionViewed {
				t.Errorf("the revealed solution is not in the progress: %+v", sc)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Commands that refuse before touching a cluster

func TestExamNeedsATerminal(t *testing.T) {
	isolate(t)
	r := runCLI(t, "exam", "--backend", "local")
	wantFailure(t, r, 1, "error: ckslab exam is interactive and needs a terminal")
	// On a terminal, bad limits are refused before any cluster work.
	r = runCLIWith(t, "", true, "exam", "--backend", "local", "--minutes", "0")
	wantFailure(t, r, 1, "error: --minutes and --count must be at least 1")
}

func TestValidateRefusesBeforeProvisioning(t *testing.T) {
	e := isolate(t)
	r := runCLI(t, "validate", "--backend", "local")
	wantFailure(t, r, 1, "error: name scenarios to validate, or pass --all")
	r = runCLI(t, "validate", "--all", "psp-01", "--backend", "local")
	wantFailure(t, r, 1, "error: name scenarios to validate, or pass --all")

	// A pack directory with a lint problem is refused as a whole.
	dir, bad := extraScenarioDir(t)
	r = runCLI(t, "validate", dir, "--backend", "local")
	wantFailure(t, r, 1, bad+":10:12: spec.minutes", "1 lint problem(s): fix them before validating (ckslab lint "+dir+")")

	empty := t.TempDir()
	r = runCLI(t, "validate", empty, "--backend", "local")
	wantFailure(t, r, 1, "error: no scenarios found in "+empty)

	// Alternatives that are not well formed are all refused before any trial.
	alts := t.TempDir()
	for f, body := range map[string]string{
		"psp-01/wrong.yaml":   "expect: fail\ndescription: d\noperations: [{kubectl: get ns}]\n",
		"psp-01/typo.yaml":    "expect: fail\ndescription: d\nmustFail: [privileged-rejectd]\noperations: [{kubectl: get ns}]\n",
		"psp-01/unknown.yaml": "expect: pass\ndescripton: d\n", //nolint:misspell // the misspelt field is the input under test
		"nope-01/x.yaml":      "expect: pass\n",
	} {
		p := filepath.Join(alts, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = runCLI(t, "validate", "psp-01", "--backend", "local", "--alternatives", alts)
	wantFailure(t, r, 1,
		filepath.Join(alts, "nope-01")+`: no scenario "nope-01" in the catalog`,
		filepath.Join(alts, "psp-01", "typo.yaml")+`: mustFail[0]: psp-01 has no check "privileged-rejectd"`,
		filepath.Join(alts, "psp-01", "unknown.yaml")+":2:1: unknown field \"descripton\"", //nolint:misspell // the misspelt field is the input under test
		filepath.Join(alts, "psp-01", "wrong.yaml")+": mustFail: required for expect: fail",
		"4 problem(s) in "+alts+": fix them before validating")
	noDownloads(t, e)
}

func TestValidateCoverageReport(t *testing.T) {
	rs := []runner.ValidateResult{
		{ID: "a-01", Verdict: runner.VerdictPass, SeededScore: 0, SeededMax: 3, Seeded: []checks.Result{{ID: "x"}}, Objectives: []runner.ObjectiveSeen{
			{Scenario: "a-01", ID: "x", Failing: []string{"seeded"}, Passing: []string{"solution"}},
			{Scenario: "a-01", ID: "app-runs", Guard: true, Passing: []string{"seeded", "solution"}},
		}, Alternatives: []runner.AlternativeOutcome{{Name: "wrong-warn-only", Expect: "fail", Verdict: runner.VerdictFail, Reason: "this wrong fix must fail x, but: x: pass ()"}}},
		{ID: "b-01", Verdict: runner.VerdictSkip, Objectives: []runner.ObjectiveSeen{{Scenario: "b-01", ID: "y"}}},
	}
	gaps := runner.CoverageGaps(rs)
	var b bytes.Buffer
	printValidate(&b, rs)
	printCoverage(&b, rs, gaps, true)
	out := b.String()
	for _, w := range []string{
		"         seeded state scores 0/3\n",
		"alternative wrong-warn-only",
		"FAIL  this wrong fix must fail x",
		"1 of 2 objectives seen both ways",
		"1 objective(s) not seen both ways, FAIL (--require-both-ways)",
		"  a-01 guard app-runs: never seen failing\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("validate report lacks %q:\n%s", w, out)
		}
	}
	vs := validateSuites(rs)[0]
	if vs.Tests != 3 || vs.Failures != 1 || vs.Skipped != 1 || vs.Cases[1].Name != "a-01/wrong-warn-only (expect fail)" || vs.Cases[1].Failure == nil {
		t.Errorf("validate suite: %+v", vs)
	}
	s := coverageSuite(gaps)
	if s.Tests != 1 || s.Failures != 1 || s.Cases[0].Name != "a-01/app-runs" || s.Cases[0].Failure.Message != "a-01 guard app-runs: never seen failing" {
		t.Errorf("coverage suite: %+v", s)
	}
	if s := coverageSuite(nil); s.Tests != 1 || s.Failures != 0 {
		t.Errorf("empty coverage suite: %+v", s)
	}
}

// ---------------------------------------------------------------------------
// progress / pack list (local state only)

func TestProgressEmpty(t *testing.T) {
	isolate(t)
	r := runCLI(t, "progress")
	wantSuccess(t, r)
	if !strings.HasPrefix(r.stdout, "No progress yet") {
		t.Errorf("progress without data: %q", r.stdout)
	}
	r = runCLI(t, "progress", "-o", "json")
	wantSuccess(t, r)
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if string(got["scenarios"]) != "[]" || string(got["exams"]) != "[]" {
		t.Errorf("empty progress must be empty lists, not null: %s", r.stdout)
	}
}

func TestProgressShowsRecordedAttemptsAndExams(t *testing.T) {
	e := isolate(t)
	st := progress.Open(e.state)
	t0 := time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)
	for _, f := range []func() error{
		func() error { return st.StartAttempt("psp-01", t0) },
		func() error { return st.RecordHint("psp-01", 1, t0.Add(time.Minute)) },
		func() error {
			return st.RecordCheck("psp-01", progress.Check{Score: 4, Max: 6, At: t0.Add(90 * time.Second)})
		},
		func() error { return st.RecordSolution("psp-01", t0.Add(2*time.Minute)) },
		func() error {
			return st.RecordExam(progress.Exam{StartedAt: t0, EndedAt: t0.Add(time.Hour), Minutes: 60, Seed: 7,
				Tasks: []progress.ExamTask{{Scenario: "psp-01"}, {Scenario: "rbac-01"}}, Percent: 75, Passed: true})
		},
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}

	r := runCLI(t, "progress", "-o", "json")
	wantSuccess(t, r)
	var got struct {
		Scenarios []progressRow   `json:"scenarios"`
		Exams     []progress.Exam `json:"exams"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	want := progressRow{ID: "psp-01", Attempts: 1, Checks: 1, BestScore: 3, BestMax: 6, HintsUsed: 1, SolutionViewed: true, TimeSeconds: 90}
	if len(got.Scenarios) != 1 || got.Scenarios[0] != want {
		t.Errorf("progress -o json scenarios:\n%+v\nwant %+v", got.Scenarios, want)
	}
	if len(got.Exams) != 1 || got.Exams[0].Seed != 7 || !got.Exams[0].Passed || len(got.Exams[0].Tasks) != 2 {
		t.Errorf("progress -o json exams: %+v", got.Exams)
	}

	r = runCLI(t, "progress")
	wantSuccess(t, r)
	lines := nonEmptyLines(r.stdout)
	if len(lines) != 4 {
		t.Fatalf("want 2 tables of 2 lines:\n%s", r.stdout)
	}
	if f := strings.Fields(lines[1]); !slices.Equal(f, []string{"psp-01", "1", "3/6", "no", "1m30s", "1"}) {
		t.Errorf("progress row %q", lines[1])
	}
	if f := strings.Fields(lines[3]); len(f) != 6 || !slices.Equal(f[2:], []string{"2", "75.0%", "pass", "7"}) {
		t.Errorf("exam row %q", lines[3])
	}
}

func TestPackListEmpty(t *testing.T) {
	isolate(t)
	r := runCLI(t, "pack", "list")
	wantSuccess(t, r)
	if r.stdout != "" || !strings.Contains(r.stderr, "No packs installed") {
		t.Errorf("pack list without packs:\n%s", r)
	}
	r = runCLI(t, "pack", "list", "-o", "json")
	wantSuccess(t, r)
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("pack list -o json without packs: %q", r.stdout)
	}
}

// ---------------------------------------------------------------------------
// Output helpers the lab commands use (check needs a cluster, so its
// rendering is tested here directly).

func sampleResults() []checks.Result {
	return []checks.Result{
		{ID: "a", Objective: "A passes", Status: checks.Pass, Weight: 2, Duration: 500 * time.Millisecond},
		{ID: "b", Objective: "B fails", Status: checks.Fail, Message: "found x, want y", Evidence: []string{"ev1", "ev2"}, Duration: time.Second},
		{ID: "c", Objective: "C errors", Status: checks.Error, Message: "API down"},
		{ID: "d", Objective: "D skipped", Status: checks.Skip, Message: "backend cannot"},
	}
}

func TestPrintResults(t *testing.T) {
	rs := sampleResults()
	var b bytes.Buffer
	printResults(&b, rs, checks.Summarize(rs), 1)
	out := b.String()
	for _, w := range []string{
		"✔ pass   A passes\n",
		"✘ fail   B fails\n         found x, want y\n           ev1\n           ev2\n",
		"! error  C errors\n         API down\n",
		"- skip   D skipped\n",
		"\nScore 1/5 (-1 for hints): 1 passed, 1 failed, 1 errors, 1 skipped\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("printResults lacks %q:\n%s", w, out)
		}
	}
	// The hint penalty never makes the score negative.
	b.Reset()
	printResults(&b, rs, checks.Summarize(rs), 10)
	if !strings.Contains(b.String(), "Score 0/5 (-10 for hints)") {
		t.Errorf("penalty above the score:\n%s", b.String())
	}
}

func TestJUnitReport(t *testing.T) {
	var b bytes.Buffer
	if err := writeJUnit(&b, []junitSuite{suiteOf("psp-01", sampleResults())}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), xml.Header) {
		t.Errorf("no XML header:\n%s", b.String())
	}
	var got junitSuites
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("junit is not XML: %v\n%s", err, b.String())
	}
	if len(got.Suites) != 1 {
		t.Fatalf("suites: %+v", got.Suites)
	}
	s := got.Suites[0]
	if s.Name != "psp-01" || s.Tests != 4 || s.Failures != 1 || s.Errors != 1 || s.Skipped != 1 || len(s.Cases) != 4 || s.Time != 1.5 {
		t.Errorf("suite: %+v", s)
	}
	if c := s.Cases[1]; c.Name != "b: B fails" || c.Classname != "ckslab.psp-01" || c.Failure == nil || c.Failure.Message != "found x, want y" || c.Failure.Body != "ev1\nev2" {
		t.Errorf("failed case: %+v", c)
	}
	if s.Cases[0].Failure != nil || s.Cases[0].Error != nil || s.Cases[0].Skipped != nil {
		t.Errorf("a passing case has an outcome: %+v", s.Cases[0])
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/home/u/.cache/ckslab/kubeconfig": "/home/u/.cache/ckslab/kubeconfig",
		"/a b/c":                           "'/a b/c'",
		"/it's":                            `'/it'\''s'`,
		"/x$(rm -rf ~)":                    "'/x$(rm -rf ~)'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("  first\nsecond  "); got != "first ..." {
		t.Errorf("oneLine = %q", got)
	}
	long := strings.Repeat("x", 150)
	if got := oneLine(long); len(got) != 100 || !strings.HasSuffix(got, "...") {
		t.Errorf("oneLine of 150 chars = %d chars %q", len(got), got)
	}
}

func guardResults() []checks.Result {
	return []checks.Result{
		{ID: "app-runs", Objective: "web still runs", Status: checks.Fail, Message: "0/1 ready", Guard: true, Protects: []string{"denied"}},
		{ID: "kept", Objective: "binding kept", Status: checks.Pass, Guard: true},
		{ID: "denied", Objective: "privileged denied", Status: checks.Pass, Weight: 2},
		{ID: "other", Objective: "other fixed", Status: checks.Pass, Weight: 1},
	}
}

// Guards are shown apart (guard ok / guard broken) with what a broken one costs.
func TestPrintResultsGuards(t *testing.T) {
	rs := guardResults()
	var b bytes.Buffer
	printResults(&b, rs, checks.Summarize(rs), 0)
	out := b.String()
	for _, w := range []string{
		"✘ guard broken  web still runs\n                0/1 ready\n                this guard is broken: no points for denied\n",
		"✔ guard ok      binding kept\n",
		"✔ pass          privileged denied\n                passes, but scores 0: guard app-runs is broken\n",
		"✔ pass          other fixed\n",
		"\nScore 1/3: 3 passed, 1 failed, 0 errors, 0 skipped; guards 1/2 ok",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("printResults lacks %q:\n%s", w, out)
		}
	}
}

func TestCheckViewsGuards(t *testing.T) {
	vs := checkViews(guardResults())
	var b bytes.Buffer
	if err := writeJSON(&b, vs); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		label  string
		points float64
		guard  bool
	}{{"guard broken", 0, true}, {"guard ok", 0, true}, {"pass", 0, false}, {"pass", 1, false}}
	for i, w := range want {
		if got[i]["label"] != w.label || got[i]["points"] != w.points || (got[i]["guard"] == true) != w.guard {
			t.Errorf("result %d: %v, want %+v", i, got[i], w)
		}
	}
	if cb, _ := got[2]["cancelledBy"].([]any); len(cb) != 1 || cb[0] != "app-runs" {
		t.Errorf("denied: cancelledBy %v", got[2]["cancelledBy"])
	}
}

func TestJUnitGuards(t *testing.T) {
	s := suiteOf("psp-01", guardResults())
	if c := s.Cases[0]; c.Name != "guard app-runs: web still runs" || c.Classname != "ckslab.psp-01.guard" || c.Failure == nil ||
		c.Failure.Message != "0/1 ready (this guard is broken: no points for denied)" {
		t.Errorf("broken guard case: %+v %+v", c, c.Failure)
	}
	if c := s.Cases[1]; c.Classname != "ckslab.psp-01.guard" || c.Failure != nil {
		t.Errorf("ok guard case: %+v", c)
	}
	if c := s.Cases[2]; c.Classname != "ckslab.psp-01" || c.Failure != nil || !strings.Contains(c.SystemOut, "scores 0") {
		t.Errorf("cancelled case: %+v", c)
	}
}
