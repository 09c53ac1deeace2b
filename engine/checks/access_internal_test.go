package checks

import (
	"strings"
	"testing"

	authzv1 "k8s.io/api/authorization/v1"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

func accessOf(t *testing.T, a v1alpha1.AccessCheck) *access {
	t.Helper()
	im, err := newAccess(&a)
	if err != nil {
		t.Fatal(err)
	}
	return im.(*access)
}

func reqStrings(qs []accessReq) map[string]bool {
	m := map[string]bool{}
	for _, q := range qs {
		m[q.String()] = true
	}
	return m
}

// TestAccessProbeSpace: the forbidden space reaches what one or two
// canI probes never asked (issue 14 class 2), and leaves out exactly the
// allowed set.
func TestAccessProbeSpace(t *testing.T) {
	a := accessOf(t, v1alpha1.AccessCheck{
		ServiceAccount: "team-a:deployer",
		Allowed: []v1alpha1.AccessRule{
			{Verbs: []string{"get", "list", "watch"}, Resources: []string{"pods", "pods/log"}, Namespaces: []string{"team-a"}},
			{Verbs: []string{"get", "update"}, Resources: []string{"configmaps"}, Namespaces: []string{"team-a"}, Names: []string{"app-config"}},
		},
		ProbeNamespaces: []string{"team-b"},
	})
	allowed := reqStrings(a.allowedSet())
	for _, want := range []string{"get pods in namespace team-a", "watch pods/log in namespace team-a", "update configmaps app-config in namespace team-a"} {
		if !allowed[want] {
			t.Errorf("allowed set lacks %q: %v", want, allowed)
		}
	}
	if len(allowed) != 3*2+2 {
		t.Errorf("allowed set has %d requests, want 8", len(allowed))
	}
	forbidden := reqStrings(a.forbiddenSpace([]string{"default", "kube-system", "team-a", "team-b", "team-c", "zeta", "omega", "extra"}))
	for _, want := range []string{
		"create pods in namespace team-a", "delete pods in namespace team-a", "deletecollection pods in namespace team-a",
		"* pods in namespace team-a", "get pods in namespace team-b", "get pods cluster-wide", "list pods cluster-wide",
		"get secrets in namespace team-a", "watch secrets in namespace team-a", "list secrets cluster-wide",
		"create pods/exec in namespace team-a", "create serviceaccounts/token in namespace team-a",
		"get configmaps in namespace team-a", "get configmaps ckslab-probe-other-name in namespace team-a",
		"impersonate users cluster-wide", "impersonate serviceaccounts in namespace team-a", "escalate clusterroles.rbac.authorization.k8s.io cluster-wide",
		"bind roles.rbac.authorization.k8s.io in namespace team-a", "create rolebindings.rbac.authorization.k8s.io in namespace team-a",
		"approve signers.certificates.k8s.io cluster-wide", "update certificatesigningrequests.certificates.k8s.io/approval cluster-wide",
		"get nodes cluster-wide", "get pods in namespace kube-system", "get secrets in namespace default",
		"get secrets in namespace team-c", // an existing namespace no rule names
	} {
		if !forbidden[want] {
			t.Errorf("forbidden space lacks %q", want)
		}
	}
	for q := range allowed {
		if forbidden[q] {
			t.Errorf("allowed request %q is also probed as forbidden", q)
		}
	}
	for q := range forbidden {
		if strings.Contains(q, "namespace extra") {
			// team-c, zeta, omega fill maxOtherNamespaces; extra is beyond it.
			t.Errorf("probed a namespace beyond the cap: %q", q)
		}
	}
	if len(forbidden) > 2500 {
		t.Errorf("forbidden space has %d probes; keep it affordable", len(forbidden))
	}
	t.Logf("%d allowed, %d forbidden probes", len(allowed), len(forbidden))
}

// TestAccessWildcardVerbCoveredOnlyByAllVerbs: "*" is not a forbidden
// probe where the task allows every verb on a resource.
func TestAccessWildcardVerbCoveredOnlyByAllVerbs(t *testing.T) {
	full := accessOf(t, v1alpha1.AccessCheck{User: "jane", Allowed: []v1alpha1.AccessRule{{Verbs: standardVerbs(), Resources: []string{"deployments.apps"}, Namespaces: []string{"dev"}}}})
	if f := reqStrings(full.forbiddenSpace(nil)); f["* deployments.apps in namespace dev"] {
		t.Error("every verb allowed, yet * is probed as forbidden")
	}
	part := accessOf(t, v1alpha1.AccessCheck{User: "jane", Allowed: []v1alpha1.AccessRule{{Verbs: []string{"get"}, Resources: []string{"deployments.apps"}, Namespaces: []string{"dev"}}}})
	if f := reqStrings(part.forbiddenSpace(nil)); !f["* deployments.apps in namespace dev"] {
		t.Error("* must be probed where only get is allowed")
	}
}

func TestAccessOutsiders(t *testing.T) {
	a := accessOf(t, v1alpha1.AccessCheck{ServiceAccount: "team-a:deployer", Others: []v1alpha1.AccessSubject{{User: "bob"}}})
	var shown []string
	for _, o := range a.others {
		shown = append(shown, o.shown+"="+o.user+"/"+strings.Join(o.groups, ","))
	}
	got := strings.Join(shown, " ")
	for _, want := range []string{"user bob=bob/system:authenticated", "any authenticated user=ckslab:access-probe:outsider/system:authenticated",
		"any other ServiceAccount of namespace team-a=system:serviceaccount:team-a:ckslab-access-probe/system:serviceaccounts,system:serviceaccounts:team-a,system:authenticated"} {
		if !strings.Contains(got, want) {
			t.Errorf("others %q lack %q", got, want)
		}
	}
	if _, err := newAccess(&v1alpha1.AccessCheck{User: "x", Allowed: []v1alpha1.AccessRule{{Verbs: []string{"*"}, Resources: []string{"pods"}}}}); err == nil {
		t.Error("a * verb in allowed must be refused")
	}
}

// TestRulesAllow: RBAC's matching, as the screening uses it.
func TestRulesAllow(t *testing.T) {
	rule := func(verbs, groups, res, names []string) []authzv1.ResourceRule {
		return []authzv1.ResourceRule{{Verbs: verbs, APIGroups: groups, Resources: res, ResourceNames: names}}
	}
	q := func(verb, res, name string) accessReq {
		return accessReq{verb: verb, res: parseAccessResource(res), name: name}
	}
	l := func(s ...string) []string { return s }
	for _, tt := range []struct {
		rules []authzv1.ResourceRule
		q     accessReq
		want  bool
	}{
		{rule(l("get"), l(""), l("pods"), nil), q("get", "pods", ""), true},
		{rule(l("get"), l(""), l("pods"), nil), q("list", "pods", ""), false},
		{rule(l("*"), l(""), l("pods"), nil), q("delete", "pods", ""), true},
		{rule(l("*"), l(""), l("pods"), nil), q("*", "pods", ""), true},
		{rule(l("get", "list"), l(""), l("pods"), nil), q("*", "pods", ""), false},
		{rule(l("get"), l(""), l("pods"), nil), q("get", "pods/log", ""), false},
		{rule(l("get"), l(""), l("pods/log"), nil), q("get", "pods/log", ""), true},
		{rule(l("update"), l("apps"), l("*/scale"), nil), q("update", "deployments.apps/scale", ""), true},
		{rule(l("get"), l("*"), l("*"), nil), q("get", "secrets", ""), true},
		{rule(l("get"), l("apps"), l("deployments"), nil), q("get", "deployments.extensions", ""), false},
		{rule(l("get"), l(""), l("configmaps"), l("app-config")), q("get", "configmaps", ""), false},
		{rule(l("get"), l(""), l("configmaps"), l("app-config")), q("get", "configmaps", "app-config"), true},
		{rule(l("get"), l(""), l("configmaps"), l("app-config")), q("get", "configmaps", "other"), false},
	} {
		if got := rulesAllow(tt.rules, tt.q); got != tt.want {
			t.Errorf("%+v allows %s: %v, want %v", tt.rules, tt.q, got, tt.want)
		}
	}
}
