package checks

import (
	"context"
	"fmt"
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
