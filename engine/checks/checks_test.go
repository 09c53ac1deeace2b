package checks_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/kube"
)

// fixture is applied once; every check type's table runs against it.
const fixture = `
apiVersion: v1
kind: Namespace
metadata:
  name: chk
  labels:
    pod-security.kubernetes.io/enforce: restricted
    team: a
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: chk, labels: {app: web}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: web
        image: nginxinc/nginx-unprivileged:1.27
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: root, namespace: chk, labels: {app: root}}
spec:
  selector: {matchLabels: {app: root}}
  template:
    metadata: {labels: {app: root}}
    spec:
      containers: [{name: c, image: busybox:1.36}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: chk}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read-pods, namespace: chk}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: chk}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-pods}
subjects: [{kind: ServiceAccount, name: reader, namespace: chk}]
`

type tcase struct {
	name  string
	check v1alpha1.Check
	want  checks.Status
	msg   string // substring of the message
	env   func(*checks.Env) *checks.Env
}

func setup(t *testing.T) *checks.Env {
	t.Helper()
	cl := lab.Need(t)
	ctx := context.Background()
	objs, err := kube.Decode([]byte(fixture))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if _, err := lab.Kube.Apply(ctx, o, ""); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := cl.Node("")
	files := map[string]string{
		"/opt/ckslab/answer.txt":      "Secret-A\n  pod   b \n",
		"/opt/ckslab/policy.rego":     "package k8s\n\nimport rego.v1\n\ndeny contains msg if {\n  input.privileged\n  msg := \"privileged is not allowed\"\n}\n",
		"/opt/ckslab/policy-v0.rego":  "package k8s\n\ndeny[msg] {\n  input.privileged\n  msg := \"no privileged\"\n}\n",
		"/opt/ckslab/broken.rego":     "package k8s\n\ndeny contains msg if {\n  input.privileged ==\n}\n",
		"/opt/ckslab/Dockerfile.good": "FROM golang:1.24 AS build\nRUN go build -o /app .\nFROM gcr.io/distroless/static:nonroot@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nCOPY --from=build /app /app\nUSER 65532\n",
		"/opt/ckslab/Dockerfile.bad":  "FROM ubuntu\nENV DB_PASSWORD=hunter2\nADD https://example.com/x.tgz /x\n",
		"/opt/ckslab/config.yaml":     "kind: Config\nenabled: true\n",
		"/var/log/ckslab-audit/a.log": `{"kind":"Event","verb":"get","requestURI":"/api/v1/namespaces/chk/secrets/s","user":{"username":"mallory"},"objectRef":{"resource":"secrets","namespace":"chk"},"level":"Metadata","requestReceivedTimestamp":"2026-01-01T00:00:00.000000Z"}` + "\n" +
			`{"kind":"Event","verb":"list","requestURI":"/api/v1/pods","user":{"username":"admin"},"objectRef":{"resource":"pods"},"level":"Metadata","requestReceivedTimestamp":"2026-06-01T00:00:00.000000Z"}` + "\n",
	}
	for p, c := range files {
		if err := n.WriteFile(ctx, p, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &checks.Env{Cluster: cl, Kube: lab.Kube, Trusted: true}
}

// downEnv points at an API server that is not there.
func downEnv(e *checks.Env) *checks.Env {
	k, err := kube.NewForConfig(&rest.Config{Host: "https://127.0.0.1:1", Timeout: 2 * time.Second, TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	if err != nil {
		panic(err)
	}
	c := *e
	c.Kube = k
	return &c
}

func run(t *testing.T, env *checks.Env, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.check.ID == "" {
				tc.check.ID = "c"
			}
			tc.check.Objective = tc.name
			s, err := checks.Compile([]v1alpha1.Check{tc.check})
			if err != nil {
				t.Fatal(err)
			}
			e := env
			if tc.env != nil {
				e = tc.env(env)
			}
			r := s.Run(context.Background(), e, nil)[0]
			if r.Status != tc.want {
				t.Fatalf("status %s, want %s: %s %v", r.Status, tc.want, r.Message, r.Evidence)
			}
			if !strings.Contains(r.Message, tc.msg) {
				t.Fatalf("message %q does not contain %q", r.Message, tc.msg)
			}
			if r.Message == "" {
				t.Fatal("empty message")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

var (
	nsRef  = v1alpha1.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "chk"}
	webRef = v1alpha1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "chk", Name: "web"}
)

func TestAssert(t *testing.T) {
	env := setup(t)
	run(t, env, []tcase{
		{name: "label holds", check: v1alpha1.Check{Assert: &v1alpha1.AssertCheck{Resource: nsRef, Expr: "object.metadata.labels['pod-security.kubernetes.io/enforce'] == 'restricted'"}}, want: checks.Pass},
		{name: "label differs shows found", check: v1alpha1.Check{Assert: &v1alpha1.AssertCheck{Resource: nsRef, Expr: "object.metadata.labels['team'] == 'b'"}}, want: checks.Fail, msg: "does not satisfy"},
		{name: "missing key is fail", check: v1alpha1.Check{Assert: &v1alpha1.AssertCheck{Resource: nsRef, Expr: "object.metadata.labels['nope'] == 'x'"}}, want: checks.Fail, msg: "not set"},
		{name: "custom message", check: v1alpha1.Check{Assert: &v1alpha1.AssertCheck{Resource: nsRef, Expr: "false", Message: "'team is ' + object.metadata.labels['team']"}}, want: checks.Fail, msg: "team is a"},
		{name: "not found", check: v1alpha1.Check{Assert: &v1alpha1.AssertCheck{Resource: v1alpha1.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "nope"}, Expr: "true"}}, want: checks.Fail, msg: "not found"},
		{name: "all over selector fails for root", check: v1alpha1.Check{Assert: &v1alpha1.AssertCheck{Resource: v1alpha1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "chk"}, Expr: "has(object.spec.template.spec.securityContext) && object.spec.template.spec.securityContext.runAsNonRoot == true"}}, want: checks.Fail, msg: "Deployment chk/root"},
		{name: "any over selector", check: v1alpha1.Check{Assert: &v1alpha1.AssertCheck{Mode: "any", Resource: v1alpha1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "chk"}, Expr: "object.metadata.name == 'web'"}}, want: checks.Pass},
		{name: "list mode", check: v1alpha1.Check{Assert: &v1alpha1.AssertCheck{Mode: "list", Resource: v1alpha1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "chk", Selector: "app in (web,root)"}, Expr: "size(objects) == 2"}}, want: checks.Pass},
		{name: "unknown kind errors", check: v1alpha1.Check{Assert: &v1alpha1.AssertCheck{Resource: v1alpha1.ObjectRef{APIVersion: "example.com/v1", Kind: "Widget", Name: "w"}, Expr: "true"}}, want: checks.Error, msg: "does not serve"},
		{name: "api down errors", check: v1alpha1.Check{Assert: &v1alpha1.AssertCheck{Resource: nsRef, Expr: "true"}}, want: checks.Error, msg: "API server unreachable", env: downEnv},
		{name: "bad CEL errors", check: v1alpha1.Check{Assert: &v1alpha1.AssertCheck{Resource: nsRef, Expr: "object.("}}, want: checks.Error, msg: "cannot be evaluated"},
	})
}

