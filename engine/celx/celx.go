// Package celx compiles and evaluates the CEL expressions scenarios use in
// checks and waits. One environment per variable set; programs are cached by
// the caller (a compiled Program is safe for concurrent use).
package celx

import (
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
)

// Variables a scenario expression may use, by context.
var (
	// ObjectVars: assert/absent/wait/nodeFile expressions see `object` (and `objects` for lists).
	ObjectVars = []string{"object", "objects"}
	// EventVars: auditLog expressions see `event`.
	EventVars = []string{"event"}
)

// Env is a CEL environment with dynamic variables.
type Env struct {
	env  *cel.Env
	vars []string
}

// NewEnv declares each variable as dyn and enables the string and list
// extensions Kubernetes' own CEL (ValidatingAdmissionPolicy) offers, so
// instructors can reuse what they know.
func NewEnv(vars ...string) (*Env, error) {
	opts := []cel.EnvOption{
		ext.Strings(), ext.Lists(), ext.Sets(), ext.Encoders(), ext.Math(),
		cel.OptionalTypes(),
	}
	opts = append(opts, functions()...)
	for _, v := range vars {
		opts = append(opts, cel.Variable(v, cel.DynType))
	}
	e, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("create CEL environment: %w", err)
	}
	return &Env{env: e, vars: vars}, nil
}

// Compile checks expr and returns a program. The error is the CEL compiler's
// message, trimmed to one line per issue.
func (e *Env) Compile(expr string, want *cel.Type) (cel.Program, error) {
	ast, iss := e.env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("%s", oneLine(iss.Err().Error()))
	}
	if want != nil && !ast.OutputType().IsExactType(want) && !ast.OutputType().IsExactType(cel.DynType) {
		return nil, fmt.Errorf("expression must return %s, it returns %s", want, ast.OutputType())
	}
	prg, err := e.env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(10_000_000))
	if err != nil {
		return nil, fmt.Errorf("%s", oneLine(err.Error()))
	}
	return prg, nil
}

// EvalBool evaluates a boolean program. A non-boolean result or a runtime
// error (e.g. a missing key) is returned as an error, never as false, so a
// check can tell "the condition does not hold" from "it cannot be evaluated".
func EvalBool(prg cel.Program, vars map[string]any) (bool, error) {
	out, _, err := prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("expression returned %s, want bool", typeName(out))
	}
	return bool(b), nil
}

// EvalString evaluates a program and renders its value as a string.
func EvalString(prg cel.Program, vars map[string]any) (string, error) {
	out, _, err := prg.Eval(vars)
	if err != nil {
		return "", err
	}
	if s, ok := out.Value().(string); ok {
		return s, nil
	}
	return fmt.Sprint(out.Value()), nil
}

// IsNoSuchKey reports whether err is CEL's missing-key/field error, which
// checks usually treat as "condition does not hold" with an explanation.
func IsNoSuchKey(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "no such key") || strings.Contains(err.Error(), "no such attribute"))
}

func typeName(v ref.Val) string {
	if v == nil {
		return "null"
	}
	return v.Type().TypeName()
}

func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	// cel-go prints "ERROR: <input>:1:5: msg" followed by a caret diagram; keep the messages.
	var keep []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "ERROR:") {
			l = strings.TrimSpace(strings.TrimPrefix(l, "ERROR:"))
			l = strings.TrimPrefix(l, "<input>:")
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		return lines[0]
	}
	return strings.Join(keep, "; ")
}
