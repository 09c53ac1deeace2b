// Package load parses scenario files strictly, lints them, and assembles the
// catalog from the built-in scenarios, extra directories and packs.
package load

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/google/cel-go/cel"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/celx"
	"github.com/ckslab/ckslab/engine/curriculum"
)

// MaxScenarioBytes bounds a scenario file; packs are untrusted input.
const MaxScenarioBytes = 1 << 20

// Scenario is a loaded, valid scenario with the directory its files live in.
type Scenario struct {
	*v1alpha1.Scenario
	// ID is what learners type: metadata.name, prefixed "<pack>/" when a
	// pack's id collides with another source's.
	ID string
	// File is the scenario file's path as shown in messages.
	File string
	// Dir holds the files the scenario references (manifests, solutions).
	Dir fs.FS
	// Source is "builtin", "dir:<path>" or "pack:<name>".
	Source string
	// Trusted is false for packs: their node commands never run on the host.
	Trusted bool
}

// ReadFile reads a file referenced by the scenario, relative to its directory.
func (s *Scenario) ReadFile(name string) ([]byte, error) {
	clean := path.Clean(name)
	if !fs.ValidPath(clean) {
		return nil, fmt.Errorf("%s: file %q must be a relative path inside the scenario directory", s.File, name)
	}
	b, err := fs.ReadFile(s.Dir, clean)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", s.File, name, err)
	}
	return b, nil
}

// Parse decodes and lints one scenario file. file is used in messages; dir
// resolves referenced files (nil skips that check). All problems are
// returned together; the scenario is nil when there are any.
func Parse(file string, data []byte, dir fs.FS) (*v1alpha1.Scenario, Problems) {
	return parse(file, data, dir, true)
}

// parse is Parse; compileExpr false skips compiling CEL, for a scenario the
// catalog index already linted with this very content (the checks compile
// their expressions when they run).
func parse(file string, data []byte, dir fs.FS, compileExpr bool) (*v1alpha1.Scenario, Problems) {
	if len(data) > MaxScenarioBytes {
		return nil, Problems{{File: file, Line: 1, Column: 1, Message: fmt.Sprintf("file is %d bytes; a scenario may be at most %d", len(data), MaxScenarioBytes)}}
	}
	astFile, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, Problems{syntaxProblem(file, err)}
	}
	if len(astFile.Docs) != 1 || astFile.Docs[0].Body == nil {
		return nil, Problems{{File: file, Line: 1, Column: 1, Message: fmt.Sprintf("expected exactly one YAML document holding a Scenario, found %d", countDocs(astFile))}}
	}
	st := newStructure(file)
	st.walk(astFile.Docs[0].Body, reflect.TypeOf(v1alpha1.Scenario{}), "")
	if len(st.problems) > 0 {
		st.problems.Sort()
		return nil, st.problems
	}
	var s v1alpha1.Scenario
	if err := yaml.NodeToValue(astFile.Docs[0].Body, &s); err != nil {
		return nil, Problems{syntaxProblem(file, err)}
	}
	var ps Problems
	for _, fe := range s.Validate() {
		pos := st.locate(fe.Path)
		ps = append(ps, Problem{File: file, Line: pos.line, Column: pos.col, Field: fe.Path, Message: fe.Message})
	}
	if fe := lintCompetency(&s); fe != nil {
		pos := st.locate(fe.Path)
		ps = append(ps, Problem{File: file, Line: pos.line, Column: pos.col, Field: fe.Path, Message: fe.Message})
	}
	if compileExpr {
		for _, fe := range lintExpressions(&s) {
			pos := st.locate(fe.Path)
			ps = append(ps, Problem{File: file, Line: pos.line, Column: pos.col, Field: fe.Path, Message: fe.Message})
		}
	}
	if dir != nil {
		for _, fe := range lintFiles(&s, dir) {
			pos := st.locate(fe.Path)
			ps = append(ps, Problem{File: file, Line: pos.line, Column: pos.col, Field: fe.Path, Message: fe.Message})
		}
	}
	if len(ps) > 0 {
		ps.Sort()
		return nil, ps
	}
	return &s, nil
}

func countDocs(f *ast.File) int {
	n := 0
	for _, d := range f.Docs {
		if d.Body != nil {
			n++
		}
	}
	return n
}

var posRE = regexp.MustCompile(`^\[(\d+):(\d+)\]\s*(.*)`)

func syntaxProblem(file string, err error) Problem {
	msg := err.Error()
	first := strings.SplitN(msg, "\n", 2)[0]
	if m := posRE.FindStringSubmatch(first); m != nil {
		// posRE matched digits, so these cannot fail.
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		return Problem{File: file, Line: line, Column: col, Message: "invalid YAML: " + m[3]}
	}
	var se interface{ GetToken() any }
	_ = errors.As(err, &se)
	return Problem{File: file, Line: 1, Column: 1, Message: "invalid YAML: " + first}
}

// lintCompetency checks spec.competency against the curriculum kept in
// engine/curriculum: an id of a competency of the scenario's own domain.
// An empty competency or an unknown domain is Validate's to report.
func lintCompetency(s *v1alpha1.Scenario) *v1alpha1.FieldError {
	c := strings.TrimSpace(s.Spec.Competency)
	if c == "" || curriculum.Weight(s.Spec.Domain) == 0 {
		return nil
	}
	if err := curriculum.Check(c, s.Spec.Domain); err != nil {
		return &v1alpha1.FieldError{Path: "spec.competency", Message: err.Error()}
	}
	return nil
}