func TestAssertEvidenceShowsFoundValue(t *testing.T) {
	env := setup(t)
	s, _ := checks.Compile([]v1alpha1.Check{{ID: "x", Objective: "x", Assert: &v1alpha1.AssertCheck{Resource: nsRef, Expr: "object.metadata.labels['team'] == 'b'"}}})
	r := s.Run(context.Background(), env, nil)[0]
	if !strings.Contains(strings.Join(r.Evidence, "\n"), "found: object.metadata.labels[\"team\"] = a") {
		t.Fatalf("evidence %q lacks the found value", r.Evidence)
	}
}

func TestAbsent(t *testing.T) {
	env := setup(t)
	run(t, env, []tcase{
		{name: "no such namespace", check: v1alpha1.Check{Absent: &v1alpha1.AbsentCheck{Resource: v1alpha1.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "nope"}}}, want: checks.Pass},
		{name: "deployment exists", check: v1alpha1.Check{Absent: &v1alpha1.AbsentCheck{Resource: webRef}}, want: checks.Fail, msg: "found 1"},
		{name: "where filters", check: v1alpha1.Check{Absent: &v1alpha1.AbsentCheck{Resource: v1alpha1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "chk"}, Where: "!has(object.spec.template.spec.securityContext.runAsNonRoot)"}}, want: checks.Fail, msg: "chk/root"},
		{name: "api down", check: v1alpha1.Check{Absent: &v1alpha1.AbsentCheck{Resource: webRef}}, want: checks.Error, env: downEnv, msg: "unreachable"},
	})
}

