package celx

import (
	"encoding/json"
	"testing"

	"github.com/google/cel-go/cel"
)

func evalBool(t *testing.T, expr string, vars map[string]any) bool {
	t.Helper()
	e, err := NewEnv(ObjectVars...)
	if err != nil {
		t.Fatal(err)
	}
	prg, err := e.Compile(expr, cel.BoolType)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	if vars == nil {
		vars = map[string]any{"object": map[string]any{}, "objects": []any{}}
	}
	b, err := EvalBool(prg, vars)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return b
}

// TestAnchoring documents regex semantics (issue 14 class 5): matches()
// is an unanchored RE2 search, so an allowed prefix "mid-string" slips
// through; imageRegistry and fullMatch judge the whole value.
func TestAnchoring(t *testing.T) {
	for expr, want := range map[string]bool{
		// The pitfall, kept as a test so the documentation stays true.
		`'evil.io/registry.k8s.io/pause:3.10'.matches('registry.k8s.io/')`: true,
		`'registry.k8s.io.evil.io/pause'.matches('^registry.k8s.io')`:      true,
		// What to write instead.
		`imageRegistry('evil.io/registry.k8s.io/pause:3.10') == 'registry.k8s.io'`: false,
		`imageRegistry('registry.k8s.io.evil.io/pause') == 'registry.k8s.io'`:      false,
		`imageRegistry('registry.k8s.io/pause:3.10') == 'registry.k8s.io'`:         true,
		`imageRegistry('nginx') == 'docker.io'`:                                    true,
		`'evil.io/registry.k8s.io/pause'.matches('^registry\\.k8s\\.io/')`:         false,
		`fullMatch('registry.k8s.io.evil.io', 'registry\\.k8s\\.io')`:              false,
		`fullMatch('registry.k8s.io', 'registry\\.k8s\\.io|docker\\.io')`:          true,
		`fullMatch('xdocker.io', 'registry\\.k8s\\.io|docker\\.io')`:               false, // the group binds the alternation
		`imageName('nginx:1.27') == 'docker.io/library/nginx'`:                     true,
		`imageTag('nginx:1.27') == '1.27' && imageDigest('nginx:1.27') == ''`:      true,
	} {
		if got := evalBool(t, expr, nil); got != want {
			t.Errorf("%s = %v, want %v", expr, got, want)
		}
	}
}

func TestImagePinned(t *testing.T) {
	for expr, want := range map[string]bool{
		`imagePinned('nginx:1.27.3')`: true,
		`imagePinned('nginx:1.27')`:   true,
		`imagePinned('nginx:stable')`: false,
		`imagePinned('nginx:1')`:      false,
		`imagePinned('nginx')`:        false,
		`imagePinned('nginx:latest')`: false,
		`imagePinned('nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef')`: true,
		`object.spec.containers.all(c, imagePinned(c.image))`:                                          false,
	} {
		vars := map[string]any{"object": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"image": "nginx:1.27"}, map[string]any{"image": "busybox"},
		}}}, "objects": []any{}}
		if got := evalBool(t, expr, vars); got != want {
			t.Errorf("%s = %v, want %v", expr, got, want)
		}
	}
}

func TestAuditCreated(t *testing.T) {
	e, err := NewEnv(EventVars...)
	if err != nil {
		t.Fatal(err)
	}
	prg, err := e.Compile(`auditCreated(event) && event.objectRef.resource == 'secrets'`, cel.BoolType)
	if err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]bool{
		`{"verb":"create","objectRef":{"resource":"secrets"},"responseStatus":{"code":201}}`:              true,
		`{"verb":"patch","objectRef":{"resource":"secrets"},"responseStatus":{"metadata":{},"code":201}}`: true,  // kubectl apply --server-side of a new object
		`{"verb":"patch","objectRef":{"resource":"secrets"},"responseStatus":{"metadata":{},"code":200}}`: false, // an existing object changed
		`{"verb":"create","objectRef":{"resource":"secrets"},"responseStatus":{"code":409}}`:              false, // AlreadyExists
		`{"verb":"create","objectRef":{"resource":"secrets"},"stage":"RequestReceived"}`:                  false,
		`{"verb":"create","objectRef":{"resource":"configmaps"},"responseStatus":{"code":201}}`:           false,
	} {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		got, err := EvalBool(prg, map[string]any{"event": ev})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: %v, want %v", line, got, want)
		}
	}
}

func TestManifestFunctions(t *testing.T) {
	pod := map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{
			"command":      []any{"kube-apiserver", "--profiling=false", "--profiling=true", "--anonymous-auth"},
			"volumeMounts": []any{map[string]any{"name": "audit", "mountPath": "/etc/kubernetes/audit", "readOnly": true}, map[string]any{"name": "log", "mountPath": "/var/log/kubernetes/audit/"}},
		}},
		"volumes": []any{
			map[string]any{"name": "audit", "hostPath": map[string]any{"path": "/etc/kubernetes/audit"}},
			map[string]any{"name": "log", "hostPath": map[string]any{"path": "/var/log/kubernetes/audit"}},
		},
	}}
	vars := map[string]any{"object": pod, "objects": []any{}}
	for expr, want := range map[string]bool{
		`manifestFlag(object, 'profiling') == optional.of('true')`:                                                true,
		`manifestFlag(object, 'anonymous-auth').orValue('') == 'true'`:                                            true,
		`!manifestFlag(object, 'audit-log-path').hasValue()`:                                                      true,
		`mountedHostPath(object, '/etc/kubernetes/audit/policy.yaml') == '/etc/kubernetes/audit/policy.yaml'`:     true,
		`mountReadOnly(object, '/etc/kubernetes/audit/policy.yaml')`:                                              true,
		`mountReadOnly(object, '/var/log/kubernetes/audit/audit.log')`:                                            false,
		`mountedHostPath(object, '/var/log/kubernetes/audit/audit.log') == '/var/log/kubernetes/audit/audit.log'`: true,
		`mountedHostPath(object, '/etc/kubernetes/pki/ca.crt') == ''`:                                             true,
	} {
		if got := evalBool(t, expr, vars); got != want {
			t.Errorf("%s = %v, want %v", expr, got, want)
		}
	}
}
