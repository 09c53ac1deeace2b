package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ckslab/ckslab/engine/fsutil"
)

// TestMain lets a test run this binary as ckslab itself
// (CKSLAB_TEST_RUN_CLI=1 <test binary> ARGS...), for tests that need
// several real processes at once.
func TestMain(m *testing.M) {
	if os.Getenv("CKSLAB_TEST_RUN_CLI") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], newStreams()))
	}
	os.Exit(m.Run())
}

// minimalScenario is testdata/valid/minimal.yaml with another title.
func minimalScenario(t *testing.T, title string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "valid", "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := bytes.Replace(data, []byte("title: Minimal valid scenario"), []byte("title: "+title), 1)
	if bytes.Equal(out, data) && title != "Minimal valid scenario" {
		t.Fatal("testdata/valid/minimal.yaml has no title line to replace")
	}
	return out
}

// Every verb but lint and validate reads the catalog through the index
// under the state dir; a scenario edited on disk is seen by the very next
// command, in list, describe and completion alike.
func TestCatalogIndexNeverStale(t *testing.T) {
	e := isolate(t)
	dir := filepath.Join(t.TempDir(), "extra")
	f := filepath.Join(dir, "minimal", "scenario.yaml")
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, minimalScenario(t, "First title"), 0o644); err != nil {
		t.Fatal(err)
	}
	title := func(t *testing.T) (list, describe, complete string) {
		t.Helper()
		r := runCLI(t, "--scenarios", dir, "list", "-o", "json")
		wantSuccess(t, r)
		var sums []scenarioSummary
		if err := json.Unmarshal([]byte(r.stdout), &sums); err != nil {
			t.Fatal(err)
		}
		for _, s := range sums {
			if s.ID == "minimal" {
				list = s.Title
			}
		}
		r = runCLI(t, "--scenarios", dir, "describe", "minimal")
		wantSuccess(t, r)
		describe = strings.TrimPrefix(strings.SplitN(r.stdout, "\n", 2)[0], "minimal: ")
		r = runCLI(t, "--scenarios", dir, "__complete", "describe", "mini")
		wantSuccess(t, r)
		for _, l := range strings.Split(r.stdout, "\n") {
			if id, t, ok := strings.Cut(l, "\t"); ok && id == "minimal" {
				complete = t
			}
		}
		return
	}
	for _, want := range []string{"First title", "Second title", "Third, longer title"} {
		if want != "First title" {
			// Written in place, as an editor does; size and mtime change.
			if err := os.WriteFile(f, minimalScenario(t, want), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		l, d, c := title(t)
		if l != want || d != want || c != want {
			t.Fatalf("after writing %q: list says %q, describe %q, completion %q", want, l, d, c)
		}
	}
	idx, _ := filepath.Glob(filepath.Join(e.state, "index", "*.json"))
	if len(idx) != 2 { // builtin and the extra directory
		t.Errorf("index files under the state dir: %v, want 2", idx)
	}

	// Broken on disk: list skips it with the strict loader's message, and
	// lint (whole catalog, strict) reports it too.
	if err := os.WriteFile(f, bytes.Replace(minimalScenario(t, "x"), []byte("minutes: 3"), []byte("minutes: three"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "--scenarios", dir, "list", "-o", "name")
	wantSuccess(t, r)
	if strings.Contains(r.stdout, "minimal\n") || !strings.Contains(r.stderr, "warning: skipped invalid scenario: "+f+":10:12: spec.minutes") {
		t.Errorf("list after breaking minimal:\n%s", r)
	}
	r = runCLI(t, "--scenarios", dir, "describe", "minimal")
	wantFailure(t, r, 1, `no scenario "minimal"`)
	r = runCLI(t, "--scenarios", dir, "lint")
	if r.code != 1 || !strings.HasPrefix(r.stdout, f+":10:12: spec.minutes: expected an integer") {
		t.Errorf("lint after breaking minimal:\n%s", r)
	}
}

// Several ckslab processes at once, while the scenario is being replaced:
// each lists a whole catalog, and the index is left whole, without temp
// files.
func TestCatalogIndexConcurrentProcesses(t *testing.T) {
	e := isolate(t)
	dir := filepath.Join(t.TempDir(), "extra")
	f := filepath.Join(dir, "minimal", "scenario.yaml")
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, minimalScenario(t, "T0"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := len(diskScenarios(t)) + 1
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				cmd := exec.Command(os.Args[0], "--scenarios", dir, "list", "-o", "name")
				cmd.Env = append(os.Environ(), "CKSLAB_TEST_RUN_CLI=1")
				var out, errOut bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errOut
				if err := cmd.Run(); err != nil || errOut.Len() > 0 {
					errs <- fmt.Errorf("ckslab list: %v\n%s", err, errOut.String())
					return
				}
				if n := len(nonEmptyLines(out.String())); n != want {
					errs <- fmt.Errorf("ckslab list printed %d scenarios, want %d:\n%s", n, want, out.String())
					return
				}
			}
		}()
	}
	for i := 1; i <= 6; i++ {
		if err := fsutil.WriteFileAtomic(f, minimalScenario(t, fmt.Sprintf("T%d", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r := runCLI(t, "--scenarios", dir, "describe", "minimal")
	if !strings.HasPrefix(r.stdout, "minimal: T6\n") {
		t.Errorf("describe after the edits:\n%s", r)
	}
	ents, err := os.ReadDir(filepath.Join(e.state, "index"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ents {
		b, err := os.ReadFile(filepath.Join(e.state, "index", d.Name()))
		if !strings.HasSuffix(d.Name(), ".json") || err != nil || !json.Valid(b) {
			t.Errorf("index dir holds %s (%v): want only whole JSON index files", d.Name(), err)
		}
	}
}