func TestCanI(t *testing.T) {
	env := setup(t)
	run(t, env, []tcase{
		{name: "sa may list pods", check: v1alpha1.Check{CanI: &v1alpha1.CanICheck{ServiceAccount: "chk:reader", Verb: "list", Resource: "pods", Namespace: "chk", Expect: "allowed"}}, want: checks.Pass},
		{name: "sa may not read secrets", check: v1alpha1.Check{CanI: &v1alpha1.CanICheck{ServiceAccount: "chk:reader", Verb: "get", Resource: "secrets", Namespace: "chk", Expect: "denied"}}, want: checks.Pass},
		{name: "expected denied but allowed", check: v1alpha1.Check{CanI: &v1alpha1.CanICheck{ServiceAccount: "chk:reader", Verb: "get", Resource: "pods", Namespace: "chk", Expect: "denied"}}, want: checks.Fail, msg: "can still"},
		{name: "expected allowed but denied", check: v1alpha1.Check{CanI: &v1alpha1.CanICheck{User: "bob", Verb: "create", Resource: "deployments.apps", Namespace: "chk", Expect: "allowed"}}, want: checks.Fail, msg: "cannot"},
		{name: "api down", check: v1alpha1.Check{CanI: &v1alpha1.CanICheck{User: "bob", Verb: "get", Resource: "pods", Expect: "denied"}}, want: checks.Error, env: downEnv, msg: "unreachable"},
	})
}

const privPod = "apiVersion: v1\nkind: Pod\nmetadata: {name: ckslab-probe}\nspec: {containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}\n"

func TestAdmission(t *testing.T) {
	env := setup(t)
	run(t, env, []tcase{
		{name: "privileged denied", check: v1alpha1.Check{Admission: &v1alpha1.AdmissionCheck{Namespace: "chk", Manifest: privPod, Expect: "denied", MessageMatches: `violates PodSecurity "restricted`}}, want: checks.Pass},
		{name: "privileged expected allowed", check: v1alpha1.Check{Admission: &v1alpha1.AdmissionCheck{Namespace: "chk", Manifest: privPod, Expect: "allowed"}}, want: checks.Fail, msg: "rejected"},
		{name: "wrong reason", check: v1alpha1.Check{Admission: &v1alpha1.AdmissionCheck{Namespace: "chk", Manifest: privPod, Expect: "denied", MessageMatches: "baseline:latest"}}, want: checks.Fail, msg: "not for the expected reason"},
		{name: "allowed in default", check: v1alpha1.Check{Admission: &v1alpha1.AdmissionCheck{Namespace: "default", Manifest: privPod, Expect: "denied"}}, want: checks.Fail, msg: "admitted"},
		{name: "web template admitted", check: v1alpha1.Check{Admission: &v1alpha1.AdmissionCheck{PodTemplateOf: &webRef, Expect: "allowed"}}, want: checks.Pass},
		{name: "root template rejected", check: v1alpha1.Check{Admission: &v1alpha1.AdmissionCheck{PodTemplateOf: &v1alpha1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "chk", Name: "root"}, Expect: "allowed"}}, want: checks.Fail, msg: "rejected"},
		{name: "missing workload", check: v1alpha1.Check{Admission: &v1alpha1.AdmissionCheck{PodTemplateOf: &v1alpha1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "chk", Name: "nope"}, Expect: "allowed"}}, want: checks.Fail, msg: "not found"},
		{name: "api down", check: v1alpha1.Check{Admission: &v1alpha1.AdmissionCheck{Namespace: "chk", Manifest: privPod, Expect: "denied"}}, want: checks.Error, env: downEnv, msg: "unreachable"},
		// requireEnforce: admitted only counts where the level is enforced.
		{name: "template admitted under enforced restricted", check: v1alpha1.Check{Admission: &v1alpha1.AdmissionCheck{PodTemplateOf: &webRef, Expect: "allowed", RequireEnforce: "restricted"}}, want: checks.Pass},
		{name: "baseline is met by restricted", check: v1alpha1.Check{Admission: &v1alpha1.AdmissionCheck{PodTemplateOf: &webRef, Expect: "allowed", RequireEnforce: "baseline"}}, want: checks.Pass},
		{name: "admitted by a lax namespace proves nothing", check: v1alpha1.Check{Admission: &v1alpha1.AdmissionCheck{Namespace: "default", Manifest: privPod, Expect: "allowed", RequireEnforce: "restricted"}}, want: checks.Fail, msg: "namespace default enforces nothing (no pod-security.kubernetes.io/enforce label), not restricted"},
	})
	pods, err := lab.Kube.Typed.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if strings.HasPrefix(p.Name, "ckslab-probe") {
			t.Fatalf("probe pod %s/%s persisted", p.Namespace, p.Name)
		}
	}
}

