package load

import (
	"encoding/json"

	"github.com/invopop/jsonschema"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

// JSONSchema renders the scenario format as JSON Schema, generated from the
// Go types so the schema cannot drift from what the loader accepts.
// commentsDir, when non-empty, is the v1alpha1 source directory whose doc
// comments become descriptions (used by the generator test from the repo).
func JSONSchema(commentsDir string) ([]byte, error) {
	r := &jsonschema.Reflector{
		DoNotReference:             false,
		AllowAdditionalProperties:  false,
		RequiredFromJSONSchemaTags: false,
	}
	if commentsDir != "" {
		if err := r.AddGoComments("github.com/ckslab/ckslab/engine/api/v1alpha1", commentsDir); err != nil {
			return nil, err
		}
	}
	s := r.Reflect(&v1alpha1.Scenario{})
	s.ID = "https://ckslab.dev/schemas/scenario-v1alpha1.json"
	s.Title = "ckslab Scenario (ckslab.dev/v1alpha1)"
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
