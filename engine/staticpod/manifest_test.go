package staticpod

import (
	"testing"

	"sigs.k8s.io/yaml"
)

func pod(t *testing.T, y string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMountForEquivalentForms: a file mount, its directory and a parent
// directory all serve the policy file from the same host path.
func TestMountForEquivalentForms(t *testing.T) {
	const policy = "/etc/kubernetes/audit/policy.yaml"
	for name, tt := range map[string]struct {
		y        string
		host     string
		readOnly bool
	}{
		"directory": {`
spec:
  containers: [{name: a, volumeMounts: [{name: audit, mountPath: /etc/kubernetes/audit, readOnly: true}]}]
  volumes: [{name: audit, hostPath: {path: /etc/kubernetes/audit, type: DirectoryOrCreate}}]`, policy, true},
		"the file itself": {`
spec:
  containers: [{name: a, volumeMounts: [{name: p, mountPath: /etc/kubernetes/audit/policy.yaml, readOnly: true}]}]
  volumes: [{name: p, hostPath: {path: /etc/kubernetes/audit/policy.yaml, type: File}}]`, policy, true},
		"a parent, the deepest mount wins": {`
spec:
  containers: [{name: a, volumeMounts: [{name: k8s, mountPath: /etc/kubernetes, readOnly: false}, {name: audit, mountPath: /etc/kubernetes/audit/, readOnly: true}]}]
  volumes: [{name: k8s, hostPath: {path: /etc/kubernetes}}, {name: audit, hostPath: {path: /etc/kubernetes/audit}}]`, policy, true},
		"writable parent": {`
spec:
  containers: [{name: a, volumeMounts: [{name: k8s, mountPath: /etc/kubernetes}]}]
  volumes: [{name: k8s, hostPath: {path: /etc/kubernetes}}]`, policy, false},
		"other host path": {`
spec:
  containers: [{name: a, volumeMounts: [{name: audit, mountPath: /etc/kubernetes/audit, readOnly: true}]}]
  volumes: [{name: audit, hostPath: {path: /srv/audit}}]`, "/srv/audit/policy.yaml", true},
		"subPath": {`
spec:
  containers: [{name: a, volumeMounts: [{name: etc, mountPath: /etc/kubernetes/audit, subPath: kubernetes/audit, readOnly: true}]}]
  volumes: [{name: etc, hostPath: {path: /etc}}]`, policy, true},
		"emptyDir": {`
spec:
  containers: [{name: a, volumeMounts: [{name: e, mountPath: /etc/kubernetes/audit}]}]
  volumes: [{name: e, emptyDir: {}}]`, "", false},
	} {
		m, err := MountFor(pod(t, tt.y), policy)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Found || m.HostPath != tt.host || m.ReadOnly != tt.readOnly {
			t.Errorf("%s: %+v, want host %q readOnly %v", name, m, tt.host, tt.readOnly)
		}
	}
	m, _ := MountFor(pod(t, `spec: {containers: [{name: a, volumeMounts: [{name: x, mountPath: /etc/kubernetes/auditx}]}]}`), policy)
	if m.Found {
		t.Errorf("a sibling prefix (/etc/kubernetes/auditx) must not cover the path: %+v", m)
	}
}

func TestFlag(t *testing.T) {
	p := pod(t, `spec: {containers: [{name: a, command: [kube-apiserver, --profiling=true], args: [--profiling=false]}]}`)
	if v, ok, err := PodFlag(p, "profiling"); err != nil || !ok || v != "false" {
		t.Fatalf("Flag = %q %v %v", v, ok, err)
	}
	if _, _, err := PodFlag(pod(t, `spec: {}`), "x"); err == nil {
		t.Fatal("no containers must be an error")
	}
}
