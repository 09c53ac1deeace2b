package load

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/ckslab/ckslab/scenarios"
)

// generateCatalog writes n copies of the built-in scenarios (every file of
// each) under new ids into a fresh directory, dated an hour ago: a large
// catalog of valid scenarios for the benchmarks (issue 19).
func generateCatalog(tb testing.TB, n int) string {
	tb.Helper()
	root := tb.TempDir()
	files, err := findScenarioFiles(scenarios.FS)
	if err != nil || len(files) == 0 {
		tb.Fatalf("built-in scenarios: %v (%d)", err, len(files))
	}
	old := time.Now().Add(-time.Hour)
	nameRE := regexp.MustCompile(`(?m)^ {2}name: \S+$`)
	for i := range n {
		src := path.Dir(files[i%len(files)])
		id := path.Base(src)
		dst := filepath.Join(root, filepath.FromSlash(path.Dir(src)), id+"-gen"+strconv.Itoa(i))
		err := fs.WalkDir(scenarios.FS, src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(scenarios.FS, p)
			if err != nil {
				return err
			}
			if d.Name() == ScenarioFile {
				done := false
				b = nameRE.ReplaceAllFunc(b, func(m []byte) []byte {
					if done {
						return m
					}
					done = true
					return []byte("  name: " + id + "-gen" + strconv.Itoa(i))
				})
			}
			out := filepath.Join(dst, filepath.FromSlash(p[len(src):]))
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return err
			}
			return os.Chtimes(out, old, old)
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return root
}

// BenchmarkOpenCatalogGet is what the verbs pay for the catalog: open it
// through a warm index and parse one scenario (index: the whole catalog
// checked, as list does; for: up to the source defining the scenario, as
// describe and check do), with the built-in catalog alone and with 200
// generated scenarios more; the strict whole-catalog load (lint, validate)
// is beside it for scale.
func BenchmarkOpenCatalogGet(b *testing.B) {
	builtin := Source{Name: "builtin", Kind: "builtin", FS: scenarios.FS, Display: "builtin:scenarios", Trusted: true}
	for _, extra := range []int{0, 200} {
		sources := []Source{builtin}
		if extra > 0 {
			sources = append(sources, DirSource(generateCatalog(b, extra)))
		}
		idx := b.TempDir()
		if _, ps := OpenCatalog(idx, sources...); len(ps) > 0 { // warm the index
			b.Fatalf("generated catalog has problems: %v", ps)
		}
		b.Run("index/extra="+strconv.Itoa(extra), func(b *testing.B) {
			for b.Loop() {
				c, _ := OpenCatalog(idx, sources...)
				if _, err := c.Get("psp-01"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("for/extra="+strconv.Itoa(extra), func(b *testing.B) { // describe, check: up to psp-01's source
			for b.Loop() {
				c, _ := OpenCatalogFor(idx, "psp-01", sources...)
				if _, err := c.Get("psp-01"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("strict/extra="+strconv.Itoa(extra), func(b *testing.B) {
			for b.Loop() {
				c, _ := NewCatalog(sources...)
				if _, err := c.Get("psp-01"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
