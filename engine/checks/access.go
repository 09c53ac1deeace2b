package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

// access proves least privilege with SubjectAccessReviews: the allowed set
// exactly, and a broad forbidden space (see v1alpha1.AccessCheck).
type access struct {
	spec    *v1alpha1.AccessCheck
	subject sarSubject
	others  []sarSubject
	rules   []accessRule
	extra   []accessResource
}

type sarSubject struct {
	user   string
	groups []string
	shown  string
}

type accessResource struct {
	group, resource, sub string
	namespaced           bool
}

func (r accessResource) String() string {
	s := r.resource
	if r.group != "" {
		s += "." + r.group
	}
	if r.sub != "" {
		s += "/" + r.sub
	}
	return s
}

type accessRule struct {
	verbs      map[string]bool
	resources  map[string]bool // accessResource.String()
	namespaces map[string]bool // empty: cluster scope, every namespace
	names      map[string]bool // empty: any name
	spec       v1alpha1.AccessRule
}

// accessReq is one SubjectAccessReview.
type accessReq struct {
	ns, verb string
	res      accessResource
	name     string
}

func (q accessReq) String() string {
	s := q.verb + " " + q.res.String()
	if q.name != "" {
		s += " " + q.name
	}
	if q.ns == "" {
		return s + " cluster-wide"
	}
	return s + " in namespace " + q.ns
}

// standardVerbs are probed on every resource; a "*" probe catches a
// wildcard verb (it matches only a rule that says "*").
func standardVerbs() []string {
	return []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
}

// probedResources is the forbidden space probed besides the allowed set,
// each with the verbs that mean something on it (every standard verb and
// "*" on a resource; the verbs its API serves on a subresource).
func probedResources() []accessProbe {
	all := append(standardVerbs(), "*")
	ns := func(s string, verbs ...string) accessProbe {
		r := parseAccessResource(s)
		r.namespaced = true
		if len(verbs) == 0 {
			verbs = all
		}
		return accessProbe{r, verbs}
	}
	cl := func(s string, verbs ...string) accessProbe {
		p := ns(s, verbs...)
		p.res.namespaced = false
		return p
	}
	return []accessProbe{
		ns("pods"), ns("pods/exec", "create", "get"), ns("pods/attach", "create", "get"), ns("pods/portforward", "create", "get"),
		ns("pods/log", "get"), ns("pods/ephemeralcontainers", "update", "patch"), ns("pods/status", "update", "patch"),
		ns("secrets"), ns("configmaps"), ns("serviceaccounts"), ns("serviceaccounts/token", "create"), ns("services"), ns("services/proxy", "get", "create"),
		ns("endpoints"), ns("events"), ns("persistentvolumeclaims"), ns("resourcequotas"), ns("limitranges"),
		ns("deployments.apps"), ns("deployments.apps/scale", "update", "patch"), ns("replicasets.apps"), ns("daemonsets.apps"), ns("statefulsets.apps"),
		ns("jobs.batch"), ns("cronjobs.batch"),
		ns("roles.rbac.authorization.k8s.io"), ns("rolebindings.rbac.authorization.k8s.io"),
		ns("networkpolicies.networking.k8s.io"), ns("ingresses.networking.k8s.io"), ns("leases.coordination.k8s.io"),
		cl("namespaces"), cl("nodes"), cl("nodes/proxy", "get", "create"), cl("persistentvolumes"),
		cl("clusterroles.rbac.authorization.k8s.io"), cl("clusterrolebindings.rbac.authorization.k8s.io"),
		cl("certificatesigningrequests.certificates.k8s.io"), cl("certificatesigningrequests.certificates.k8s.io/approval", "update", "patch"),
		cl("certificatesigningrequests.certificates.k8s.io/status", "update", "patch"),
		cl("validatingwebhookconfigurations.admissionregistration.k8s.io"), cl("mutatingwebhookconfigurations.admissionregistration.k8s.io"),
		cl("validatingadmissionpolicies.admissionregistration.k8s.io"), cl("validatingadmissionpolicybindings.admissionregistration.k8s.io"),
		cl("customresourcedefinitions.apiextensions.k8s.io"), cl("runtimeclasses.node.k8s.io"), cl("storageclasses.storage.k8s.io"),
		cl("tokenreviews.authentication.k8s.io", "create"), cl("subjectaccessreviews.authorization.k8s.io", "create"),
	}
}

type accessProbe struct {
	res   accessResource
	verbs []string
}

