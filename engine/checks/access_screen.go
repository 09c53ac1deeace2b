package checks

import (
	"context"
	"fmt"
	"strings"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// clusterScopeNamespace is a namespace that does not exist: its rules
// review holds exactly what ClusterRoleBindings grant (cluster scope).
const clusterScopeNamespace = "ckslab-access-probe-cluster-scope"

// maxCandidates bounds the requests confirmed one by one after screening.
const maxCandidates = 300

// screen returns the requests to confirm by SubjectAccessReview: those of
// the forbidden space the subject's rules grant, plus any granted request
// outside the probed space and the allowed set (a rule on another
// resource). ok is false when the rules review cannot be trusted (an
// error, or an authorizer that cannot list rules): then nothing is
// screened.
func (c *access) screen(ctx context.Context, cfg *rest.Config, admin kubernetes.Interface, forbidden []accessReq) (candidates []accessReq, ok bool) {
	icfg := rest.CopyConfig(cfg)
	user := c.subject.user
	if user == "" {
		user = "ckslab:access-probe:member"
	}
	icfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: c.subject.groups}
	ic, err := kubernetes.NewForConfig(icfg)
	if err != nil {
		return nil, false
	}
	nss := map[string]bool{"": true}
	for _, q := range forbidden {
		nss[q.ns] = true
	}
	rules := map[string][]authzv1.ResourceRule{}
	for ns := range nss {
		rns := ns
		if ns == "" {
			rns = clusterScopeNamespace
		}
		r, err := ic.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, &authzv1.SelfSubjectRulesReview{Spec: authzv1.SelfSubjectRulesReviewSpec{Namespace: rns}}, metav1.CreateOptions{})
		if err != nil || r.Status.Incomplete {
			return nil, false
		}
		rules[ns] = r.Status.ResourceRules
	}
	seen := map[accessReq]bool{}
	add := func(q accessReq) {
		if !seen[q] && len(candidates) < maxCandidates {
			seen[q] = true
			candidates = append(candidates, q)
		}
	}
	for _, q := range forbidden {
		if rulesAllow(rules[q.ns], q) {
			add(q)
		}
	}
	defaults, err := defaultRules(ctx, admin, c.subject)
	if err != nil {
		return nil, false
	}
	served := servedVerbs(admin)
	clusterRule := map[string]bool{}
	for _, r := range rules[""] {
		clusterRule[fmt.Sprint(r)] = true
	}
	for ns, rs := range rules {
		for _, r := range rs {
			if ns != "" && clusterRule[fmt.Sprint(r)] {
				continue // granted cluster-wide: reported at cluster scope
			}
			names := r.ResourceNames
			if len(names) == 0 {
				names = []string{""}
			}
			for _, v := range r.Verbs {
				for _, g := range r.APIGroups {
					for _, res := range r.Resources {
						for _, n := range names {
							rr, sub, _ := strings.Cut(res, "/")
							q := accessReq{ns: ns, verb: v, res: accessResource{group: g, resource: rr, sub: sub}, name: n}
							if !c.covered(q) && !baseline(q) && !rulesAllow(defaults, q) && c.grantsSomething(q, served) {
								add(q)
							}
						}
					}
				}
			}
		}
	}
	return candidates, true
}

// servedVerbs maps group/resource[/subresource] to the verbs the API
// serves on it, from discovery; nil when discovery fails (then nothing is
// filtered).
func servedVerbs(admin kubernetes.Interface) map[string]map[string]bool {
	// A partial answer (an aggregated API down) still lists the rest.
	_, lists, _ := admin.Discovery().ServerGroupsAndResources()
	if len(lists) == 0 {
		return nil
	}
	out := map[string]map[string]bool{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			key := gv.Group + "/" + r.Name
			if out[key] == nil {
				out[key] = map[string]bool{}
			}
			for _, v := range r.Verbs {
				out[key][v] = true
			}
		}
	}
	return out
}

