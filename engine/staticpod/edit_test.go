package staticpod

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

func TestFlags(t *testing.T) {
	cmd := []string{"kube-apiserver", "--secure-port=1", "--audit-log-path", "/a", "--anonymous-auth", "--secure-port=3"}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"set replaces first and drops duplicates", SetFlag(cmd, "secure-port", "9"), []string{"kube-apiserver", "--secure-port=9", "--audit-log-path", "/a", "--anonymous-auth"}},
		{"set separate-value form", SetFlag(cmd, "--audit-log-path", "/b"), []string{"kube-apiserver", "--secure-port=1", "--audit-log-path=/b", "--anonymous-auth", "--secure-port=3"}},
		{"set appends", SetFlag(cmd, "profiling", "false"), []string{"kube-apiserver", "--secure-port=1", "--audit-log-path", "/a", "--anonymous-auth", "--secure-port=3", "--profiling=false"}},
		{"remove all forms", RemoveFlag(cmd, "secure-port"), []string{"kube-apiserver", "--audit-log-path", "/a", "--anonymous-auth"}},
		{"remove with value", RemoveFlag(cmd, "audit-log-path"), []string{"kube-apiserver", "--secure-port=1", "--anonymous-auth", "--secure-port=3"}},
		{"remove bare bool", RemoveFlag(cmd, "anonymous-auth"), []string{"kube-apiserver", "--secure-port=1", "--audit-log-path", "/a", "--secure-port=3"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %q want %q", tt.name, tt.got, tt.want)
		}
	}
	if v, ok := FlagValue(cmd, "audit-log-path"); !ok || v != "/a" {
		t.Fatalf("FlagValue audit-log-path = %q %v", v, ok)
	}
	if _, ok := FlagValue(cmd, "z"); ok {
		t.Fatal("z should be absent")
	}
}

// TestFlagValueIsEffective: issue 14 class 1. The first-occurrence reader
// this replaces answered "false", "/a" and "Node" here.
func TestFlagValueIsEffective(t *testing.T) {
	for _, tt := range []struct {
		cmd        []string
		flag, want string
	}{
		{[]string{"kube-apiserver", "--profiling=false", "--profiling=true"}, "profiling", "true"},
		{[]string{"kube-apiserver", "--audit-log-path=/a", "--audit-log-path=/b"}, "audit-log-path", "/b"},
		{[]string{"kube-apiserver", "--authorization-mode=Node", "--authorization-mode=RBAC"}, "authorization-mode", "Node,RBAC"},
		{[]string{"kube-apiserver", "--anonymous-auth=false", "--anonymous-auth"}, "anonymous-auth", "true"},
	} {
		if v, _ := FlagValue(tt.cmd, tt.flag); v != tt.want {
			t.Errorf("FlagValue(%q, %s) = %q, want %q", tt.cmd, tt.flag, v, tt.want)
		}
	}
}

const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - name: kube-apiserver
    image: registry.k8s.io/kube-apiserver:v1.37.2
    command:
    - kube-apiserver
    - --authorization-mode=Node,RBAC
    - --profiling=true
    volumeMounts:
    - {name: k8s-certs, mountPath: /etc/kubernetes/pki, readOnly: true}
  volumes:
  - name: k8s-certs
    hostPath: {path: /etc/kubernetes/pki, type: DirectoryOrCreate}
`

func TestEditManifest(t *testing.T) {
	out, err := EditManifest([]byte(manifest), &v1alpha1.EditManifest{
		Component:          "kube-apiserver",
		SetFlags:           map[string]string{"audit-log-path": "/var/log/k8s/audit.log", "authorization-mode": "Node,RBAC"},
		RemoveFlags:        []string{"profiling"},
		AddHostPathVolumes: []v1alpha1.HostPathVolume{{Name: "audit", Path: "/var/log/k8s", Type: "DirectoryOrCreate"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var pod struct {
		Spec struct {
			Containers []struct {
				Command      []string         `json:"command"`
				VolumeMounts []map[string]any `json:"volumeMounts"`
			} `json:"containers"`
			Volumes []map[string]any `json:"volumes"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(out, &pod); err != nil {
		t.Fatal(err)
	}
	c := pod.Spec.Containers[0]
	want := []string{"kube-apiserver", "--authorization-mode=Node,RBAC", "--audit-log-path=/var/log/k8s/audit.log"}
	if !reflect.DeepEqual(c.Command, want) {
		t.Fatalf("command %q want %q", c.Command, want)
	}
	if len(c.VolumeMounts) != 2 || len(pod.Spec.Volumes) != 2 {
		t.Fatalf("mounts %v volumes %v", c.VolumeMounts, pod.Spec.Volumes)
	}
	// Idempotent: a second edit does not duplicate volumes.
	out2, err := EditManifest(out, &v1alpha1.EditManifest{AddHostPathVolumes: []v1alpha1.HostPathVolume{{Name: "audit", Path: "/var/log/k8s"}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(out2), "name: audit") != 2 {
		t.Fatalf("volume duplicated:\n%s", out2)
	}
	if _, err := EditManifest([]byte("kind: Pod\nspec: {}\n"), &v1alpha1.EditManifest{}); err == nil {
		t.Fatal("want error for a manifest without containers")
	}
}

// TestEditManifestDataArgs: a flag also given in args (which come after
// the command, so they win) is edited there too.
func TestEditManifestDataArgs(t *testing.T) {
	in := []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver}\nspec:\n  containers:\n  - name: c\n    command: [kube-apiserver, --profiling=true]\n    args: [--profiling=true, --v=2, --anonymous-auth]\n")
	out, err := EditManifest(in, &v1alpha1.EditManifest{SetFlags: map[string]string{"profiling": "false"}, RemoveFlags: []string{"anonymous-auth"}})
	if err != nil {
		t.Fatal(err)
	}
	var pod struct {
		Spec struct {
			Containers []struct{ Command, Args []string } `json:"containers"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(out, &pod); err != nil {
		t.Fatal(err)
	}
	c := pod.Spec.Containers[0]
	full := append(append([]string(nil), c.Command...), c.Args...)
	if v, _ := FlagValue(full, "profiling"); v != "false" {
		t.Fatalf("effective profiling = %q in %q", v, full)
	}
	if _, ok := FlagValue(full, "anonymous-auth"); ok {
		t.Fatalf("anonymous-auth still set in %q", full)
	}
	if !reflect.DeepEqual(c.Args, []string{"--v=2"}) {
		t.Fatalf("args %q", c.Args)
	}
}