// specialProbes are the verbs that matter on one resource only.
func specialProbes() []accessReq {
	r := parseAccessResource
	sa := r("serviceaccounts")
	sa.namespaced = true
	return []accessReq{
		{verb: "impersonate", res: r("users")}, {verb: "impersonate", res: r("groups")},
		{verb: "impersonate", res: r("uids.authentication.k8s.io")}, {verb: "impersonate", res: r("userextras.authentication.k8s.io/scopes")},
		{verb: "impersonate", res: sa},
		{verb: "escalate", res: r("clusterroles.rbac.authorization.k8s.io")}, {verb: "bind", res: r("clusterroles.rbac.authorization.k8s.io")},
		{verb: "escalate", res: accessResource{group: "rbac.authorization.k8s.io", resource: "roles", namespaced: true}},
		{verb: "bind", res: accessResource{group: "rbac.authorization.k8s.io", resource: "roles", namespaced: true}},
		{verb: "approve", res: r("signers.certificates.k8s.io")}, {verb: "sign", res: r("signers.certificates.k8s.io")},
		{verb: "attest", res: r("signers.certificates.k8s.io")},
	}
}

func parseAccessResource(s string) accessResource {
	res, sub, _ := strings.Cut(s, "/")
	resource, group, _ := strings.Cut(res, ".")
	return accessResource{group: group, resource: resource, sub: sub}
}

func newSARSubject(user string, groups []string, sa string) (sarSubject, error) {
	s := sarSubject{user: user, groups: groups}
	if sa != "" {
		ns, name, ok := strings.Cut(sa, ":")
		if !ok || ns == "" || name == "" {
			return s, fmt.Errorf("serviceAccount %q must be namespace:name", sa)
		}
		s.user = "system:serviceaccount:" + ns + ":" + name
		s.groups = append([]string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}, groups...)
		s.shown = "ServiceAccount " + ns + "/" + name
		return s, nil
	}
	if user == "" && len(groups) == 0 {
		return s, fmt.Errorf("needs a user, groups or serviceAccount")
	}
	if user != "" {
		s.shown = "user " + user
		if !containsStr(groups, "system:authenticated") {
			s.groups = append(append([]string(nil), groups...), "system:authenticated")
		}
	} else {
		s.shown = "groups " + strings.Join(groups, ",")
		if !containsStr(groups, "system:authenticated") {
			s.groups = append(append([]string(nil), groups...), "system:authenticated")
		}
	}
	return s, nil
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func newAccess(a *v1alpha1.AccessCheck) (impl, error) {
	subj, err := newSARSubject(a.User, a.Groups, a.ServiceAccount)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	c := &access{spec: a, subject: subj}
	for i, o := range a.Others {
		s, err := newSARSubject(o.User, o.Groups, o.ServiceAccount)
		if err != nil {
			return nil, fmt.Errorf("access others[%d]: %w", i, err)
		}
		c.others = append(c.others, s)
	}
	// Someone else who must not share the access: an unrelated
	// authenticated user (catches a binding to system:authenticated) and,
	// for a ServiceAccount, another ServiceAccount of its namespace
	// (catches a binding to system:serviceaccounts[:ns]).
	outsider, _ := newSARSubject("ckslab:access-probe:outsider", nil, "")
	outsider.shown = "any authenticated user"
	c.others = append(c.others, outsider)
	if a.ServiceAccount != "" {
		ns, _, _ := strings.Cut(a.ServiceAccount, ":")
		o, _ := newSARSubject("", nil, ns+":ckslab-access-probe")
		o.shown = "any other ServiceAccount of namespace " + ns
		c.others = append(c.others, o)
	}
	for i, r := range a.Allowed {
		if len(r.Verbs) == 0 || len(r.Resources) == 0 {
			return nil, fmt.Errorf("access allowed[%d]: verbs and resources are required", i)
		}
		ar := accessRule{verbs: set(r.Verbs), resources: map[string]bool{}, namespaces: set(r.Namespaces), names: set(r.Names), spec: r}
		if ar.verbs["*"] {
			return nil, fmt.Errorf("access allowed[%d]: name each verb instead of \"*\"", i)
		}
		for _, res := range r.Resources {
			ar.resources[parseAccessResource(res).String()] = true
		}
		c.rules = append(c.rules, ar)
	}
	for _, res := range a.ProbeResources {
		r := parseAccessResource(res)
		r.namespaced = true
		c.extra = append(c.extra, r)
	}
	return c, nil
}

func set(l []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range l {
		m[s] = true
	}
	return m
}

