package v1alpha1

import (
	"fmt"
	"net"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
)

// Check types that judge an effect (what a subject may really do, which
// pod may really reach which, what a component endpoint really answers)
// rather than the shape of the objects a learner wrote.

// AccessCheck proves least privilege: the subject has exactly the Allowed
// access (every combination is probed and must be allowed) and nothing
// else in a broad forbidden space (every verb including impersonate,
// escalate, bind and approve; secrets, RBAC objects, workloads and
// subresources such as pods/exec, pods/log and serviceaccounts/token; the
// allowed namespaces, default, kube-system, ProbeNamespaces and cluster
// scope). Others (and, automatically, an unrelated authenticated user and
// for a ServiceAccount another ServiceAccount of its namespace) must have
// none of the Allowed access, so binding a group instead of the subject
// fails. Every probe is a SubjectAccessReview.
type AccessCheck struct {
	// User is the user name whose access is judged.
	User string `json:"user,omitempty"`
	// Groups the subject belongs to.
	Groups []string `json:"groups,omitempty"`
	// ServiceAccount as namespace:name, instead of User.
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// Allowed is the exact access the subject must have; empty means none
	// at all (beyond what every authenticated user has by default).
	Allowed []AccessRule `json:"allowed,omitempty"`
	// Others are subjects that must have none of the Allowed access.
	Others []AccessSubject `json:"others,omitempty"`
	// ProbeNamespaces are probed besides the allowed namespaces, default,
	// kube-system, the ServiceAccount's own namespace and cluster scope.
	ProbeNamespaces []string `json:"probeNamespaces,omitempty"`
	// ProbeResources are probed besides the built-in set (e.g.
	// widgets.example.com, pods/status).
	ProbeResources []string `json:"probeResources,omitempty"`
	// Exhaustive reviews every request of the forbidden space by
	// SubjectAccessReview (about 1,500, seconds) instead of screening it
	// with the subject's RBAC rules (one rules review per namespace) and
	// confirming what they grant. Screening is skipped anyway when the
	// rules review is incomplete (an authorizer that cannot list rules).
	Exhaustive bool `json:"exhaustive,omitempty"`
}

// AccessRule is a set of allowed requests: every verb on every resource in
// every namespace (cluster scope when Namespaces is empty), limited to Names
// when set.
type AccessRule struct {
	// Verbs allowed, e.g. get, list, watch.
	Verbs []string `json:"verbs"`
	// Resources as resource[.group][/subresource]: pods, deployments.apps, pods/log.
	Resources []string `json:"resources"`
	// Namespaces the rule allows in; empty means cluster scope.
	Namespaces []string `json:"namespaces,omitempty"`
	// Names limits the rule to these object names (RBAC resourceNames).
	Names []string `json:"names,omitempty"`
}