// grantsSomething reports whether a request a rule spells out can grant
// anything beyond the allowed set: RBAC rules may name group/resource
// pairs the API does not serve (apiGroups: ["", apps] x resources: [pods,
// deployments] contains pods.apps) and standard verbs a resource does not
// serve (list on pods/log); those grant nothing. Wildcards, special verbs
// (impersonate, escalate, bind, approve, use, ...) and resources the
// discovery does not list always count, unless a "*" verb covers no served
// verb beyond the allowed ones.
func (c *access) grantsSomething(q accessReq, served map[string]map[string]bool) bool {
	if served == nil || q.res.group == "*" || q.res.resource == "*" {
		return true
	}
	res := q.res.resource
	if q.res.sub != "" {
		res += "/" + q.res.sub
	}
	verbs, known := served[q.res.group+"/"+res]
	if !known {
		// Not served: a custom resource that does not exist yet is still a grant
		// once its CRD appears, so only the built-in groups are filtered.
		return !builtinGroup(q.res.group)
	}
	standard := map[string]bool{}
	for _, v := range standardVerbs() {
		standard[v] = true
	}
	switch {
	case q.verb == "*":
		for v := range verbs {
			qq := q
			qq.verb = v
			if !c.covered(qq) {
				return true
			}
		}
		return false
	case standard[q.verb]:
		return verbs[q.verb]
	}
	return true
}

// builtinGroup: groups whose resources discovery lists completely.
func builtinGroup(g string) bool {
	return g == "" || !strings.Contains(g, ".") || strings.HasSuffix(g, ".k8s.io")
}

// defaultRules are the rules the API server's own default bindings
// (label kubernetes.io/bootstrapping=rbac-defaults) give the subject's
// groups or user: every ServiceAccount may read ClusterTrustBundles, every
// authenticated user may review its own access. A rule outside the probed
// space counts only when it is not one of these.
func defaultRules(ctx context.Context, admin kubernetes.Interface, s sarSubject) ([]authzv1.ResourceRule, error) {
	crbs, err := admin.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/bootstrapping=rbac-defaults"})
	if err != nil {
		return nil, err
	}
	var out []authzv1.ResourceRule
	for _, b := range crbs.Items {
		applies := false
		for _, sub := range b.Subjects {
			if (sub.Kind == "Group" && containsStr(s.groups, sub.Name)) || (sub.Kind == "User" && sub.Name == s.user) {
				applies = true
			}
		}
		if !applies || b.RoleRef.Kind != "ClusterRole" {
			continue
		}
		cr, err := admin.RbacV1().ClusterRoles().Get(ctx, b.RoleRef.Name, metav1.GetOptions{})
		if err != nil {
			continue // a dangling default binding grants nothing
		}
		for _, r := range cr.Rules {
			out = append(out, authzv1.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
		}
	}
	return out, nil
}

// baseline is what every authenticated user may do (system:basic-user).
func baseline(q accessReq) bool {
	if q.verb != "create" || q.name != "" || q.res.sub != "" {
		return false
	}
	switch q.res.group + "/" + q.res.resource {
	case "authorization.k8s.io/selfsubjectaccessreviews", "authorization.k8s.io/selfsubjectrulesreviews", "authentication.k8s.io/selfsubjectreviews":
		return true
	}
	return false
}

// rulesAllow is RBAC's rule matching (k8s.io/kubernetes/pkg/apis/rbac/v1
// evaluation helpers): verb, API group, resource[/subresource] (or "*" or
// "*/subresource") and resourceNames.
func rulesAllow(rules []authzv1.ResourceRule, q accessReq) bool {
	has := func(l []string, s string) bool {
		for _, x := range l {
			if x == s {
				return true
			}
		}
		return false
	}
	res := q.res.resource
	if q.res.sub != "" {
		res += "/" + q.res.sub
	}
	for _, r := range rules {
		if !has(r.Verbs, "*") && !has(r.Verbs, q.verb) {
			continue
		}
		if !has(r.APIGroups, "*") && !has(r.APIGroups, q.res.group) {
			continue
		}
		resOK := false
		for _, rr := range r.Resources {
			if rr == "*" || rr == res || (q.res.sub != "" && rr == "*/"+q.res.sub) {
				resOK = true
			}
		}
		if !resOK {
			continue
		}
		if len(r.ResourceNames) > 0 && !has(r.ResourceNames, q.name) {
			continue
		}
		return true
	}
	return false
}
