package load

import (
	"encoding/json"
	"fmt"
	gopath "path"
	"path/filepath"
	"reflect"
	"strings"

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
		comments, err := apiComments(commentsDir)
		if err != nil {
			return nil, err
		}
		r.CommentMap = comments
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

// apiComments reads the doc comments of the v1alpha1 sources in dir, keyed
// the way the Reflector looks them up: "<import path>.<Type>[.<Field>]".
//
// AddGoComments keys each comment by path.Join(base, <directory as walked>),
// which is the import path only when dir is given relative to the module
// root and the process runs there. The generator runs from engine/load, so
// the comments are extracted with an empty base (keys start with the
// cleaned dir) and re-keyed onto the package's real import path.
func apiComments(dir string) (map[string]string, error) {
	extract := &jsonschema.Reflector{}
	if err := extract.AddGoComments("", dir, jsonschema.WithFullComment()); err != nil {
		return nil, fmt.Errorf("reading doc comments in %s: %w", dir, err)
	}
	walked := gopath.Clean(filepath.ToSlash(filepath.Clean(dir))) + "."
	pkg := reflect.TypeOf(v1alpha1.Scenario{}).PkgPath()
	out := make(map[string]string, len(extract.CommentMap))
	for k, v := range extract.CommentMap {
		if rest, ok := strings.CutPrefix(k, walked); ok {
			out[pkg+"."+rest] = v
		}
	}
	if out[pkg+".Scenario"] == "" {
		return nil, fmt.Errorf("no doc comment for Scenario found in %s: is it the engine/api/v1alpha1 source directory?", dir)
	}
	return out, nil
}
