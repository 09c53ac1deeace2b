package load_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/scenarios"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The committed schema must be what the Go types generate, or editors would
// validate against a different format than the loader accepts.
func TestSchemaUpToDate(t *testing.T) {
	got, err := load.JSONSchema("../api/v1alpha1")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("../../scenarios/scenario.schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, scenarios.Schema) {
		t.Fatal("scenarios/scenario.schema.json is stale: run go test ./engine/load -run TestSchemaUpToDate -update")
	}
}
