package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	// Names outside an allowed rule's resourceNames.
	for _, r := range c.rules {
		if len(r.names) == 0 {
			continue
		}
		for _, q := range c.allowedSet() {
			if r.covers(q) {
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
	res := review(ctx, client, c.subject, append(append([]accessReq(nil), allowed...), forbidden...))
	sars := len(res)
	for _, r := range res {
		if r.err != nil {
			return fromErr(env, "SubjectAccessReview", r.err)
		}
	}
	var missing, extra []string
	for _, r := range res[:len(allowed)] {
		if !r.allowed {
			missing = append(missing, r.q.String())
		}
	}
	for _, r := range res[len(allowed):] {
		if r.allowed {
			extra = append(extra, r.q.String()+r.reason)
		}
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
	return passed(fmt.Sprintf("%s has %s: %d other requests denied (%s)", c.subject.shown, what, len(forbidden), probed))
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