func noNode(e *checks.Env) *checks.Env {
	c := *e
	cl := *e.Cluster
	cl.Nodes = nil
	c.Cluster = &cl
	return &c
}

func TestNodeFile(t *testing.T) {
	env := setup(t)
	run(t, env, []tcase{
		{name: "manifest exists", check: v1alpha1.Check{NodeFile: &v1alpha1.NodeFileCheck{Path: "/etc/kubernetes/manifests/kube-apiserver.yaml", Matches: "--authorization-mode=.*RBAC"}}, want: checks.Pass},
		{name: "yaml expr", check: v1alpha1.Check{NodeFile: &v1alpha1.NodeFileCheck{Path: "/opt/ckslab/config.yaml", Expr: "object.enabled == true", MaxMode: "0600"}}, want: checks.Pass},
		{name: "absent wanted", check: v1alpha1.Check{NodeFile: &v1alpha1.NodeFileCheck{Path: "/opt/ckslab/config.yaml", Exists: ptr(false)}}, want: checks.Fail, msg: "must be removed"},
		{name: "mode too wide", check: v1alpha1.Check{NodeFile: &v1alpha1.NodeFileCheck{Path: "/opt/ckslab/config.yaml", MaxMode: "0400"}}, want: checks.Fail, msg: "0600"},
		{name: "notMatches", check: v1alpha1.Check{NodeFile: &v1alpha1.NodeFileCheck{Path: "/opt/ckslab/config.yaml", NotMatches: "enabled: true"}}, want: checks.Fail, msg: "still contains"},
		{name: "missing file", check: v1alpha1.Check{NodeFile: &v1alpha1.NodeFileCheck{Path: "/opt/ckslab/nope"}}, want: checks.Fail, msg: "does not exist"},
		{name: "no node", check: v1alpha1.Check{NodeFile: &v1alpha1.NodeFileCheck{Path: "/x"}}, want: checks.Error, env: noNode, msg: "no control-plane node"},
	})
}

// stubComponents reports a fixed state for every component.
type stubComponents struct {
	st  cluster.ComponentState
	err error
}

func (s stubComponents) Component(context.Context, string) (cluster.ComponentState, error) {
	return s.st, s.err
}
func (s stubComponents) WaitHealthy(context.Context, string, time.Duration) error { return s.err }

func withComponents(c cluster.Components) func(*checks.Env) *checks.Env {
	return func(e *checks.Env) *checks.Env {
		n := *e
		cl := *e.Cluster
		cl.Components = c
		n.Cluster = &cl
		return &n
	}
}

func TestStaticPodFlag(t *testing.T) {
	env := setup(t)
	authz := func(sp v1alpha1.StaticPodFlagCheck) v1alpha1.Check {
		sp.Component, sp.Flag = "kube-apiserver", "authorization-mode"
		return v1alpha1.Check{StaticPodFlag: &sp}
	}
	run(t, env, []tcase{
		{name: "rbac in manifest and process", check: authz(v1alpha1.StaticPodFlagCheck{Contains: "RBAC"}), want: checks.Pass, msg: "runs with"},
		{name: "AlwaysAllow not present", check: authz(v1alpha1.StaticPodFlagCheck{NotContains: "AlwaysAllow"}), want: checks.Pass},
		{name: "value mismatch", check: authz(v1alpha1.StaticPodFlagCheck{Value: "RBAC"}), want: checks.Fail, msg: "expected --authorization-mode=RBAC"},
		{name: "absent flag wanted absent", check: v1alpha1.Check{StaticPodFlag: &v1alpha1.StaticPodFlagCheck{Component: "kube-apiserver", Flag: "anonymous-auth", Present: ptr(false)}}, want: checks.Pass},
		{name: "edited but not restarted", check: authz(v1alpha1.StaticPodFlagCheck{Contains: "RBAC"}), want: checks.Fail, msg: "has not restarted",
			env: withComponents(stubComponents{st: cluster.ComponentState{Running: true, Ready: true, Args: []string{"kube-apiserver", "--authorization-mode=AlwaysAllow"}}})},
		{name: "crashed component", check: authz(v1alpha1.StaticPodFlagCheck{Contains: "RBAC"}), want: checks.Fail, msg: "is not running: unknown flag",
			env: withComponents(stubComponents{st: cluster.ComponentState{Running: false, LastError: "unknown flag: --authorization-mod"}})},
		{name: "component state unreadable", check: authz(v1alpha1.StaticPodFlagCheck{Contains: "RBAC"}), want: checks.Error, msg: "inspect kube-apiserver",
			env: withComponents(stubComponents{err: errors.New("supervisor gone")})},
		{name: "no manifest", check: v1alpha1.Check{StaticPodFlag: &v1alpha1.StaticPodFlagCheck{Component: "kube-nope", Flag: "x"}}, want: checks.Error, msg: "read /etc/kubernetes/manifests/kube-nope.yaml"},
	})
}

