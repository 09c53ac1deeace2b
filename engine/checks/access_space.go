package checks

import (
	"sort"
	"strings"
)

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