// AccessSubject is a user (with optional groups) or a ServiceAccount.
type AccessSubject struct {
	// User name of the subject.
	User string `json:"user,omitempty"`
	// Groups the subject belongs to.
	Groups []string `json:"groups,omitempty"`
	// ServiceAccount as namespace:name, instead of User.
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// NetpolEffectCheck computes, from every NetworkPolicy in the cluster and
// Kubernetes NetworkPolicy semantics, whether traffic is allowed, and
// compares it with each probe's expectation. Pods only need to exist as
// objects, so it judges the same on every backend; any set of policies
// with the same effect passes.
type NetpolEffectCheck struct {
	// Probes are the expected verdicts.
	Probes []NetpolProbe `json:"probes"`
}

// NetpolProbe is one expected verdict. Every selected source pod and every
// selected destination pod form a pair; each pair must match Expect.
type NetpolProbe struct {
	// From is the source of the traffic.
	From NetpolPeer `json:"from"`
	// To is the destination of the traffic.
	To NetpolPeer `json:"to"`
	// Port is the destination port (default 53 when to.dns is set).
	Port int `json:"port,omitempty" jsonschema:"minimum=1,maximum=65535"`
	// Protocol is TCP (default; UDP when to.dns is set), UDP or SCTP.
	Protocol string `json:"protocol,omitempty" jsonschema:"enum=TCP,enum=UDP,enum=SCTP"`
	// Expect is allowed or denied.
	Expect string `json:"expect" jsonschema:"enum=allowed,enum=denied"`
}

// NetpolPeer is one end of a probe: pods by namespace and label selector,
// an address outside the cluster, or (as destination) the cluster DNS.
type NetpolPeer struct {
	// Namespace of the pods.
	Namespace string `json:"namespace,omitempty"`
	// Selector is a label selector in kubectl syntax; empty selects every
	// pod of the namespace.
	Selector string `json:"selector,omitempty"`
	// IP is an address outside the cluster (e.g. 169.254.169.254).
	IP string `json:"ip,omitempty"`
	// DNS (destination only) is the cluster DNS: the kube-system pods
	// labelled k8s-app=kube-dns (modelled as CoreDNS, ports dns 53/UDP and
	// dns-tcp 53/TCP, when none exists as an object).
	DNS bool `json:"dns,omitempty"`
}

// EndpointProbeCheck makes an HTTPS request to a control-plane component's
// own port (taken from the flags it runs with) and judges the status code:
// the effect of a flag (does /debug/pprof answer with profiling off? does
// an anonymous request get 401?) rather than its spelling.
type EndpointProbeCheck struct {
	// Component is kube-apiserver, kube-controller-manager or kube-scheduler.
	Component string `json:"component"`
	// Path requested, e.g. /debug/pprof/ or /metrics.
	Path string `json:"path"`
	// Anonymous sends no credentials; by default the request carries the
	// lab's admin credentials.
	Anonymous bool `json:"anonymous,omitempty"`
	// ExpectStatus lists the acceptable HTTP status codes.
	ExpectStatus []int `json:"expectStatus,omitempty"`
	// RejectStatus lists status codes that fail the check (any other passes).
	RejectStatus []int `json:"rejectStatus,omitempty"`
}

// validateEffectCheck validates the check types of this file.
func validateEffectCheck(e *errs, p string, c *Check) {
	switch {
	case c.Access != nil:
		a := c.Access
		validateAccessSubject(e, p, AccessSubject{User: a.User, Groups: a.Groups, ServiceAccount: a.ServiceAccount})
		for i, r := range a.Allowed {
			rp := fmt.Sprintf("%s.allowed[%d]", p, i)
			if len(r.Verbs) == 0 {
				e.add(rp+".verbs", "at least one verb is required (get, list, watch, create, update, patch, delete, deletecollection, ...)")
			}
			for j, v := range r.Verbs {
				if v == "" || v == "*" {
					e.add(fmt.Sprintf("%s.verbs[%d]", rp, j), "name each verb; %q would make the allowed set too wide to probe", v)
				}
			}
			if len(r.Resources) == 0 {
				e.add(rp+".resources", "at least one resource is required (e.g. pods, deployments.apps, pods/log)")
			}
			for j, res := range r.Resources {
				validateAccessResource(e, fmt.Sprintf("%s.resources[%d]", rp, j), res)
			}
			for j, ns := range r.Namespaces {
				if ns == "" || ns == "*" {
					e.add(fmt.Sprintf("%s.namespaces[%d]", rp, j), "name a namespace (omit namespaces for cluster scope), got %q", ns)
				}
			}
		}
		for i, o := range a.Others {
			validateAccessSubject(e, fmt.Sprintf("%s.others[%d]", p, i), o)
		}
		for j, res := range a.ProbeResources {
			validateAccessResource(e, fmt.Sprintf("%s.probeResources[%d]", p, j), res)
		}
	case c.NetpolEffect != nil:
		n := c.NetpolEffect
		if len(n.Probes) == 0 {
			e.add(p+".probes", "at least one probe is required")
		}
		for i, pr := range n.Probes {
			pp := fmt.Sprintf("%s.probes[%d]", p, i)
			validateNetpolPeer(e, pp+".from", pr.From, false)
			validateNetpolPeer(e, pp+".to", pr.To, true)
			if pr.From.IP != "" && pr.To.IP != "" {
				e.add(pp, "from.ip and to.ip are both outside the cluster: NetworkPolicy does not apply; one end must be pods")
			}
			if pr.Port == 0 && !pr.To.DNS {
				e.add(pp+".port", "is required (1-65535)")
			}
			if pr.Port < 0 || pr.Port > 65535 {
				e.add(pp+".port", "must be between 1 and 65535, got %d", pr.Port)
			}
			validateExpect(e, pp+".protocol", pr.Protocol, "", "TCP", "UDP", "SCTP")
			validateExpect(e, pp+".expect", pr.Expect, "allowed", "denied")
		}
	case c.EndpointProbe != nil:
		ep := c.EndpointProbe
		switch ep.Component {
		case "kube-apiserver", "kube-controller-manager", "kube-scheduler":
		default:
			e.add(p+".component", "must be kube-apiserver, kube-controller-manager or kube-scheduler, got %q", ep.Component)
		}
		if !strings.HasPrefix(ep.Path, "/") {
			e.add(p+".path", "must be an absolute URL path such as /debug/pprof/, got %q", ep.Path)
		}
		if (len(ep.ExpectStatus) == 0) == (len(ep.RejectStatus) == 0) {
			e.add(p, "set exactly one of expectStatus or rejectStatus")
		}
		for i, s := range append(append([]int(nil), ep.ExpectStatus...), ep.RejectStatus...) {
			if s < 100 || s > 599 {
				e.add(p, "status code #%d %d is not an HTTP status", i+1, s)
			}
		}
	}
}

func validateAccessSubject(e *errs, p string, s AccessSubject) {
	switch {
	case s.User == "" && s.ServiceAccount == "" && len(s.Groups) == 0:
		e.add(p, "needs a subject: user, groups or serviceAccount")
	case s.User != "" && s.ServiceAccount != "":
		e.add(p, "set user or serviceAccount, not both")
	}
	if s.ServiceAccount != "" {
		ns, name, ok := strings.Cut(s.ServiceAccount, ":")
		if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
			e.add(p+".serviceAccount", "must be namespace:name, got %q", s.ServiceAccount)
		}
	}
}

