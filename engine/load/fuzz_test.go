package load_test

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/ckslab/ckslab/engine/load"
)

// FuzzParse: no input may panic the loader; a scenario it accepts must
// re-validate clean (the loader never returns a half-checked scenario).
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"invalid", "valid"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", dir, "*.yaml"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	if b, err := os.ReadFile("../../scenarios/minimize-microservice-vulnerabilities/psp-01/scenario.yaml"); err == nil {
		f.Add(b)
	}
	dir := fstest.MapFS{"manifests/a.yaml": {Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")}}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, ps := load.Parse("fuzz.yaml", data, dir)
		if s == nil && len(ps) == 0 {
			t.Fatal("no scenario and no problems")
		}
		if s != nil {
			if errs := s.Validate(); len(errs) > 0 {
				t.Fatalf("accepted scenario fails validation: %v", errs)
			}
		}
		for _, p := range ps {
			if p.File != "fuzz.yaml" || p.Message == "" {
				t.Fatalf("problem without file or message: %#v", p)
			}
		}
	})
}