// TestSettledFailureDoesNotPoll: with a timeout, a check polls while the
// cluster converges, but a manifest that itself says "wrong" answers at once.
func TestSettledFailureDoesNotPoll(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		check v1alpha1.Check
	}{
		{"static pod flag", v1alpha1.Check{ID: "x", Objective: "x", Timeout: "20s", StaticPodFlag: &v1alpha1.StaticPodFlagCheck{Component: "kube-apiserver", Flag: "authorization-mode", Value: "RBAC"}}},
		{"audit log without --audit-log-path", v1alpha1.Check{ID: "x", Objective: "x", Timeout: "20s", AuditLog: &v1alpha1.AuditLogCheck{Expr: "true"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			suite, err := checks.Compile([]v1alpha1.Check{tc.check})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res := suite.Run(ctx, env, nil)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("settled failure took %s: it polled until the timeout", d)
			}
			if res[0].Status != checks.Fail || strings.Contains(res[0].Message, "still so after waiting") {
				t.Errorf("result %s: %s", res[0].Status, res[0].Message)
			}
		})
	}
}

func TestAuditLog(t *testing.T) {
	env := setup(t)
	log := "/var/log/ckslab-audit/a.log"
	run(t, env, []tcase{
		{name: "secret read present", check: v1alpha1.Check{AuditLog: &v1alpha1.AuditLogCheck{Path: log, Expr: "event.objectRef.resource == 'secrets' && event.user.username == 'mallory'"}}, want: checks.Pass, msg: "1 of 2"},
		{name: "absent expected", check: v1alpha1.Check{AuditLog: &v1alpha1.AuditLogCheck{Path: log, Expect: "absent", Expr: "event.verb == 'list'"}}, want: checks.Fail, msg: "expected none"},
		{name: "not present", check: v1alpha1.Check{AuditLog: &v1alpha1.AuditLogCheck{Path: log, Expr: "event.verb == 'delete'"}}, want: checks.Fail, msg: "none of 2"},
		{name: "no audit flag", check: v1alpha1.Check{AuditLog: &v1alpha1.AuditLogCheck{Expr: "true"}}, want: checks.Fail, msg: "no --audit-log-path"},
		{name: "no node", check: v1alpha1.Check{AuditLog: &v1alpha1.AuditLogCheck{Path: log, Expr: "true"}}, want: checks.Error, env: noNode},
		// Events from before the lab attempt (a log outlives reset) do not count.
		{name: "old event ignored", check: v1alpha1.Check{AuditLog: &v1alpha1.AuditLogCheck{Path: log, Expr: "event.user.username == 'mallory'"}}, want: checks.Fail, msg: "none of 1", env: since("2026-03-01T00:00:00Z")},
		{name: "new event counts", check: v1alpha1.Check{AuditLog: &v1alpha1.AuditLogCheck{Path: log, Expr: "event.verb == 'list'"}}, want: checks.Pass, msg: "1 of 1", env: since("2026-03-01T00:00:00Z")},
		{name: "absent once old", check: v1alpha1.Check{AuditLog: &v1alpha1.AuditLogCheck{Path: log, Expect: "absent", Expr: "event.verb == 'list'"}}, want: checks.Pass, msg: "of 0", env: since("2026-07-01T00:00:00Z")},
	})
}

func since(ts string) func(*checks.Env) *checks.Env {
	return func(e *checks.Env) *checks.Env {
		n := *e
		n.Since, _ = time.Parse(time.RFC3339, ts)
		return &n
	}
}

type stubEtcd struct{ err error }