func validateAccessResource(e *errs, p, r string) {
	res, sub, _ := strings.Cut(r, "/")
	if res == "" || res == "*" || strings.Contains(sub, "/") || strings.HasPrefix(res, ".") {
		e.add(p, "must be resource[.group][/subresource] such as pods, deployments.apps or pods/log, got %q", r)
	}
}

func validateNetpolPeer(e *errs, p string, n NetpolPeer, dest bool) {
	kinds := 0
	if n.Namespace != "" || n.Selector != "" {
		kinds++
	}
	if n.IP != "" {
		kinds++
		if net.ParseIP(n.IP) == nil {
			e.add(p+".ip", "must be an IP address, got %q", n.IP)
		}
	}
	if n.DNS {
		kinds++
		if !dest {
			e.add(p+".dns", "is only for the destination (to)")
		}
	}
	switch {
	case kinds == 0:
		e.add(p, "set namespace (and optionally selector), ip, or dns")
	case kinds > 1:
		e.add(p, "set one of namespace+selector, ip or dns")
	case n.Selector != "" && n.Namespace == "":
		e.add(p+".namespace", "is required with selector")
	}
	if n.Selector != "" {
		if _, err := labels.Parse(n.Selector); err != nil {
			e.add(p+".selector", "is not a label selector (kubectl syntax such as app=web,tier!=db): %v", err)
		}
	}
}
