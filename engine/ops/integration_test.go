package ops_test

import (
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/ops"
	"github.com/ckslab/ckslab/engine/runner/labtest"
)

var lab *labtest.Lab

func TestMain(m *testing.M) { os.Exit(labtest.Main(m, "test-ops", &lab)) }

func env(t *testing.T) (*ops.Env, *ops.Tracker) {
	t.Helper()
	cl := lab.Need(t)
	tr := ops.NewTracker(ops.Tracked{}, nil)
	return &ops.Env{ScenarioID: "ops-test", Trusted: true, Cluster: cl, Kube: lab.Kube, Tracker: tr, Log: func(s string) { t.Log(s) }}, tr
}

const twoDocs = `
apiVersion: v1
kind: Namespace
metadata: {name: ops-a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm2, namespace: default}
`

func TestApplyTracksCreatedObjectsAndResetDeletesThem(t *testing.T) {
	e, tr := env(t)
	ctx := context.Background()
	// default namespace pre-exists: a ConfigMap there is created (tracked),
	// the namespace "default" itself would not be.
	err := ops.Run(ctx, e, []v1alpha1.Operation{
		{Apply: &v1alpha1.ApplyOp{Manifest: twoDocs, Namespace: "ops-a"}},
		{Apply: &v1alpha1.ApplyOp{Manifest: "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := tr.Snapshot().Objects
	if len(got) != 3 {
		t.Fatalf("tracked %+v", got)
	}
	cm, err := lab.Kube.Typed.CoreV1().ConfigMaps("ops-a").Get(ctx, "cm", metav1.GetOptions{})
	if err != nil || cm.Labels[ops.ScenarioLabel] != "ops-test" {
		t.Fatalf("cm in ops-a: %v %v", cm, err)
	}
	if m := cm.ManagedFields; len(m) == 0 || m[0].Manager != "ckslab" {
		t.Fatalf("field manager: %+v", m)
	}
	if err := ops.DeleteTracked(ctx, lab.Kube, "ops-test", got); err != nil {
		t.Fatal(err)
	}
	if _, err := lab.Kube.Typed.CoreV1().Namespaces().Get(ctx, "ops-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("ops-a still there: %v", err)
	}
	if _, err := lab.Kube.Typed.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("default namespace must survive: %v", err)
	}
}

func TestOperations(t *testing.T) {
	e, _ := env(t)
	ctx := context.Background()
	t.Setenv("KUBECONFIG", "/nonexistent/learner-config") // the op must use the lab kubeconfig only
	setup := []v1alpha1.Operation{
		{Apply: &v1alpha1.ApplyOp{Manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p, namespace: default, labels: {grp: x}}\ndata: {a: '1'}\n"}},
	}
	if err := ops.Run(ctx, e, setup); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		op      v1alpha1.Operation
		wantErr string
	}{
		{"kubectl label", v1alpha1.Operation{Kubectl: "label configmap p -n default team=a --overwrite"}, ""},
		{"kubectl quoted args", v1alpha1.Operation{Kubectl: `annotate configmap p -n default note="two words" --overwrite`}, ""},
		{"kubectl failure has stderr", v1alpha1.Operation{Kubectl: "get configmap nope -n default"}, `"nope" not found`},
		{"merge patch", v1alpha1.Operation{Patch: &v1alpha1.PatchOp{Resource: v1alpha1.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "p"}, Patch: "data: {b: '2'}"}}, ""},
		{"json patch", v1alpha1.Operation{Patch: &v1alpha1.PatchOp{Type: "json", Resource: v1alpha1.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "p"}, Patch: `[{"op":"add","path":"/data/c","value":"3"}]`}}, ""},
		{"wait holds", v1alpha1.Operation{Wait: &v1alpha1.WaitOp{Resource: v1alpha1.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "p"}, For: "object.data.c == '3' && object.metadata.annotations.note == 'two words'", Timeout: "5s"}}, ""},
		{"wait times out with last state", v1alpha1.Operation{Wait: &v1alpha1.WaitOp{Resource: v1alpha1.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "p"}, For: "object.data.c == '9'", Timeout: "500ms"}}, "waited 500ms for ConfigMap default/p until object.data.c == '9'; last state"},
		{"impersonate ignores 403", v1alpha1.Operation{Impersonate: &v1alpha1.ImpersonateOp{User: "mallory", Requests: []v1alpha1.ImpersonatedRequest{{Verb: "get", Resource: v1alpha1.ObjectRef{APIVersion: "v1", Kind: "Secret", Namespace: "default", Name: "s"}}, {Verb: "list", Resource: v1alpha1.ObjectRef{APIVersion: "v1", Kind: "Secret", Namespace: "kube-system"}}}}}, ""},
		{"delete by selector", v1alpha1.Operation{Delete: &v1alpha1.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Selector: "grp=x"}}, ""},
		{"delete missing is ok", v1alpha1.Operation{Delete: &v1alpha1.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "p"}}, ""},
		{"wait deleted", v1alpha1.Operation{Wait: &v1alpha1.WaitOp{Resource: v1alpha1.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "p"}, Deleted: true, Timeout: "5s"}}, ""},
		{"node write + remove", v1alpha1.Operation{Node: &v1alpha1.NodeOp{WriteFile: &v1alpha1.NodeWriteFile{Path: "/etc/ckslab-ops/x", Content: "x", Mode: "0600"}}}, ""},
		{"node exec", v1alpha1.Operation{Node: &v1alpha1.NodeOp{Exec: &v1alpha1.NodeExec{Command: []string{"sh", "-c", "exit 4"}}}}, "exit status 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ops.RunOne(ctx, e, tt.op)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestUntrustedNodeExecRefusedOnHost(t *testing.T) {
	e, _ := env(t)
	e.Trusted = false
	err := ops.RunOne(context.Background(), e, v1alpha1.Operation{Node: &v1alpha1.NodeOp{Exec: &v1alpha1.NodeExec{Command: []string{"true"}}}})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("got %v", err)
	}
	e.AllowHostExec = true
	if err := ops.RunOne(context.Background(), e, v1alpha1.Operation{Node: &v1alpha1.NodeOp{Exec: &v1alpha1.NodeExec{Command: []string{"true"}}}}); err != nil {
		t.Fatalf("allowed exec: %v", err)
	}
}