func (s stubEtcd) Get(context.Context, string) ([]byte, error) { return nil, s.err }

func TestEtcdValue(t *testing.T) {
	env := setup(t)
	withEtcd := func(r cluster.EtcdReader) func(*checks.Env) *checks.Env {
		return func(e *checks.Env) *checks.Env {
			n := *e
			cl := *e.Cluster
			cl.Etcd = r
			n.Cluster = &cl
			return &n
		}
	}
	run(t, env, []tcase{
		{name: "plain protobuf", check: v1alpha1.Check{EtcdValue: &v1alpha1.EtcdValueCheck{Key: "/registry/namespaces/chk", HasPrefix: "k8s\x00"}}, want: checks.Pass},
		{name: "not encrypted", check: v1alpha1.Check{EtcdValue: &v1alpha1.EtcdValueCheck{Key: "/registry/namespaces/chk", HasPrefix: "k8s:enc:aescbc:v1:"}}, want: checks.Fail, msg: "plain text"},
		{name: "missing key", check: v1alpha1.Check{EtcdValue: &v1alpha1.EtcdValueCheck{Key: "/registry/secrets/chk/nope", HasPrefix: "k8s"}}, want: checks.Fail, msg: "no key"},
		{name: "etcd down", check: v1alpha1.Check{EtcdValue: &v1alpha1.EtcdValueCheck{Key: "/x", HasPrefix: "k8s"}}, want: checks.Error, msg: "connection refused", env: withEtcd(stubEtcd{errors.New("connect to etcd at 127.0.0.1:1: connection refused")})},
		{name: "no etcd access", check: v1alpha1.Check{EtcdValue: &v1alpha1.EtcdValueCheck{Key: "/x"}}, want: checks.Skip, msg: "cannot read etcd", env: withEtcd(nil)},
	})
}

func TestRego(t *testing.T) {
	env := setup(t)
	cases := []v1alpha1.RegoCase{
		{Name: "privileged", Input: "privileged: true", ExpectDeny: true, MessageMatches: "privileged"},
		{Name: "plain", Input: "privileged: false"},
	}
	run(t, env, []tcase{
		{name: "v1 policy", check: v1alpha1.Check{Rego: &v1alpha1.RegoCheck{PolicyPath: "/opt/ckslab/policy.rego", Query: "data.k8s.deny", Cases: cases}}, want: checks.Pass, msg: "all 2 cases"},
		{name: "v0 policy", check: v1alpha1.Check{Rego: &v1alpha1.RegoCheck{PolicyPath: "/opt/ckslab/policy-v0.rego", Query: "data.k8s.deny", Cases: cases}}, want: checks.Pass},
		{name: "wrong decision", check: v1alpha1.Check{Rego: &v1alpha1.RegoCheck{PolicyPath: "/opt/ckslab/policy.rego", Query: "data.k8s.deny", Cases: []v1alpha1.RegoCase{{Name: "plain", Input: "privileged: false", ExpectDeny: true}}}}, want: checks.Fail, msg: "decides allow, expected deny"},
		{name: "does not compile", check: v1alpha1.Check{Rego: &v1alpha1.RegoCheck{PolicyPath: "/opt/ckslab/broken.rego", Query: "data.k8s.deny", Cases: cases}}, want: checks.Fail, msg: "does not compile"},
		{name: "missing policy", check: v1alpha1.Check{Rego: &v1alpha1.RegoCheck{PolicyPath: "/opt/ckslab/none.rego", Query: "data.k8s.deny", Cases: cases}}, want: checks.Fail, msg: "cannot read"},
		{name: "no node", check: v1alpha1.Check{Rego: &v1alpha1.RegoCheck{PolicyPath: "/x", Query: "data.k8s.deny", Cases: cases}}, want: checks.Error, env: noNode},
	})
}

