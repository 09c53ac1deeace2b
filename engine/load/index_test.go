package load

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/fsutil"
	"github.com/ckslab/ckslab/scenarios"
)

// scenarioYAML is a valid scenario whose title, task and CEL are given.
func scenarioYAML(name, title, task, expr string) string {
	return fmt.Sprintf(`apiVersion: ckslab.dev/v1alpha1
kind: Scenario
metadata:
  name: %s
spec:
  title: %s
  domain: cluster-hardening
  competency: rbac
  difficulty: easy
  minutes: 3
  requires: [api]
  setup:
  - apply: {file: manifests/ns.yaml}
  task: %s
  checks:
  - id: ns-exists
    objective: Namespace demo exists
    assert:
      resource: {apiVersion: v1, kind: Namespace, name: demo}
      expr: %s
  solution:
  - kubectl: create namespace demo
`, name, title, task, expr)
}

// writeScenario writes <root>/<name>/scenario.yaml and its manifest, dated
// an hour ago so the index entry is not racily clean.
func writeScenario(t *testing.T, root, name, title, task, expr string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Join(dir, "manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, ScenarioFile)
	writeOld(t, filepath.Join(dir, "manifests", "ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n")
	writeOld(t, f, scenarioYAML(name, title, task, expr))
	return f
}

func writeOld(t *testing.T, f, content string) {
	t.Helper()
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(f, old, old); err != nil {
		t.Fatal(err)
	}
}

// readIndex returns the only index file in dir.
func readIndex(t *testing.T, dir string) (string, indexFile) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("want one index file in %s, got %v (%v)", dir, files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var idx indexFile
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatalf("index %s is not JSON: %v", files[0], err)
	}
	return files[0], idx
}

func titles(c *Catalog) map[string]string {
	out := map[string]string{}
	for _, s := range c.Summaries() {
		out[s.ID] = s.Title
	}
	return out
}

// An unchanged scenario is served from the index (not parsed); any change
// to its file or to a file beside it is seen by the next open. The index's
// title is tampered with to tell the two apart.
func TestIndexServesUnchangedAndNeverStale(t *testing.T) {
	root, idxDir := t.TempDir(), t.TempDir()
	f := writeScenario(t, root, "alpha", "Alpha one", "Do alpha.", "object.metadata.name == 'demo'")
	writeScenario(t, root, "beta", "Beta one", "Do beta.", "true")

	c, ps := OpenCatalog(idxDir, DirSource(root))
	if len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	if got := titles(c); got["alpha"] != "Alpha one" || got["beta"] != "Beta one" || len(got) != 2 {
		t.Fatalf("first open: %v", got)
	}

	// Tamper with the index: an unchanged file must be served from it.
	file, idx := readIndex(t, idxDir)
	for i := range idx.Entries {
		if idx.Entries[i].Racy {
			t.Fatalf("entry %s dated an hour ago is marked racy", idx.Entries[i].Path)
		}
		idx.Entries[i].Summary.Title = "FROM INDEX"
	}
	b, _ := json.Marshal(idx)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ = OpenCatalog(idxDir, DirSource(root))
	if got := titles(c); got["alpha"] != "FROM INDEX" || got["beta"] != "FROM INDEX" {
		t.Fatalf("unchanged files were parsed again instead of read from the index: %v", got)
	}
	// Get parses the file itself: what it serves is on disk.
	s, err := c.Get("alpha")
	if err != nil || s.Spec.Title != "Alpha one" || s.ID != "alpha" || s.Source != "dir:"+root {
		t.Fatalf("Get(alpha) = %+v, %v", s, err)
	}

	// Edit alpha in place, same size (one letter), mtime an hour ago but
	// different from before: the next open sees the edit.
	writeOld(t, f, scenarioYAML("alpha", "Alpha two", "Do alpha.", "object.metadata.name == 'demo'"))
	later := time.Now().Add(-time.Hour + time.Second)
	if err := os.Chtimes(f, later, later); err != nil {
		t.Fatal(err)
	}
	c, _ = OpenCatalog(idxDir, DirSource(root))
	if got := titles(c); got["alpha"] != "Alpha two" || got["beta"] != "FROM INDEX" {
		t.Fatalf("after editing alpha: %v (want alpha re-read, beta still from the index)", got)
	}
	if s, err := c.Get("alpha"); err != nil || s.Spec.Title != "Alpha two" {
		t.Fatalf("Get(alpha) after the edit = %v, %v", s, err)
	}

	// An edit just now (mtime within the racy window) is seen too, and
	// the entry stays untrusted until it is older than the window.
	if err := os.WriteFile(f, []byte(scenarioYAML("alpha", "Alpha now", "Do alpha.", "true")), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ = OpenCatalog(idxDir, DirSource(root))
	if got := titles(c); got["alpha"] != "Alpha now" {
		t.Fatalf("after editing alpha just now: %v", got)
	}
	_, idx = readIndex(t, idxDir)
	for _, e := range idx.Entries {
		if e.Path == "alpha/scenario.yaml" && !e.Racy {
			t.Errorf("entry of a file modified just now is not marked racy")
		}
	}
	// Edited again within the same mtime tick of a coarse file system:
	// same size, same mtime. Only the racy rule can catch this one.
	info, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte(scenarioYAML("alpha", "Alpha wow", "Do alpha.", "true")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(f, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	c, _ = OpenCatalog(idxDir, DirSource(root))
	if got := titles(c); got["alpha"] != "Alpha wow" {
		t.Fatalf("after a same-size edit within the same mtime: %v", got)
	}

	// A file beside the scenario counts: removing its manifest makes it
	// invalid, with the strict loader's message.
	if err := os.Remove(filepath.Join(root, "beta", "manifests", "ns.yaml")); err != nil {
		t.Fatal(err)
	}
	c, ps = OpenCatalog(idxDir, DirSource(root))
	if _, ok := titles(c)["beta"]; ok || len(ps) != 1 || !strings.Contains(ps[0].String(), `spec.setup[0].apply.file: file "manifests/ns.yaml" does not exist next to the scenario`) {
		t.Fatalf("after removing beta's manifest: %v, problems %v", titles(c), ps)
	}
	// The problem is kept in the index: the next open reports it again.
	c, ps2 := OpenCatalog(idxDir, DirSource(root))
	if _, ok := titles(c)["beta"]; ok || len(ps2) != 1 || ps2[0] != ps[0] {
		t.Fatalf("second open after removing beta's manifest: %v, problems %v", titles(c), ps2)
	}

	// New and removed scenarios.
	writeScenario(t, root, "gamma", "Gamma", "Do gamma.", "true")
	if err := os.RemoveAll(filepath.Join(root, "beta")); err != nil {
		t.Fatal(err)
	}
	c, ps = OpenCatalog(idxDir, DirSource(root))
	if got := titles(c); len(ps) > 0 || len(got) != 2 || got["gamma"] != "Gamma" || got["alpha"] != "Alpha wow" {
		t.Fatalf("after adding gamma and removing beta: %v, problems %v", got, ps)
	}
}

// The index is filled by the strict loader: a CEL error is reported (and
// kept) exactly as lint reports it, although Get does not compile CEL.
func TestIndexKeepsStrictProblems(t *testing.T) {
	root, idxDir := t.TempDir(), t.TempDir()
	writeScenario(t, root, "bad", "Bad", "Do it.", "object.metadata.name ==")
	writeScenario(t, root, "good", "Good", "Do it.", "true")
	_, strict := NewCatalog(DirSource(root))
	for i := 0; i < 2; i++ {
		c, ps := OpenCatalog(idxDir, DirSource(root))
		if len(ps) != 1 || len(strict) != 1 || ps[0] != strict[0] || !strings.Contains(ps[0].Message, "CEL does not compile") {
			t.Fatalf("open %d: problems %v, strict loader %v", i+1, ps, strict)
		}
		if c.Len() != 1 {
			t.Fatalf("open %d: %d scenarios, want only good", i+1, c.Len())
		}
		if _, err := c.Get("bad"); err == nil {
			t.Fatalf("open %d: an invalid scenario is served", i+1)
		}
	}
}

// The index gives the same catalog as the strict loader: ids, order,
// summaries, pack namespacing of colliding ids, duplicate problems.
func TestIndexAgreesWithStrictLoader(t *testing.T) {
	root, pack, idxDir := t.TempDir(), t.TempDir(), t.TempDir()
	writeScenario(t, root, "psp-01", "Dir copy of psp-01", "x", "true") // collides with builtin: skipped
	writeScenario(t, root, "extra", "Extra", "x", "true")
	writeScenario(t, pack, "extra", "Pack extra", "x", "true") // collides: becomes <pack>/extra
	packSrc := DirSource(pack)
	packSrc.Kind, packSrc.Name, packSrc.Trusted = "pack", "mypack", false
	missing := DirSource(filepath.Join(root, "no-such-dir")) // a problem, in the same place
	sources := []Source{{Name: "builtin", Kind: "builtin", FS: scenarios.FS, Display: "builtin:scenarios", Trusted: true}, DirSource(root), missing, packSrc}

	want, wantPs := NewCatalog(sources...)
	for i := 0; i < 2; i++ { // building the index, then reading it
		got, ps := OpenCatalog(idxDir, sources...)
		if fmt.Sprint(ps) != fmt.Sprint(wantPs) || len(ps) != 2 {
			t.Fatalf("open %d: problems\n%v\nwant\n%v", i+1, ps, wantPs)
		}
		if g, w := fmt.Sprintf("%+v", got.Summaries()), fmt.Sprintf("%+v", want.Summaries()); g != w {
			t.Fatalf("open %d: summaries differ from the strict loader's:\n%s\nwant\n%s", i+1, g, w)
		}
		s, err := got.Get("mypack/extra")
		if err != nil || s.Spec.Title != "Pack extra" || s.Trusted || s.Source != "pack:mypack" {
			t.Fatalf("open %d: Get(mypack/extra) = %+v, %v", i+1, s, err)
		}
		all := got.All()
		if len(all) != want.Len() {
			t.Fatalf("open %d: All() has %d scenarios, want %d", i+1, len(all), want.Len())
		}
		for j, s := range all {
			w := want.All()[j]
			if s.ID != w.ID || s.File != w.File || s.Source != w.Source || s.Spec.Task != w.Spec.Task {
				t.Fatalf("open %d: scenario %d is %s (%s), want %s (%s)", i+1, j, s.ID, s.File, w.ID, w.File)
			}
		}
	}
}

// Processes opening the catalog at once, while a scenario is being edited:
// each sees a complete, correct catalog, the index is always whole JSON and
// no temp file is left behind.
func TestIndexConcurrentOpens(t *testing.T) {
	root, idxDir := t.TempDir(), t.TempDir()
	for i := 0; i < 10; i++ {
		writeScenario(t, root, fmt.Sprintf("s%02d", i), "S", "x", "true")
	}
	f := filepath.Join(root, "s00", ScenarioFile)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				c, ps := OpenCatalog(idxDir, DirSource(root))
				if len(ps) > 0 || c.Len() != 10 {
					errs <- fmt.Errorf("catalog of %d scenarios, problems %v", c.Len(), ps)
					return
				}
				if _, err := c.Get("s00"); err != nil && !strings.Contains(err.Error(), "changed on disk") {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < 8; i++ {
		// Renamed into place: a file written in place can be read half
		// written by anyone, index or not.
		if err := fsutil.WriteFileAtomic(f, []byte(scenarioYAML("s00", fmt.Sprintf("T%d", i), "x", "true")), 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c, _ := OpenCatalog(idxDir, DirSource(root))
	if got := titles(c)["s00"]; got != "T7" {
		t.Errorf("after the edits settled: title %q, want T7", got)
	}
	readIndex(t, idxDir) // exactly one file, whole JSON: no temp files left
}

// A corrupt or foreign index is ignored and rewritten; an unwritable index
// directory only costs speed.
func TestIndexCorruptOrUnwritable(t *testing.T) {
	root, idxDir := t.TempDir(), t.TempDir()
	writeScenario(t, root, "alpha", "Alpha", "x", "true")
	if _, ps := OpenCatalog(idxDir, DirSource(root)); len(ps) > 0 {
		t.Fatal(ps)
	}
	file, _ := readIndex(t, idxDir)
	if err := os.WriteFile(file, []byte(`{"format":1,"entries":[{"path":"alpha/scenario.yaml"`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, ps := OpenCatalog(idxDir, DirSource(root))
	if len(ps) > 0 || titles(c)["alpha"] != "Alpha" {
		t.Fatalf("with a corrupt index: %v, %v", titles(c), ps)
	}
	if _, idx := readIndex(t, idxDir); len(idx.Entries) != 1 {
		t.Fatalf("corrupt index not rewritten: %+v", idx)
	}
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, ps = OpenCatalog(filepath.Join(blocked, "index"), DirSource(root))
	if len(ps) > 0 || titles(c)["alpha"] != "Alpha" {
		t.Fatalf("with an unwritable index dir: %v, %v", titles(c), ps)
	}
}

// BenchmarkOpenCatalog: opening the built-in catalog plus a directory of
// copies, then loading one scenario, as describe does: through a warm index
// (the cost must not grow with the catalog) and strictly, as every verb did
// before the index (and lint still does).
func BenchmarkOpenCatalog(b *testing.B) {
	for _, strict := range []bool{false, true} {
		for _, extra := range []int{0, 200} {
			name := fmt.Sprintf("index/extra=%d", extra)
			if strict {
				name = fmt.Sprintf("strict/extra=%d", extra)
			}
			b.Run(name, func(b *testing.B) {
				root, idxDir := b.TempDir(), b.TempDir()
				for i := 0; i < extra; i++ {
					dir := filepath.Join(root, fmt.Sprintf("s%03d", i))
					old := time.Now().Add(-time.Hour)
					for _, err := range []error{
						os.MkdirAll(filepath.Join(dir, "manifests"), 0o755),
						os.WriteFile(filepath.Join(dir, "manifests", "ns.yaml"), []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n"), 0o644),
						os.WriteFile(filepath.Join(dir, ScenarioFile), []byte(scenarioYAML(fmt.Sprintf("s%03d", i), "S", "x", "true")), 0o644),
						os.Chtimes(filepath.Join(dir, ScenarioFile), old, old),
						os.Chtimes(filepath.Join(dir, "manifests", "ns.yaml"), old, old),
					} {
						if err != nil {
							b.Fatal(err)
						}
					}
				}
				sources := []Source{{Name: "builtin", Kind: "builtin", FS: scenarios.FS, Display: "builtin:scenarios", Trusted: true}, DirSource(root)}
				open := func() *Catalog {
					if strict {
						c, _ := NewCatalog(sources...)
						return c
					}
					c, _ := OpenCatalog(idxDir, sources...)
					return c
				}
				open()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := open().Get("psp-01"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// Two ckslab binaries used in turn keep one index each: neither rebuilds
// the other's (the whole catalog parsed on every command). An index no
// binary has written for indexMaxAge is pruned when another is written.
func TestIndexPerLoader(t *testing.T) {
	root, idxDir := t.TempDir(), t.TempDir()
	writeScenario(t, root, "alpha", "Alpha one", "Do alpha.", "true")
	src := DirSource(root)
	title := func(loader string) string {
		t.Helper()
		cands, err := indexSource(idxDir, loader, src)
		if err != nil || len(cands) != 1 {
			t.Fatalf("indexSource(%s) = %v, %v", loader, cands, err)
		}
		return cands[0].sum.Title
	}
	title("ckslab-a")
	title("ckslab-b")
	fileA := indexPath(idxDir, "ckslab-a", src)
	b, err := os.ReadFile(fileA)
	if err != nil {
		t.Fatalf("loader a's index is gone after loader b wrote its own: %v", err)
	}
	var idx indexFile
	if err := json.Unmarshal(b, &idx); err != nil || idx.Loader != "ckslab-a" {
		t.Fatalf("index %s: loader %q, %v", fileA, idx.Loader, err)
	}
	idx.Entries[0].Summary.Title = "FROM A"
	b, _ = json.Marshal(idx)
	if err := os.WriteFile(fileA, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := title("ckslab-b"); got != "Alpha one" {
		t.Fatalf("loader b served %q", got)
	}
	if got := title("ckslab-a"); got != "FROM A" {
		t.Fatalf("loader a re-parsed instead of reading its index: %q", got)
	}

	// b's index is old; a rewrites its own (a new scenario): b's is pruned.
	fileB := indexPath(idxDir, "ckslab-b", src)
	old := time.Now().Add(-indexMaxAge - time.Hour)
	if err := os.Chtimes(fileB, old, old); err != nil {
		t.Fatal(err)
	}
	writeScenario(t, root, "beta", "Beta", "Do beta.", "true")
	if cands, err := indexSource(idxDir, "ckslab-a", src); err != nil || len(cands) != 2 {
		t.Fatalf("after adding beta: %v, %v", cands, err)
	}
	if _, err := os.Stat(fileB); !os.IsNotExist(err) {
		t.Errorf("an index unused for %s was not pruned: %v", indexMaxAge, err)
	}
	if _, err := os.Stat(fileA); err != nil {
		t.Errorf("the index just written is gone: %v", err)
	}
}

// OpenCatalogFor answers a scenario's id from the sources up to the one
// defining it, exactly as the whole catalog would, leaving later sources
// unscanned until something else is asked for.
func TestOpenCatalogForScansOnlyUpToItsScenario(t *testing.T) {
	rootA, rootB, rootP, idxDir := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	writeScenario(t, rootA, "alpha", "Alpha", "Do alpha.", "true")
	writeScenario(t, rootA, "beta", "Beta", "Do beta.", "true")
	writeScenario(t, rootB, "gamma", "Gamma", "Do gamma.", "true")
	writeScenario(t, rootB, "alpha", "Alpha again", "Do alpha.", "true") // collides: a problem
	writeScenario(t, rootP, "alpha", "Pack alpha", "Do alpha.", "true")  // collides: becomes mypack/alpha
	writeScenario(t, rootP, "delta", "Delta", "Do delta.", "true")
	pack := DirSource(rootP)
	pack.Kind, pack.Name, pack.Trusted = "pack", "mypack", false
	sources := []Source{DirSource(rootA), DirSource(rootB), pack}

	full, fullPs := OpenCatalog(t.TempDir(), sources...)
	if len(fullPs) != 1 || full.Len() != 5 {
		t.Fatalf("full catalog: %v, problems %v", titles(full), fullPs)
	}
	for _, id := range []string{"alpha", "beta", "gamma", "mypack/alpha", "delta"} {
		want, err := full.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := OpenCatalogFor(t.TempDir(), id, sources...)
		got, err := c.Get(id)
		if err != nil || got.File != want.File || got.ID != want.ID || got.Spec.Title != want.Spec.Title {
			t.Fatalf("OpenCatalogFor(%s).Get = %v %v, %v; the whole catalog serves %v %v", id, got.ID, got.File, err, want.ID, want.File)
		}
		if c.Len() != 5 || len(c.Summaries()) != 5 {
			t.Fatalf("OpenCatalogFor(%s): after completion %v", id, titles(c))
		}
	}

	// alpha is in the first source: the others are not scanned (no index
	// written for them) until the catalog is listed.
	c, ps := OpenCatalogFor(idxDir, "alpha", sources...)
	if len(ps) != 0 {
		t.Fatalf("problems of unscanned sources reported: %v", ps)
	}
	if files, _ := filepath.Glob(filepath.Join(idxDir, "*.json")); len(files) != 1 {
		t.Fatalf("want only the first source's index, got %v", files)
	}
	if s, err := c.Get("alpha"); err != nil || s.Spec.Title != "Alpha" {
		t.Fatalf("Get(alpha) = %v, %v", s, err)
	}
	// Another id of a later source completes the scan.
	if s, err := c.Get("delta"); err != nil || s.ID != "delta" {
		t.Fatalf("Get(delta) = %v, %v", s, err)
	}
	if files, _ := filepath.Glob(filepath.Join(idxDir, "*.json")); len(files) != 3 {
		t.Fatalf("after a lookup beyond the first source, want 3 indexes, got %v", files)
	}
	if got := titles(c); len(got) != 5 || got["mypack/alpha"] != "Pack alpha" {
		t.Fatalf("completed catalog: %v", got)
	}

	// Never stale: an edit in the answering source is seen (same size, an
	// hour ago but another mtime).
	f := filepath.Join(rootA, "alpha", ScenarioFile)
	writeOld(t, f, scenarioYAML("alpha", "Alphb", "Do alpha.", "true"))
	later := time.Now().Add(-time.Hour + time.Second)
	if err := os.Chtimes(f, later, later); err != nil {
		t.Fatal(err)
	}
	c, _ = OpenCatalogFor(idxDir, "alpha", sources...)
	if s, err := c.Get("alpha"); err != nil || s.Spec.Title != "Alphb" {
		t.Fatalf("after editing alpha: %v, %v", s, err)
	}
	if got := titles(c); got["alpha"] != "Alphb" {
		t.Fatalf("summaries after editing alpha: %v", got)
	}
	// An unknown id scans everything and suggests near ids.
	c, _ = OpenCatalogFor(idxDir, "delt", sources...)
	if _, err := c.Get("delt"); err == nil || !strings.Contains(err.Error(), "did you mean delta") {
		t.Fatalf("Get(delt) = %v", err)
	}
}
