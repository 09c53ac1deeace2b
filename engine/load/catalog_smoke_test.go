package load_test

import (
	"testing"

	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/scenarios"
)

func TestBuiltinCatalogLoads(t *testing.T) {
	c, ps := load.NewCatalog(load.Source{Name: "builtin", Kind: "builtin", FS: scenarios.FS, Display: "scenarios", Trusted: true})
	if len(ps) > 0 {
		t.Fatalf("built-in catalog has problems:\n%v", ps)
	}
	if len(c.All()) == 0 {
		t.Fatal("built-in catalog is empty")
	}
	if _, err := c.Get("psp-01"); err != nil {
		t.Fatal(err)
	}
}