func TestDockerfile(t *testing.T) {
	env := setup(t)
	all := []string{"multiStage", "nonRootUser", "pinnedBase", "noLatest", "noAddURL", "noSecretsInEnv", "finalBase:distroless"}
	run(t, env, []tcase{
		{name: "good", check: v1alpha1.Check{Dockerfile: &v1alpha1.DockerfileCheck{Path: "/opt/ckslab/Dockerfile.good", Rules: all}}, want: checks.Pass},
		{name: "bad", check: v1alpha1.Check{Dockerfile: &v1alpha1.DockerfileCheck{Path: "/opt/ckslab/Dockerfile.bad", Rules: all}}, want: checks.Fail, msg: "single stage"},
		{name: "secret env", check: v1alpha1.Check{Dockerfile: &v1alpha1.DockerfileCheck{Path: "/opt/ckslab/Dockerfile.bad", Rules: []string{"noSecretsInEnv"}}}, want: checks.Fail, msg: "DB_PASSWORD"},
		{name: "add url", check: v1alpha1.Check{Dockerfile: &v1alpha1.DockerfileCheck{Path: "/opt/ckslab/Dockerfile.bad", Rules: []string{"noAddURL"}}}, want: checks.Fail, msg: "ADD downloads"},
		{name: "root user", check: v1alpha1.Check{Dockerfile: &v1alpha1.DockerfileCheck{Path: "/opt/ckslab/Dockerfile.bad", Rules: []string{"nonRootUser"}}}, want: checks.Fail, msg: "runs as root"},
		{name: "unknown rule", check: v1alpha1.Check{Dockerfile: &v1alpha1.DockerfileCheck{Path: "/x", Rules: []string{"fast"}}}, want: checks.Error, msg: "unknown dockerfile rule"},
		{name: "no node", check: v1alpha1.Check{Dockerfile: &v1alpha1.DockerfileCheck{Path: "/x", Rules: all}}, want: checks.Error, env: noNode},
	})
}

func TestConnectivitySkipsWithoutNetpol(t *testing.T) {
	env := setup(t)
	run(t, env, []tcase{
		{name: "local has no netpol", check: v1alpha1.Check{Connectivity: &v1alpha1.ConnectivityCheck{From: v1alpha1.PodRef{Namespace: "chk", Selector: "app=web"}, To: "db.chk:5432", Expect: "blocked"}}, want: checks.Skip, msg: "needs workloads and netpol"},
	})
}

func TestCommand(t *testing.T) {
	env := setup(t)
	untrusted := func(e *checks.Env) *checks.Env { n := *e; n.Trusted = false; return &n }
	run(t, env, []tcase{
		{name: "exit 0 and output", check: v1alpha1.Check{Command: &v1alpha1.CommandCheck{Command: []string{"sh", "-c", "echo hello"}, Matches: "^hello"}}, want: checks.Pass},
		{name: "exit code", check: v1alpha1.Check{Command: &v1alpha1.CommandCheck{Command: []string{"sh", "-c", "exit 3"}, ExitCode: ptr(3)}}, want: checks.Pass},
		{name: "wrong exit", check: v1alpha1.Check{Command: &v1alpha1.CommandCheck{Command: []string{"sh", "-c", "exit 3"}}}, want: checks.Fail, msg: "exited 3, expected 0"},
		{name: "output mismatch", check: v1alpha1.Check{Command: &v1alpha1.CommandCheck{Command: []string{"echo", "bye"}, Matches: "hello"}}, want: checks.Fail, msg: "does not match"},
		{name: "untrusted refused on host", check: v1alpha1.Check{Command: &v1alpha1.CommandCheck{Command: []string{"true"}}}, want: checks.Skip, msg: "refused", env: untrusted},
		{name: "no node", check: v1alpha1.Check{Command: &v1alpha1.CommandCheck{Command: []string{"true"}}}, want: checks.Error, env: noNode},
	})
}

func TestAnswerFile(t *testing.T) {
	env := setup(t)
	p := "/opt/ckslab/answer.txt"
	run(t, env, []tcase{
		{name: "lines any order and case", check: v1alpha1.Check{AnswerFile: &v1alpha1.AnswerFileCheck{Path: p, Expect: []string{"pod b", "secret-a"}}}, want: checks.Pass},
		{name: "regex", check: v1alpha1.Check{AnswerFile: &v1alpha1.AnswerFileCheck{Path: p, Matches: `(?i)secret-a`}}, want: checks.Pass},
		{name: "missing line", check: v1alpha1.Check{AnswerFile: &v1alpha1.AnswerFileCheck{Path: p, Expect: []string{"secret-a", "pod b", "pod c"}}}, want: checks.Fail, msg: "1 expected line(s) missing"},
		{name: "extra line", check: v1alpha1.Check{AnswerFile: &v1alpha1.AnswerFileCheck{Path: p, Expect: []string{"secret-a"}}}, want: checks.Fail, msg: "unexpected"},
		{name: "no file", check: v1alpha1.Check{AnswerFile: &v1alpha1.AnswerFileCheck{Path: "/opt/ckslab/none", Expect: []string{"x"}}}, want: checks.Fail, msg: "no answer"},
		{name: "no node", check: v1alpha1.Check{AnswerFile: &v1alpha1.AnswerFileCheck{Path: p, Expect: []string{"x"}}}, want: checks.Error, env: noNode},
	})
}