// lintExpressions compiles every CEL expression so a typo is caught by lint,
// not by a learner pressing check.
func lintExpressions(s *v1alpha1.Scenario) []v1alpha1.FieldError {
	var out []v1alpha1.FieldError
	objEnv, err := celx.NewEnv(celx.ObjectVars...)
	if err != nil {
		return []v1alpha1.FieldError{{Path: "spec", Message: err.Error()}}
	}
	evEnv, err := celx.NewEnv(celx.EventVars...)
	if err != nil {
		return []v1alpha1.FieldError{{Path: "spec", Message: err.Error()}}
	}
	compile := func(env *celx.Env, p, expr string, want *cel.Type) {
		if expr == "" {
			return
		}
		if _, err := env.Compile(expr, want); err != nil {
			out = append(out, v1alpha1.FieldError{Path: p, Message: "CEL does not compile: " + err.Error()})
		}
	}
	for i, c := range s.Spec.Checks {
		p := fmt.Sprintf("spec.checks[%d]", i)
		switch {
		case c.Assert != nil:
			compile(objEnv, p+".assert.expr", c.Assert.Expr, cel.BoolType)
			compile(objEnv, p+".assert.message", c.Assert.Message, nil)
		case c.Absent != nil:
			compile(objEnv, p+".absent.where", c.Absent.Where, cel.BoolType)
		case c.NodeFile != nil:
			compile(objEnv, p+".nodeFile.expr", c.NodeFile.Expr, cel.BoolType)
		case c.AuditLog != nil:
			compile(evEnv, p+".auditLog.expr", c.AuditLog.Expr, cel.BoolType)
		}
	}
	for _, list := range []struct {
		name string
		ops  []v1alpha1.Operation
	}{{"spec.setup", s.Spec.Setup}, {"spec.solution", s.Spec.Solution}, {"spec.cleanup", s.Spec.Cleanup}} {
		for i, op := range list.ops {
			if op.Wait != nil {
				compile(objEnv, fmt.Sprintf("%s[%d].wait.for", list.name, i), op.Wait.For, cel.BoolType)
			}
		}
	}
	return out
}

// lintFiles checks that every referenced file exists inside the scenario dir
// and that inline and file manifests are YAML.
func lintFiles(s *v1alpha1.Scenario, dir fs.FS) []v1alpha1.FieldError {
	var out []v1alpha1.FieldError
	check := func(p, name string, manifest bool) {
		if name == "" {
			return
		}
		clean := path.Clean(name)
		if !fs.ValidPath(clean) {
			out = append(out, v1alpha1.FieldError{Path: p, Message: fmt.Sprintf("%q must be a relative path inside the scenario directory", name)})
			return
		}
		data, err := fs.ReadFile(dir, clean)
		if err != nil {
			out = append(out, v1alpha1.FieldError{Path: p, Message: fmt.Sprintf("file %q does not exist next to the scenario", name)})
			return
		}
		// Only applied files must be Kubernetes manifests; a node file may be
		// any YAML (audit policy, Falco rules...).
		if manifest && (strings.HasSuffix(clean, ".yaml") || strings.HasSuffix(clean, ".yml")) {
			if err := validManifest(data); err != nil {
				out = append(out, v1alpha1.FieldError{Path: p, Message: fmt.Sprintf("file %q: %v", name, err)})
			}
		}
	}
	for _, list := range []struct {
		name string
		ops  []v1alpha1.Operation
	}{{"spec.setup", s.Spec.Setup}, {"spec.solution", s.Spec.Solution}, {"spec.cleanup", s.Spec.Cleanup}} {
		for i, op := range list.ops {
			p := fmt.Sprintf("%s[%d]", list.name, i)
			if op.Apply != nil {
				check(p+".apply.file", op.Apply.File, true)
				if op.Apply.Manifest != "" {
					if err := validManifest([]byte(op.Apply.Manifest)); err != nil {
						out = append(out, v1alpha1.FieldError{Path: p + ".apply.manifest", Message: err.Error()})
					}
				}
			}
			if op.Node != nil && op.Node.WriteFile != nil {
				check(p+".node.writeFile.file", op.Node.WriteFile.File, false)
			}
		}
	}
	return out
}

// validManifest requires every document to be a mapping with apiVersion and kind.
func validManifest(data []byte) error {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return fmt.Errorf("invalid YAML: %s", strings.SplitN(err.Error(), "\n", 2)[0])
	}
	for i, d := range f.Docs {
		if d.Body == nil {
			continue
		}
		var m map[string]any
		if err := yaml.NodeToValue(d.Body, &m); err != nil {
			return fmt.Errorf("document %d is not a mapping", i+1)
		}
		if m == nil {
			continue
		}
		if m["apiVersion"] == nil || m["kind"] == nil {
			return fmt.Errorf("document %d needs apiVersion and kind", i+1)
		}
	}
	return nil
}

// LoadFile reads and parses <dir>/<name> from fsys.
func LoadFile(fsys fs.FS, name, display, source string, trusted bool) (*Scenario, Problems) {
	return loadFile(fsys, name, display, source, trusted, true)
}

func loadFile(fsys fs.FS, name, display, source string, trusted, compileExpr bool) (*Scenario, Problems) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, Problems{{File: display, Message: fmt.Sprintf("cannot read: %v", err)}}
	}
	if bytes.Contains(data, []byte{0}) {
		return nil, Problems{{File: display, Line: 1, Column: 1, Message: "binary file, expected YAML"}}
	}
	dir, err := fs.Sub(fsys, path.Dir(name))
	if err != nil {
		return nil, Problems{{File: display, Message: err.Error()}}
	}
	s, ps := parse(display, data, dir, compileExpr)
	if len(ps) > 0 {
		return nil, ps
	}
	return &Scenario{Scenario: s, ID: s.Metadata.Name, File: display, Dir: dir, Source: source, Trusted: trusted}, nil
}