// covers reports whether an allowed rule grants q.
func (r accessRule) covers(q accessReq) bool {
	if !r.verbs[q.verb] || !r.resources[q.res.String()] {
		return false
	}
	if len(r.namespaces) > 0 && !r.namespaces[q.ns] {
		return false
	}
	if len(r.names) > 0 && !r.names[q.name] {
		return false
	}
	return true
}

func (c *access) covered(q accessReq) bool {
	if q.verb == "*" {
		// A wildcard verb is acceptable where every standard verb is allowed.
		for _, v := range standardVerbs() {
			qq := q
			qq.verb = v
			if !c.covered(qq) {
				return false
			}
		}
		return true
	}
	for _, r := range c.rules {
		if r.covers(q) {
			return true
		}
	}
	return false
}

// allowedSet expands the allowed rules into requests.
func (c *access) allowedSet() []accessReq {
	var out []accessReq
	for _, r := range c.rules {
		nss := r.spec.Namespaces
		if len(nss) == 0 {
			nss = []string{""}
		}
		names := r.spec.Names
		if len(names) == 0 {
			names = []string{""}
		}
		for _, ns := range nss {
			for _, res := range r.spec.Resources {
				for _, v := range r.spec.Verbs {
					for _, n := range names {
						out = append(out, accessReq{ns: ns, verb: v, res: parseAccessResource(res), name: n})
					}
				}
			}
		}
	}
	return out
}

// maxOtherNamespaces bounds how many existing namespaces that no rule
// names are probed besides default and kube-system.
const maxOtherNamespaces = 3

// forbiddenSpace is every probe outside the allowed set.
func (c *access) forbiddenSpace(existing []string) []accessReq {
	nsSet := map[string]bool{"default": true, "kube-system": true}
	for _, r := range c.spec.Allowed {
		for _, ns := range r.Namespaces {
			nsSet[ns] = true
		}
	}
	for _, ns := range c.spec.ProbeNamespaces {
		nsSet[ns] = true
	}
	if c.spec.ServiceAccount != "" {
		ns, _, _ := strings.Cut(c.spec.ServiceAccount, ":")
		nsSet[ns] = true
	}
	others := 0
	for _, ns := range existing {
		if others >= maxOtherNamespaces {
			break
		}
		if !nsSet[ns] && !strings.HasPrefix(ns, "kube-") && ns != "local-path-storage" {
			nsSet[ns] = true
			others++
		}
	}
	nss := make([]string, 0, len(nsSet)+1)
	for ns := range nsSet {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	nss = append([]string{""}, nss...) // cluster scope first: the widest grants

	var out []accessReq
	seen := map[accessReq]bool{}
	add := func(q accessReq) {
		if !seen[q] && !c.covered(q) {
			seen[q] = true
			out = append(out, q)
		}
	}
	probes := probedResources()
	for _, r := range c.extra {
		// "use" is the verb of podsecuritypolicies.policy (and of custom
		// resources authorised with it).
		probes = append(probes, accessProbe{r, append(standardVerbs(), "*", "use")})
	}
	for _, ns := range nss {
		for _, p := range probes {
			if ns != "" && !p.res.namespaced {
				continue
			}
			for _, v := range p.verbs {
				add(accessReq{ns: ns, verb: v, res: p.res})
			}
		}
		for _, sp := range specialProbes() {
			if ns != "" && !sp.res.namespaced {
				continue
			}
			sp.ns = ns
			add(sp)
		}
	}
	// Names outside an allowed rule's resourceNames, and the other verbs
	// on an allowed name (list/watch of a named Secret read it too).
	for _, r := range c.rules {
		if len(r.names) == 0 {
			continue
		}
		for _, q := range c.allowedSet() {
			if r.covers(q) {
				for _, v := range append(standardVerbs(), "*") {
					qq := q
					qq.verb = v
					add(qq)
				}
				q.name = "ckslab-probe-other-name"
				add(q)
			}
		}
	}
	return out
}

type sarResult struct {
	q       accessReq
	allowed bool
	reason  string
	err     error
}

// review runs SubjectAccessReviews concurrently, results in input order.
func review(ctx context.Context, client kubernetes.Interface, s sarSubject, qs []accessReq) []sarResult {
	out := make([]sarResult, len(qs))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, q accessReq) {
			defer wg.Done()
			defer func() { <-sem }()
			sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
				User: s.user, Groups: s.groups,
				ResourceAttributes: &authzv1.ResourceAttributes{Namespace: q.ns, Verb: q.verb, Group: q.res.group, Resource: q.res.resource, Subresource: q.res.sub, Name: q.name},
			}}
			r, err := client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
			if err != nil {
				out[i] = sarResult{q: q, err: err}
				return
			}
			out[i] = sarResult{q: q, allowed: r.Status.Allowed, reason: reason(r.Status)}
		}(i, q)
	}
	wg.Wait()
	return out
}

