package checks_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/kube"
	"github.com/ckslab/ckslab/engine/staticpod"
)

func applyFixture(t *testing.T, env *checks.Env, y string) {
	t.Helper()
	objs, err := kube.Decode([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		// A pod in a namespace created a moment ago waits for the
		// controller to create its default ServiceAccount.
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := env.Kube.Apply(context.Background(), o, "")
			if err == nil {
				break
			}
			if !strings.Contains(err.Error(), "serviceaccount") || time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

const accessFixture = `
apiVersion: v1
kind: Namespace
metadata: {name: acc-a}
---
apiVersion: v1
kind: Namespace
metadata: {name: acc-g}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: acc-a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: viewer, namespace: acc-a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: wild, namespace: acc-a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: acc-a}
rules: [{apiGroups: [""], resources: [pods, pods/log], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: acc-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{kind: ServiceAccount, name: deployer, namespace: acc-a}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewer, namespace: acc-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: viewer, namespace: acc-a}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pods-any-verb, namespace: acc-a}
rules: [{apiGroups: [""], resources: [pods, pods/log], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: wild, namespace: acc-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pods-any-verb}
subjects: [{kind: ServiceAccount, name: wild, namespace: acc-a}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: lazy, namespace: acc-a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: lazy, namespace: acc-a}
rules: [{apiGroups: ["", apps], resources: [pods, deployments], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: lazy, namespace: acc-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: lazy}
subjects: [{kind: ServiceAccount, name: lazy, namespace: acc-a}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: logs, namespace: acc-a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: logs, namespace: acc-a}
rules: [{apiGroups: [""], resources: [pods, pods/log], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: logs, namespace: acc-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: logs}
subjects: [{kind: ServiceAccount, name: logs, namespace: acc-a}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: named, namespace: acc-a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: named, namespace: acc-a}
rules: [{apiGroups: [""], resources: [secrets], resourceNames: [db-creds], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: named, namespace: acc-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: named}
subjects: [{kind: ServiceAccount, name: named, namespace: acc-a}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: acc-g}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: acc-g}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all-sas, namespace: acc-g}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{kind: Group, name: "system:serviceaccounts:acc-g", apiGroup: rbac.authorization.k8s.io}]
`

// TestAccess: issue 14 class 2. The viewer (ClusterRole view) and wild
// (verbs "*") rows pass the canI probes a scenario used to ask (get pods
// allowed, get secrets denied) and fail access.
func TestAccess(t *testing.T) {
	env := setup(t)
	applyFixture(t, env, accessFixture)
	for _, exhaustive := range []bool{false, true} {
		t.Run(fmt.Sprintf("exhaustive=%v", exhaustive), func(t *testing.T) { testAccess(t, env, exhaustive) })
	}
}

func testAccess(t *testing.T, env *checks.Env, exhaustive bool) {
	t.Helper()
	podReader := []v1alpha1.AccessRule{{Verbs: []string{"get", "list", "watch"}, Resources: []string{"pods", "pods/log"}, Namespaces: []string{"acc-a"}}}
	acc := func(sa string, allowed []v1alpha1.AccessRule) v1alpha1.Check {
		return v1alpha1.Check{Access: &v1alpha1.AccessCheck{ServiceAccount: sa, Allowed: allowed, Exhaustive: exhaustive}}
	}
	canI := func(sa, verb, res, expect string) v1alpha1.Check {
		return v1alpha1.Check{CanI: &v1alpha1.CanICheck{ServiceAccount: sa, Verb: verb, Resource: res, Namespace: "acc-a", Expect: expect}}
	}
	cases := []tcase{
		{name: "exact role passes", check: acc("acc-a:deployer", podReader), want: checks.Pass, msg: "exactly the 6 allowed requests: none of"},
		{name: "view: the old probes pass", check: canI("acc-a:viewer", "get", "pods", "allowed"), want: checks.Pass},
		{name: "view: the old probes pass (secrets)", check: canI("acc-a:viewer", "get", "secrets", "denied"), want: checks.Pass},
		{name: "view: access fails", check: acc("acc-a:viewer", podReader), want: checks.Fail, msg: "has more access than allowed"},
		{name: "wildcard verb: the old probe passes", check: canI("acc-a:wild", "get", "pods", "allowed"), want: checks.Pass},
		{name: "wildcard verb: access fails", check: acc("acc-a:wild", podReader), want: checks.Fail, msg: "has more access than allowed"},
		{name: "missing verb fails", check: acc("acc-a:deployer", append(podReader, v1alpha1.AccessRule{Verbs: []string{"create"}, Resources: []string{"pods"}, Namespaces: []string{"acc-a"}})), want: checks.Fail, msg: "cannot create pods in namespace acc-a"},
		{name: "nothing allowed, nothing granted", check: acc("acc-a:default", nil), want: checks.Pass, msg: "has no access"},
		{name: "group binding reaches other ServiceAccounts", check: acc("acc-g:app", []v1alpha1.AccessRule{{Verbs: []string{"get"}, Resources: []string{"pods"}, Namespaces: []string{"acc-g"}}}), want: checks.Fail, msg: "not limited to ServiceAccount acc-g/app"},
		{name: "cross-product apiGroups x resources grants only what exists", check: acc("acc-a:lazy", []v1alpha1.AccessRule{{Verbs: []string{"get", "list", "watch"}, Resources: []string{"pods", "deployments.apps"}, Namespaces: []string{"acc-a"}}}), want: checks.Pass},
		{name: "list/watch on pods/log grant nothing", check: acc("acc-a:logs", []v1alpha1.AccessRule{{Verbs: []string{"get", "list", "watch"}, Resources: []string{"pods"}, Namespaces: []string{"acc-a"}}, {Verbs: []string{"get"}, Resources: []string{"pods/log"}, Namespaces: []string{"acc-a"}}}), want: checks.Pass},
		{name: "list of a named Secret reads it too", check: acc("acc-a:named", []v1alpha1.AccessRule{{Verbs: []string{"get"}, Resources: []string{"secrets"}, Namespaces: []string{"acc-a"}, Names: []string{"db-creds"}}}), want: checks.Fail, msg: "secrets db-creds in namespace acc-a"},
		{name: "api down", check: acc("acc-a:deployer", podReader), want: checks.Error, env: downEnv},
	}
	if exhaustive {
		// One review per request costs seconds: the decisive cases only.
		keep := map[string]bool{"exact role passes": true, "view: access fails": true, "wildcard verb: access fails": true, "list of a named Secret reads it too": true}
		var some []tcase
		for _, c := range cases {
			if keep[c.name] {
				some = append(some, c)
			}
		}
		cases = some
	}
	run(t, env, cases)
}

const netpolFixture = `
apiVersion: v1
kind: Namespace
metadata: {name: np-a, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: np-b, labels: {team: b}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: np-a, labels: {app: web}}
spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: np-a, labels: {app: other}}
spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: np-b, labels: {app: db}}
spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10, ports: [{name: pg, containerPort: 5432}]}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: np-c}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: np-c}
spec:
  replicas: 0
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-http-from-web, namespace: np-c}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}}], ports: [{port: http}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: np-b}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: np-b}
spec:
  podSelector: {matchExpressions: [{key: app, operator: In, values: [db]}]}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: np-a}}, podSelector: {matchLabels: {app: web}}}]
    ports: [{port: pg}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: np-a}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {team: b}}}]
    ports: [{port: 5432}]
  - to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}]
`

// TestNetpolEffect: the effect of all policies, judged on pods that exist
// only as objects (the local backend runs none).
func TestNetpolEffect(t *testing.T) {
	env := setup(t)
	applyFixture(t, env, netpolFixture)
	web := v1alpha1.NetpolPeer{Namespace: "np-a", Selector: "app=web"}
	other := v1alpha1.NetpolPeer{Namespace: "np-a", Selector: "app=other"}
	db := v1alpha1.NetpolPeer{Namespace: "np-b", Selector: "app=db"}
	np := func(probes ...v1alpha1.NetpolProbe) v1alpha1.Check {
		return v1alpha1.Check{NetpolEffect: &v1alpha1.NetpolEffectCheck{Probes: probes}}
	}
	run(t, env, []tcase{
		{name: "the intended effect", check: np(
			v1alpha1.NetpolProbe{From: web, To: db, Port: 5432, Expect: "allowed"},
			v1alpha1.NetpolProbe{From: other, To: db, Port: 5432, Expect: "denied"},
			v1alpha1.NetpolProbe{From: web, To: db, Port: 5433, Expect: "denied"},
			v1alpha1.NetpolProbe{From: web, To: v1alpha1.NetpolPeer{DNS: true}, Expect: "allowed"},
			v1alpha1.NetpolProbe{From: web, To: v1alpha1.NetpolPeer{DNS: true}, Protocol: "TCP", Expect: "denied"},
			v1alpha1.NetpolProbe{From: web, To: v1alpha1.NetpolPeer{IP: "169.254.169.254"}, Port: 80, Expect: "denied"},
			v1alpha1.NetpolProbe{From: other, To: v1alpha1.NetpolPeer{IP: "169.254.169.254"}, Port: 80, Expect: "allowed"},
			v1alpha1.NetpolProbe{From: db, To: web, Port: 80, Expect: "denied"},
		), want: checks.Pass, msg: "get the expected verdict"},
		{name: "a wrong expectation fails with the policies as evidence", check: np(v1alpha1.NetpolProbe{From: other, To: db, Port: 5432, Expect: "allowed"}),
			want: checks.Fail, msg: "np-a/other -> np-b/db on 5432/TCP is denied"},
		{name: "a workload without pods is judged on its pod template", check: np(
			v1alpha1.NetpolProbe{From: other, To: v1alpha1.NetpolPeer{Namespace: "np-c", Selector: "app=api"}, Port: 8080, Expect: "allowed"},
			v1alpha1.NetpolProbe{From: db, To: v1alpha1.NetpolPeer{Namespace: "np-c", Selector: "app=api"}, Port: 8080, Expect: "denied"},
			v1alpha1.NetpolProbe{From: other, To: v1alpha1.NetpolPeer{Namespace: "np-c"}, Port: 9090, Expect: "denied"},
		), want: checks.Pass},
		{name: "no pod selected is an error", check: np(v1alpha1.NetpolProbe{From: v1alpha1.NetpolPeer{Namespace: "np-a", Selector: "app=nope"}, To: db, Port: 5432, Expect: "denied"}),
			want: checks.Error, msg: "no pod and no workload's pod template matches"},
	})
}

// TestEndpointProbe asks the components themselves.
func TestEndpointProbe(t *testing.T) {
	env := setup(t)
	ep := func(e v1alpha1.EndpointProbeCheck) v1alpha1.Check { return v1alpha1.Check{EndpointProbe: &e} }
	run(t, env, []tcase{
		{name: "apiserver livez as admin", check: ep(v1alpha1.EndpointProbeCheck{Component: "kube-apiserver", Path: "/livez", ExpectStatus: []int{200}}), want: checks.Pass, msg: "with 200"},
		{name: "rejected status fails", check: ep(v1alpha1.EndpointProbeCheck{Component: "kube-apiserver", Path: "/livez", RejectStatus: []int{200}}), want: checks.Fail, msg: "still answers"},
		{name: "anonymous cannot list secrets", check: ep(v1alpha1.EndpointProbeCheck{Component: "kube-apiserver", Path: "/api/v1/secrets", Anonymous: true, ExpectStatus: []int{401, 403}}), want: checks.Pass},
		{name: "controller-manager healthz on its own port", check: ep(v1alpha1.EndpointProbeCheck{Component: "kube-controller-manager", Path: "/healthz", ExpectStatus: []int{200}}), want: checks.Pass},
		{name: "api down is an error, never a pass", check: ep(v1alpha1.EndpointProbeCheck{Component: "kube-apiserver", Path: "/debug/pprof/", RejectStatus: []int{200}}), want: checks.Error, env: downEnv},
	})
}

// TestAccessCost reports what one access check costs on the lab (the
// figure quoted in docs/SCENARIOS.md).
func TestAccessCost(t *testing.T) {
	env := setup(t)
	applyFixture(t, env, accessFixture)
	for _, exhaustive := range []bool{false, true} {
		s, err := checks.Compile([]v1alpha1.Check{{ID: "c", Objective: "cost", Access: &v1alpha1.AccessCheck{ServiceAccount: "acc-a:deployer", Exhaustive: exhaustive,
			Allowed: []v1alpha1.AccessRule{{Verbs: []string{"get", "list", "watch"}, Resources: []string{"pods", "pods/log"}, Namespaces: []string{"acc-a"}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		r := s.Run(context.Background(), env, nil)[0]
		if r.Status != checks.Pass {
			t.Fatalf("%s: %s", r.Status, r.Message)
		}
		t.Logf("access check (exhaustive=%v): %s in %s", exhaustive, r.Message, r.Duration)
	}
}

// TestEffectiveFlagOnTheLab: issue 14 class 1 end to end. A learner adds
// --profiling=false ABOVE a seeded --profiling=true: kube-apiserver keeps
// the last value, so profiling stays on and /debug/pprof/ answers; both
// staticPodFlag and endpointProbe fail. Appending it below (a correct fix)
// passes both. The first-occurrence reader passed the first case.
func TestEffectiveFlagOnTheLab(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	n, err := env.Cluster.Node("")
	if err != nil {
		t.Fatal(err)
	}
	const path = "/etc/kubernetes/manifests/kube-apiserver.yaml"
	orig, err := n.ReadFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	restore := func() {
		if err := n.WriteFile(ctx, path, orig, 0o600); err != nil {
			t.Error(err)
		}
		if err := env.Cluster.Components.WaitHealthy(ctx, "kube-apiserver", 2*time.Minute); err != nil {
			t.Error(err)
		}
	}
	defer restore()
	write := func(first, last string) {
		t.Helper()
		var pod map[string]any
		if err := yaml.Unmarshal(orig, &pod); err != nil {
			t.Fatal(err)
		}
		c := pod["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		cmd := staticpod.RemoveFlag(toStrings(c["command"]), "profiling")
		cmd = append(append([]string{cmd[0], "--profiling=" + first}, cmd[1:]...), "--profiling="+last)
		l := make([]any, len(cmd))
		for i, a := range cmd {
			l[i] = a
		}
		c["command"] = l
		out, err := yaml.Marshal(pod)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.WriteFile(ctx, path, out, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := env.Cluster.Components.WaitHealthy(ctx, "kube-apiserver", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	flag := v1alpha1.Check{StaticPodFlag: &v1alpha1.StaticPodFlagCheck{Component: "kube-apiserver", Flag: "profiling", Value: "false"}}
	pprof := v1alpha1.Check{EndpointProbe: &v1alpha1.EndpointProbeCheck{Component: "kube-apiserver", Path: "/debug/pprof/", ExpectStatus: []int{404}}}

	write("false", "true")
	run(t, env, []tcase{
		{name: "false above true: flag check fails", check: flag, want: checks.Fail, msg: "--profiling=true"},
		{name: "false above true: pprof still answers", check: pprof, want: checks.Fail, msg: "200"},
	})
	write("true", "false")
	run(t, env, []tcase{
		{name: "false below true: flag check passes", check: flag, want: checks.Pass},
		{name: "false below true: pprof is gone", check: pprof, want: checks.Pass, msg: "404"},
	})
}

func toStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}
