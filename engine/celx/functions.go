package celx

import (
	"fmt"
	"reflect"
	"regexp"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/ckslab/ckslab/engine/checks/imageref"
	"github.com/ckslab/ckslab/engine/staticpod"
)

// functions are ckslab's CEL helpers for judging outcomes rather than
// spellings (docs/SCENARIOS.md, "CEL helpers"):
//
//	imagePinned(img)    a sha256 digest or a version tag of at least major.minor
//	imageRegistry(img)  the registry host as a runtime resolves it (docker.io by default)
//	imageName(img)      registry/repository, no tag or digest (docker.io/library/nginx)
//	imageTag(img), imageDigest(img)
//	fullMatch(s, re)    re must match the WHOLE string (matches() is an unanchored search)
//	auditCreated(event) the audit event created its object: verb create, or a
//	                    server-side apply / update (verb patch or update) answered 201 Created
//	manifestFlag(pod, name)      optional string: the EFFECTIVE value of a flag of the
//	                             first container (last scalar wins, bare bool = "true", ...)
//	mountedHostPath(pod, path)   the node path a container path resolves to through the
//	                             deepest covering volumeMount ("" if none or not hostPath)
//	mountReadOnly(pod, path)     that deepest covering mount is readOnly
func functions() []cel.EnvOption {
	str := func(name string, f func(string) ref.Val, out *cel.Type) cel.EnvOption {
		return cel.Function(name, cel.Overload(name+"_string", []*cel.Type{cel.StringType}, out,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				s, ok := v.Value().(string)
				if !ok {
					return types.NewErr("%s: want a string, got %s", name, v.Type().TypeName())
				}
				return f(s)
			})))
	}
	return []cel.EnvOption{
		str("imagePinned", func(s string) ref.Val { return types.Bool(imageref.Pinned(s)) }, cel.BoolType),
		str("imageRegistry", func(s string) ref.Val { return types.String(imageref.Parse(s).Registry) }, cel.StringType),
		str("imageName", func(s string) ref.Val { return types.String(imageref.Parse(s).Name()) }, cel.StringType),
		str("imageTag", func(s string) ref.Val { return types.String(imageref.Parse(s).Tag) }, cel.StringType),
		str("imageDigest", func(s string) ref.Val { return types.String(imageref.Parse(s).Digest) }, cel.StringType),
		cel.Function("fullMatch", cel.Overload("fullMatch_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(a, b ref.Val) ref.Val {
				s, ok1 := a.Value().(string)
				re, ok2 := b.Value().(string)
				if !ok1 || !ok2 {
					return types.NewErr("fullMatch: want two strings")
				}
				r, err := regexp.Compile(`^(?:` + re + `)$`)
				if err != nil {
					return types.NewErr("fullMatch: %v", err)
				}
				return types.Bool(r.MatchString(s))
			}))),
		cel.Function("manifestFlag", cel.Overload("manifestFlag_dyn_string", []*cel.Type{cel.DynType, cel.StringType}, cel.OptionalType(cel.StringType),
			cel.BinaryBinding(func(a, b ref.Val) ref.Val {
				pod, err := nativeMap(a)
				name, ok := b.Value().(string)
				if err != nil || !ok {
					return types.NewErr("manifestFlag(pod, name): want a pod manifest and a flag name")
				}
				v, present, err := staticpod.PodFlag(pod, name)
				if err != nil {
					return types.NewErr("manifestFlag: %v", err)
				}
				if !present {
					return types.OptionalNone
				}
				return types.OptionalOf(types.String(v))
			}))),
		mountFn("mountedHostPath", cel.StringType, func(m staticpod.Mount) ref.Val { return types.String(m.HostPath) }),
		mountFn("mountReadOnly", cel.BoolType, func(m staticpod.Mount) ref.Val { return types.Bool(m.Found && m.ReadOnly) }),
		cel.Function("auditCreated", cel.Overload("auditCreated_dyn", []*cel.Type{cel.DynType}, cel.BoolType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				ev, err := nativeMap(v)
				if err != nil {
					return types.NewErr("auditCreated: %v", err)
				}
				return types.Bool(AuditCreated(ev))
			}))),
	}
}

func mountFn(name string, out *cel.Type, f func(staticpod.Mount) ref.Val) cel.EnvOption {
	return cel.Function(name, cel.Overload(name+"_dyn_string", []*cel.Type{cel.DynType, cel.StringType}, out,
		cel.BinaryBinding(func(a, b ref.Val) ref.Val {
			pod, err := nativeMap(a)
			p, ok := b.Value().(string)
			if err != nil || !ok {
				return types.NewErr("%s(pod, path): want a pod manifest and a container path", name)
			}
			m, err := staticpod.MountFor(pod, p)
			if err != nil {
				return types.NewErr("%s: %v", name, err)
			}
			return f(m)
		})))
}

func nativeMap(v ref.Val) (map[string]any, error) {
	if m, ok := v.Value().(map[string]any); ok {
		return m, nil
	}
	n, err := v.ConvertToNative(reflect.TypeOf(map[string]any{}))
	if err != nil {
		return nil, fmt.Errorf("want an audit event (a map), got %s", v.Type().TypeName())
	}
	return n.(map[string]any), nil
}

// AuditCreated reports whether an audit event records the creation of its
// object: verb create with a success code, or verb patch/update (kubectl
// apply --server-side, an upsert) answered 201 Created. An event without
// a response status (stage RequestReceived) created nothing yet.
func AuditCreated(ev map[string]any) bool {
	verb, _ := ev["verb"].(string)
	rs, _ := ev["responseStatus"].(map[string]any)
	code := 0
	switch c := rs["code"].(type) {
	case float64:
		code = int(c)
	case int:
		code = c
	case int64:
		code = int(c)
	}
	switch verb {
	case "create":
		return code >= 200 && code < 300
	case "patch", "update":
		return code == 201
	}
	return false
}
