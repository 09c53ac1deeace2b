// Package pack installs, updates and removes scenario packs: directories of
// scenarios an instructor shares as a git repository, an archive or a local
// directory. Packs are untrusted input: every pack is fetched into a fresh
// temporary directory, checked against size limits (symlinks, devices and
// paths escaping the pack are refused), linted in full, summarised for the
// learner, and only then moved into place atomically and recorded in the
// lock file. Any refusal leaves installed packs exactly as they were.
package pack

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/load"
)

// ManifestFile is the file at the root of every pack.
const ManifestFile = "pack.yaml"

// KindPack is the kind of a pack manifest.
const KindPack = "Pack"

// maxManifestBytes bounds pack.yaml; it is a few lines of metadata.
const maxManifestBytes = 64 << 10

// Manifest is pack.yaml: who wrote the pack and what it is.
type Manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Name is a DNS label; it names the install directory and prefixes
	// scenario ids that collide with another source ("<name>/<id>").
	Name        string `json:"name"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
	// MinCkslabVersion refuses the pack on older ckslab releases, whose
	// scenario API may not understand its scenarios.
	MinCkslabVersion string   `json:"minCkslabVersion,omitempty"`
	Authors          []string `json:"authors,omitempty"`
}

var dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// ValidName reports whether name is a DNS label (RFC 1123), the only names
// a pack may use: they become directory names and id prefixes.
func ValidName(name string) error {
	if len(name) == 0 || len(name) > 63 || !dnsLabelRE.MatchString(name) {
		return fmt.Errorf("pack name %q must be a DNS label: 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit", name)
	}
	return nil
}

// manifestField describes one pack.yaml key for the strict walk.
type manifestField struct {
	list     bool // a list of strings, otherwise a string
	required bool
}

// ParseManifest decodes pack.yaml strictly. Every unknown or duplicate key,
// wrong shape and invalid value is reported at once with file:line:column.
func ParseManifest(file string, data []byte) (*Manifest, load.Problems) {
	fields := map[string]manifestField{
		"apiVersion":       {required: true},
		"kind":             {required: true},
		"name":             {required: true},
		"version":          {required: true},
		"description":      {},
		"minCkslabVersion": {},
		"authors":          {list: true},
	}
	at := func(n ast.Node, field, format string, args ...any) load.Problem {
		line, col := 1, 1
		if n != nil {
			if t := n.GetToken(); t != nil && t.Position != nil {
				line, col = t.Position.Line, t.Position.Column
			}
		}
		return load.Problem{File: file, Line: line, Column: col, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	if len(data) > maxManifestBytes {
		return nil, load.Problems{at(nil, "", "file is %d bytes; a pack manifest may be at most %d", len(data), maxManifestBytes)}
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, load.Problems{yamlProblem(file, err)}
	}
	var docs []ast.Node
	for _, d := range f.Docs {
		if d.Body != nil {
			docs = append(docs, d.Body)
		}
	}
	if len(docs) != 1 {
		return nil, load.Problems{at(nil, "", "expected exactly one YAML document holding a Pack, found %d", len(docs))}
	}
	body := unwrap(docs[0])
	var values []*ast.MappingValueNode
	switch m := body.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		return nil, load.Problems{at(body, "", "expected a mapping with apiVersion, kind, name and version")}
	}

	var ps load.Problems
	var m Manifest
	seen := map[string]ast.Node{}
	shapeBad := map[string]bool{}
	for _, mv := range values {
		key := mv.Key.String()
		spec, known := fields[key]
		if !known {
			ps = append(ps, at(mv.Key, key, "unknown field; known fields: apiVersion, kind, name, version, description, minCkslabVersion, authors"))
			continue
		}
		if _, dup := seen[key]; dup {
			ps = append(ps, at(mv.Key, key, "duplicate key %q", key))
			continue
		}
		seen[key] = mv.Key
		val := unwrap(mv.Value)
		if spec.list {
			seq, ok := val.(*ast.SequenceNode)
			if !ok {
				ps = append(ps, at(mv.Key, key, "must be a list of strings"))
				continue
			}
			for i, item := range seq.Values {
				s, ok := scalarString(unwrap(item))
				if !ok {
					ps = append(ps, at(item, fmt.Sprintf("%s[%d]", key, i), "must be a string"))
					continue
				}
				m.Authors = append(m.Authors, s)
			}
			continue
		}
		s, ok := scalarString(val)
		if !ok {
			ps = append(ps, at(mv.Key, key, "must be a string"))
			delete(seen, key) // its value is not checked further
			shapeBad[key] = true
			continue
		}
		switch key {
		case "apiVersion":
			m.APIVersion = s
		case "kind":
			m.Kind = s
		case "name":
			m.Name = s
		case "version":
			m.Version = s
		case "description":
			m.Description = s
		case "minCkslabVersion":
			m.MinCkslabVersion = s
		}
	}
	for _, k := range []string{"apiVersion", "kind", "name", "version"} {
		if _, ok := seen[k]; !ok && !shapeBad[k] {
			ps = append(ps, at(nil, k, "is required"))
		}
	}
	// Values are checked even when the shape had problems: the author
	// sees every problem in one pass.
	if _, ok := seen["apiVersion"]; ok && m.APIVersion != v1alpha1.APIVersion {
		ps = append(ps, at(seen["apiVersion"], "apiVersion", "must be %s", v1alpha1.APIVersion))
	}
	if _, ok := seen["kind"]; ok && m.Kind != KindPack {
		ps = append(ps, at(seen["kind"], "kind", "must be %s", KindPack))
	}
	if _, ok := seen["name"]; ok && ValidName(m.Name) != nil {
		err := ValidName(m.Name)
		ps = append(ps, at(seen["name"], "name", "%v", err))
	}
	if _, ok := seen["version"]; ok && strings.TrimSpace(m.Version) == "" {
		ps = append(ps, at(seen["version"], "version", "must not be empty (e.g. 1.0.0)"))
	}
	if m.MinCkslabVersion != "" {
		if _, ok := parseSemver(m.MinCkslabVersion); !ok {
			ps = append(ps, at(seen["minCkslabVersion"], "minCkslabVersion", "%q is not a version like v0.4.0", m.MinCkslabVersion))
		}
	}
	if len(ps) > 0 {
		ps.Sort()
		return nil, ps
	}
	return &m, nil
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		default:
			return n
		}
	}
}

// scalarString accepts strings and plain scalars (a version like 1.0 is
// written unquoted by most authors).
func scalarString(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode:
		return n.GetToken().Value, true
	}
	return "", false
}

var yamlPosRE = regexp.MustCompile(`^\[(\d+):(\d+)\]\s*(.*)`)

func yamlProblem(file string, err error) load.Problem {
	first := strings.SplitN(err.Error(), "\n", 2)[0]
	if m := yamlPosRE.FindStringSubmatch(first); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		return load.Problem{File: file, Line: line, Column: col, Message: "invalid YAML: " + m[3]}
	}
	return load.Problem{File: file, Line: 1, Column: 1, Message: "invalid YAML: " + first}
}

// parseSemver parses [v]MAJOR.MINOR.PATCH with an optional -pre or +build
// suffix (ignored: a pre-release satisfies its own release's minimum).
func parseSemver(s string) ([3]int, bool) {
	var out [3]int
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) < 1 || len(parts) > 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

// versionAtLeast reports whether have >= want. An unparsable have (a dev
// build) satisfies every minimum: developers build from source on purpose.
func versionAtLeast(have, want string) bool {
	h, ok := parseSemver(have)
	if !ok {
		return true
	}
	w, ok := parseSemver(want)
	if !ok {
		return false
	}
	for i := range h {
		if h[i] != w[i] {
			return h[i] > w[i]
		}
	}
	return true
}
