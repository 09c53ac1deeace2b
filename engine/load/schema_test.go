package load_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"sort"
	"strings"
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

// Editors show a field's description while completing it; a property or
// definition without one leaves the instructor guessing. Every one must
// carry the doc comment of its Go type or field.
func TestSchemaDescribesEverything(t *testing.T) {
	got, err := load.JSONSchema("../api/v1alpha1")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	defs, _ := doc["$defs"].(map[string]any)
	if len(defs) == 0 {
		t.Fatal("schema has no $defs")
	}
	var missing []string
	total := 0
	for name, def := range defs {
		total++
		if !described(def) {
			missing = append(missing, "$defs/"+name)
		}
		missing = append(missing, undescribedProperties("$defs/"+name, def, &total)...)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Errorf("%d of %d schema definitions and properties have no description (write a doc comment on the Go type or field in engine/api/v1alpha1, then make schema):\n%s",
			len(missing), total, strings.Join(missing, "\n"))
	}
}

func described(s any) bool {
	m, _ := s.(map[string]any)
	d, _ := m["description"].(string)
	return strings.TrimSpace(d) != ""
}

// undescribedProperties walks every nested "properties" map under s.
func undescribedProperties(at string, s any, total *int) []string {
	m, _ := s.(map[string]any)
	var out []string
	props, _ := m["properties"].(map[string]any)
	for name, p := range props {
		*total++
		if !described(p) {
			out = append(out, at+"/properties/"+name)
		}
		out = append(out, undescribedProperties(at+"/properties/"+name, p, total)...)
	}
	if items, ok := m["items"]; ok {
		out = append(out, undescribedProperties(at+"/items", items, total)...)
	}
	return out
}
