package ops

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"label ns team-a a=b --overwrite", []string{"label", "ns", "team-a", "a=b", "--overwrite"}, false},
		{`annotate pod p note="two words"`, []string{"annotate", "pod", "p", "note=two words"}, false},
		{`-p '{"spec":{"x":1}}'`, []string{"-p", `{"spec":{"x":1}}`}, false},
		{`a\ b "c\"d"`, []string{"a b", `c"d`}, false},
		{`get pods; rm -rf /`, []string{"get", "pods;", "rm", "-rf", "/"}, false}, // no shell: ';' is just a character
		{`"unterminated`, nil, true},
		{`trailing\`, nil, true},
		{"", nil, false},
	}
	for _, tt := range tests {
		got, err := SplitArgs(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("%q: err %v", tt.in, err)
		}
		if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Fatalf("%q: got %q want %q", tt.in, got, tt.want)
		}
	}
}

func TestFlags(t *testing.T) {
	cmd := []string{"kube-apiserver", "--a=1", "--b", "2", "--c", "--a=3"}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"set replaces first and drops duplicates", SetFlag(cmd, "a", "9"), []string{"kube-apiserver", "--a=9", "--b", "2", "--c"}},
		{"set separate-value form", SetFlag(cmd, "--b", "5"), []string{"kube-apiserver", "--a=1", "--b=5", "--c", "--a=3"}},
		{"set appends", SetFlag(cmd, "d", "x"), []string{"kube-apiserver", "--a=1", "--b", "2", "--c", "--a=3", "--d=x"}},
		{"remove all forms", RemoveFlag(cmd, "a"), []string{"kube-apiserver", "--b", "2", "--c"}},
		{"remove with value", RemoveFlag(cmd, "b"), []string{"kube-apiserver", "--a=1", "--c", "--a=3"}},
		{"remove bare", RemoveFlag(cmd, "c"), []string{"kube-apiserver", "--a=1", "--b", "2", "--a=3"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %q want %q", tt.name, tt.got, tt.want)
		}
	}
	if v, ok := FlagValue(cmd, "b"); !ok || v != "2" {
		t.Fatalf("FlagValue b = %q %v", v, ok)
	}
	if _, ok := FlagValue(cmd, "z"); ok {
		t.Fatal("z should be absent")
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

func TestEditManifestData(t *testing.T) {
	out, err := EditManifestData([]byte(manifest), &v1alpha1.EditManifest{
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
	out2, err := EditManifestData(out, &v1alpha1.EditManifest{AddHostPathVolumes: []v1alpha1.HostPathVolume{{Name: "audit", Path: "/var/log/k8s"}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(out2), "name: audit") != 2 {
		t.Fatalf("volume duplicated:\n%s", out2)
	}
	if _, err := EditManifestData([]byte("kind: Pod\nspec: {}\n"), &v1alpha1.EditManifest{}); err == nil {
		t.Fatal("want error for a manifest without containers")
	}
}

func TestCheckHostExec(t *testing.T) {
	if err := CheckHostExec(nil, false, false); err != nil {
		t.Fatal(err)
	}
}