// maxEvidence is how many unexpected answers a result lists.
const maxEvidence = 5

func (c *access) run(ctx context.Context, env *Env) outcome {
	if env.Kube == nil {
		return errored("no API client: is a lab running?")
	}
	nsl, err := env.Kube.Typed.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fromErr(env, "list namespaces", err)
	}
	var existing []string
	for _, ns := range nsl.Items {
		existing = append(existing, ns.Name)
	}
	// Hundreds of reviews: without the lab client's rate limit (they are
	// cheap for the API server: no storage, RBAC evaluated in memory).
	cfg := rest.CopyConfig(env.Kube.Config)
	cfg.QPS, cfg.Burst, cfg.RateLimiter = -1, 0, nil
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return errored("build an API client: %v", err)
	}
	allowed := c.allowedSet()
	forbidden := c.forbiddenSpace(existing)
	res := review(ctx, client, c.subject, allowed)
	sars := len(res)
	var missing, extra []string
	for _, r := range res {
		if r.err != nil {
			return fromErr(env, "SubjectAccessReview", r.err)
		}
		if !r.allowed {
			missing = append(missing, r.q.String())
		}
	}
	// The forbidden space: screened with one rules review per namespace
	// (the subject's RBAC rules, via impersonation), every request the
	// rules grant then confirmed by a SubjectAccessReview. Without a
	// complete rules review, or if no candidate is confirmed, every
	// request of the space is reviewed.
	probe, screened := forbidden, false
	if !c.spec.Exhaustive {
		probe, screened = c.screen(ctx, cfg, client, forbidden)
	}
	for pass := 0; pass < 2; pass++ {
		fres := review(ctx, client, c.subject, probe)
		sars += len(fres)
		extra = extra[:0]
		for _, r := range fres {
			if r.err != nil {
				return fromErr(env, "SubjectAccessReview", r.err)
			}
			if r.allowed {
				extra = append(extra, r.q.String()+r.reason)
			}
		}
		if !screened || len(extra) > 0 || len(probe) == 0 {
			break
		}
		probe, screened = forbidden, false
	}
	var shared []string
	for _, o := range c.others {
		ores := review(ctx, client, o, allowed)
		sars += len(ores)
		for _, r := range ores {
			if r.err != nil {
				return fromErr(env, "SubjectAccessReview", r.err)
			}
			if r.allowed {
				shared = append(shared, o.shown+" may also "+r.q.String()+r.reason)
			}
		}
	}
	probed := fmt.Sprintf("%d SubjectAccessReviews", sars)
	switch {
	case len(extra) > 0:
		ev := append([]string{fmt.Sprintf("found: %d requests outside the allowed set are allowed", len(extra))}, firstN(extra, maxEvidence)...)
		return failed(fmt.Sprintf("%s has more access than allowed: it may %s%s", c.subject.shown, extra[0], more(len(extra))), ev...)
	case len(missing) > 0:
		ev := append([]string{fmt.Sprintf("found: %d allowed requests are denied", len(missing))}, firstN(missing, maxEvidence)...)
		return failed(fmt.Sprintf("%s cannot %s%s; it must be allowed", c.subject.shown, missing[0], more(len(missing))), ev...)
	case len(shared) > 0:
		ev := append([]string{fmt.Sprintf("found: %d grants reach other subjects", len(shared))}, firstN(shared, maxEvidence)...)
		return failed(fmt.Sprintf("the access is not limited to %s: %s%s", c.subject.shown, shared[0], more(len(shared))), ev...)
	}
	what := "no access"
	if len(allowed) > 0 {
		what = fmt.Sprintf("exactly the %d allowed requests", len(allowed))
	}
	how := probed
	if screened {
		how = "judged on the subject's RBAC rules in every probed namespace, " + probed
	}
	return passed(fmt.Sprintf("%s has %s: none of %d other requests is granted (%s)", c.subject.shown, what, len(forbidden), how))
}

func firstN(l []string, n int) []string {
	if len(l) > n {
		return l[:n]
	}
	return l
}

func more(n int) string {
	if n > 1 {
		return fmt.Sprintf(" (and %d more)", n-1)
	}
	return ""
}

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