func TestNodeFileBackupAndRestore(t *testing.T) {
	e, tr := env(t)
	ctx := context.Background()
	n, _ := e.Cluster.Node("")
	if err := n.WriteFile(ctx, "/etc/ckslab-ops/orig", []byte("original"), 0o640); err != nil {
		t.Fatal(err)
	}
	err := ops.Run(ctx, e, []v1alpha1.Operation{
		{Node: &v1alpha1.NodeOp{WriteFile: &v1alpha1.NodeWriteFile{Path: "/etc/ckslab-ops/orig", Content: "changed"}}},
		{Node: &v1alpha1.NodeOp{WriteFile: &v1alpha1.NodeWriteFile{Path: "/etc/ckslab-ops/orig", Content: "changed twice"}}},
		{Node: &v1alpha1.NodeOp{WriteFile: &v1alpha1.NodeWriteFile{Path: "/etc/ckslab-ops/new", Content: "new"}}},
		{Node: &v1alpha1.NodeOp{Remove: "/etc/ckslab-ops/orig"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ops.RestoreFiles(ctx, e.Cluster, tr.Snapshot().Files); err != nil {
		t.Fatal(err)
	}
	b, err := n.ReadFile(ctx, "/etc/ckslab-ops/orig")
	mode, _ := n.Stat(ctx, "/etc/ckslab-ops/orig")
	if err != nil || string(b) != "original" || mode.Perm() != 0o640 {
		t.Fatalf("restored %q %v %v", b, mode, err)
	}
	if _, err := n.Stat(ctx, "/etc/ckslab-ops/new"); err == nil {
		t.Fatal("new file not removed")
	}
}

func TestForeignClusterRefusesNamespacesCkslabDidNotCreate(t *testing.T) {
	e, _ := env(t)
	ctx := context.Background()
	foreign := *e.Cluster
	foreign.Facts.Foreign = true
	e.Cluster = &foreign
	if _, err := lab.Kube.Typed.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ops-theirs"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lab.Kube.Typed.CoreV1().Namespaces().Delete(ctx, "ops-theirs", metav1.DeleteOptions{}) }()
	seed := "apiVersion: v1\nkind: Namespace\nmetadata: {name: ops-theirs}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: ops-theirs}\n"
	err := ops.Run(ctx, e, []v1alpha1.Operation{{Apply: &v1alpha1.ApplyOp{Manifest: seed}}})
	if err == nil || !strings.Contains(err.Error(), "ckslab did not create it") {
		t.Fatalf("seeded into the user's namespace: %v", err)
	}
	if _, err := lab.Kube.Typed.CoreV1().ConfigMaps("ops-theirs").Get(ctx, "cm", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the refused seed wrote into it: %v", err)
	}
	// Built-in namespaces and namespaces a lab created stay usable.
	if err := ops.Run(ctx, e, []v1alpha1.Operation{{Apply: &v1alpha1.ApplyOp{Manifest: "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n"}}}); err != nil {
		t.Fatalf("default refused: %v", err)
	}
	ours := "apiVersion: v1\nkind: Namespace\nmetadata: {name: ops-ours}\n"
	for i := 0; i < 2; i++ { // the second apply finds the namespace the first created
		if err := ops.Run(ctx, e, []v1alpha1.Operation{{Apply: &v1alpha1.ApplyOp{Manifest: ours}}}); err != nil {
			t.Fatalf("apply %d of a lab's own namespace: %v", i, err)
		}
	}
	_ = lab.Kube.Typed.CoreV1().Namespaces().Delete(ctx, "ops-ours", metav1.DeleteOptions{})
}
