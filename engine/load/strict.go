package load

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// position is a 1-based line and column.
type position struct{ line, col int }

// structure walks a YAML AST against a Go type and reports every unknown
// field, duplicate key and wrong shape at once (a decoder stops at the first).
// It also records where each field path is, so semantic errors found later
// can be located.
type structure struct {
	file     string
	problems Problems
	// keyPos is the position of the key of each path; valPos of its value.
	keyPos map[string]position
	valPos map[string]position
}

func newStructure(file string) *structure {
	return &structure{file: file, keyPos: map[string]position{}, valPos: map[string]position{}}
}

func (s *structure) add(pos position, path, format string, args ...any) {
	s.problems = append(s.problems, Problem{File: s.file, Line: pos.line, Column: pos.col, Field: path, Message: fmt.Sprintf(format, args...)})
}

func tokPos(t *token.Token) position {
	if t == nil || t.Position == nil {
		return position{}
	}
	return position{t.Position.Line, t.Position.Column}
}

func nodePos(n ast.Node) position {
	if n == nil {
		return position{}
	}
	return tokPos(n.GetToken())
}

// locate returns the best known position for a path: its value, its key, or
// the nearest recorded ancestor.
func (s *structure) locate(path string) position {
	for p := path; p != ""; p = parentPath(p) {
		if pos, ok := s.keyPos[p]; ok {
			return pos
		}
		if pos, ok := s.valPos[p]; ok {
			return pos
		}
	}
	return position{1, 1}
}

func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndex(p, "["); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndex(p, "."); i >= 0 {
		return p[:i]
	}
	return ""
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.CommentGroupNode:
			return nil
		default:
			return n
		}
	}
}

func kindOf(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "null"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.IntegerNode:
		return "an integer"
	case *ast.FloatNode:
		return "a number"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%T", n)
}

func mappingValues(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	return nil, false
}

func (s *structure) walk(n ast.Node, t reflect.Type, path string) {
	n = unwrap(n)
	if n == nil {
		return
	}
	s.valPos[path] = nodePos(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if _, isNull := n.(*ast.NullNode); isNull {
		return // null is the zero value; required-field checks happen in Validate
	}
	switch t.Kind() {
	case reflect.Struct:
		values, ok := mappingValues(n)
		if !ok {
			s.add(nodePos(n), path, "expected a mapping, got %s", kindOf(n))
			return
		}
		fields := jsonFields(t)
		seen := map[string]bool{}
		for _, mv := range values {
			key := mv.Key.String()
			kp := join(path, key)
			pos := nodePos(mv.Key)
			if seen[key] {
				s.add(pos, kp, "duplicate field %q", key)
				continue
			}
			seen[key] = true
			f, ok := fields[key]
			if !ok {
				s.add(pos, kp, "unknown field %q%s", key, suggest(key, fields))
				continue
			}
			s.keyPos[kp] = pos
			s.walk(mv.Value, f.Type, kp)
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			s.add(nodePos(n), path, "expected a list, got %s", kindOf(n))
			return
		}
		for i, v := range seq.Values {
			ip := fmt.Sprintf("%s[%d]", path, i)
			s.keyPos[ip] = itemPos(v)
			s.walk(v, t.Elem(), ip)
		}
	case reflect.Map:
		values, ok := mappingValues(n)
		if !ok {
			s.add(nodePos(n), path, "expected a mapping, got %s", kindOf(n))
			return
		}
		seen := map[string]bool{}
		for _, mv := range values {
			key := mv.Key.String()
			kp := join(path, key)
			if seen[key] {
				s.add(nodePos(mv.Key), kp, "duplicate key %q", key)
			}
			seen[key] = true
			s.keyPos[kp] = nodePos(mv.Key)
			s.walk(mv.Value, t.Elem(), kp)
		}
	case reflect.String:
		switch n.(type) {
		case *ast.StringNode, *ast.LiteralNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		default:
			s.add(nodePos(n), path, "expected a string, got %s", kindOf(n))
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		if _, ok := n.(*ast.IntegerNode); !ok {
			s.add(nodePos(n), path, "expected an integer, got %s %s", kindOf(n), quoteScalar(n))
		}
	case reflect.Bool:
		if _, ok := n.(*ast.BoolNode); !ok {
			s.add(nodePos(n), path, "expected true or false, got %s %s", kindOf(n), quoteScalar(n))
		}
	}
}

func quoteScalar(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		return ""
	}
	return strconv.Quote(n.String())
}

// jsonFields maps json names to struct fields, following embedded structs.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name := strings.Split(tag, ",")[0]
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

// suggest offers the closest known field for a typo.
func suggest(key string, fields map[string]reflect.StructField) string {
	best, bestD := "", 3
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if d := levenshtein(strings.ToLower(key), strings.ToLower(name)); d < bestD {
			best, bestD = name, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(names) > 12 {
		return ""
	}
	return fmt.Sprintf(" (expected one of: %s)", strings.Join(names, ", "))
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// itemPos locates a list item at its first key, where a reader looks for it.
func itemPos(n ast.Node) position {
	if values, ok := mappingValues(unwrap(n)); ok && len(values) > 0 {
		return nodePos(values[0].Key)
	}
	return nodePos(n)
}