func TestTimeoutPollsUntilPass(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	ns := &v1alpha1.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "chk", Name: "late"}
	_ = lab.Kube.Typed.CoreV1().ConfigMaps("chk").Delete(ctx, "late", metav1.DeleteOptions{})
	s, _ := checks.Compile([]v1alpha1.Check{{ID: "late", Objective: "late", Timeout: "10s", Assert: &v1alpha1.AssertCheck{Resource: *ns, Expr: "object.data.x == '1'"}}})
	go func() {
		time.Sleep(time.Second)
		objs, _ := kube.Decode([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late, namespace: chk}\ndata: {x: '1'}\n"))
		_, _ = lab.Kube.Apply(ctx, objs[0], "")
	}()
	r := s.Run(ctx, env, nil)[0]
	if r.Status != checks.Pass || r.Duration < time.Second {
		t.Fatalf("got %s after %s: %s", r.Status, r.Duration, r.Message)
	}
	s2, _ := checks.Compile([]v1alpha1.Check{{ID: "never", Objective: "never", Timeout: "1s", Assert: &v1alpha1.AssertCheck{Resource: *ns, Expr: "object.data.x == '2'"}}})
	r = s2.Run(ctx, env, nil)[0]
	if r.Status != checks.Fail || !strings.Contains(r.Message, "after waiting 1s") {
		t.Fatalf("got %s: %s", r.Status, r.Message)
	}
}

// TestAPIServerDownMidCheck stops kube-apiserver the way a learner's bad
// manifest edit would (the manifest disappears, the "kubelet" stops it)
// while checks poll: every API check must end in error, never pass, never panic.
func TestAPIServerDownMidCheck(t *testing.T) {
	env := setup(t)
	cl := env.Cluster
	ctx := context.Background()
	n, _ := cl.Node("")
	const mp = "/etc/kubernetes/manifests/kube-apiserver.yaml"
	orig, err := n.ReadFile(ctx, mp)
	if err != nil {
		t.Fatal(err)
	}
	mode, _ := n.Stat(ctx, mp)
	restore := func() {
		if err := n.WriteFile(ctx, mp, orig, mode.Perm()); err != nil {
			t.Fatal(err)
		}
		if err := cl.Components.WaitHealthy(ctx, "kube-apiserver", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	defer restore()
	specs := []v1alpha1.Check{
		{ID: "assert", Objective: "a", Timeout: "6s", Assert: &v1alpha1.AssertCheck{Resource: nsRef, Expr: "object.metadata.labels['team'] == 'never'"}},
		{ID: "admission", Objective: "b", Timeout: "6s", Admission: &v1alpha1.AdmissionCheck{Namespace: "chk", Manifest: privPod, Expect: "allowed"}},
		{ID: "cani", Objective: "c", Timeout: "6s", CanI: &v1alpha1.CanICheck{User: "bob", Verb: "get", Resource: "pods", Expect: "allowed"}},
		{ID: "absent", Objective: "d", Timeout: "6s", Absent: &v1alpha1.AbsentCheck{Resource: webRef}},
	}
	s, _ := checks.Compile(specs)
	done := make(chan []checks.Result)
	go func() { done <- s.Run(ctx, env, nil) }()
	time.Sleep(500 * time.Millisecond)
	if err := n.Remove(ctx, mp); err != nil {
		t.Fatal(err)
	}
	rs := <-done
	for _, r := range rs {
		if r.Status == checks.Pass {
			t.Errorf("%s passed with the API server down: %s", r.ID, r.Message)
		}
		if r.Status != checks.Error {
			t.Errorf("%s: status %s, want error: %s", r.ID, r.Status, r.Message)
		}
		if !strings.Contains(r.Message, "API server") {
			t.Errorf("%s: message %q does not name the API server", r.ID, r.Message)
		}
		t.Logf("%s: %s: %s", r.ID, r.Status, r.Message)
	}
	// And a fresh check while it is down errors immediately with one sentence.
	r := s.Checks()[0].Run(ctx, env)
	if r.Status != checks.Error || strings.Contains(r.Message, "\n") {
		t.Fatalf("got %s %q", r.Status, r.Message)
	}
}
