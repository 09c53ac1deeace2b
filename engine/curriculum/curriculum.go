// Package curriculum is the CKS curriculum ckslab trains for (v1.34, as
// published by the CNCF; unchanged from v1.33): six domains with their exam
// weights and the 26 competencies they list, each with a stable id that
// scenarios name in spec.competency. It is data only: load validates
// scenarios against it, exam weighs mock exams by it, list reports coverage.
package curriculum

import (
	"fmt"
	"strings"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

// Version is the curriculum version the list below transcribes.
const Version = "v1.34"

// Domain is one curriculum domain and its share of the exam.
type Domain struct {
	ID v1alpha1.Domain
	// Weight is the domain's share of the exam score, in percent.
	Weight int
}

// Competency is one line of the curriculum.
type Competency struct {
	// ID is what spec.competency holds: stable, lower-case, unique across
	// domains.
	ID     string
	Domain v1alpha1.Domain
	// Text is the curriculum's wording.
	Text string
}

// Domains are the six domains in curriculum order, with their weights (the
// weights add up to 100).
func Domains() []Domain {
	return []Domain{
		{v1alpha1.DomainClusterSetup, 15},
		{v1alpha1.DomainClusterHardening, 15},
		{v1alpha1.DomainSystemHardening, 10},
		{v1alpha1.DomainMicroservices, 20},
		{v1alpha1.DomainSupplyChain, 20},
		{v1alpha1.DomainMonitoringRuntime, 20},
	}
}

// Weight is d's share of the exam in percent (0 for an unknown domain).
func Weight(d v1alpha1.Domain) int {
	for _, x := range Domains() {
		if x.ID == d {
			return x.Weight
		}
	}
	return 0
}

// Competencies are the 26 competencies in curriculum order.
func Competencies() []Competency {
	cs, hd, sh := v1alpha1.DomainClusterSetup, v1alpha1.DomainClusterHardening, v1alpha1.DomainSystemHardening
	mv, sc, rt := v1alpha1.DomainMicroservices, v1alpha1.DomainSupplyChain, v1alpha1.DomainMonitoringRuntime
	return []Competency{
		{"network-policies", cs, "Use Network security policies to restrict cluster level access"},
		{"cis-benchmark", cs, "Use CIS benchmark to review the security configuration of Kubernetes components (etcd, kubelet, kubedns, kubeapi)"},
		{"ingress-tls", cs, "Properly set up Ingress objects with TLS"},
		{"node-metadata", cs, "Protect node metadata and endpoints"},
		{"verify-binaries", cs, "Verify platform binaries before deploying"},

		{"rbac", hd, "Use Role Based Access Controls to minimize exposure"},
		{"service-accounts", hd, "Exercise caution in using service accounts e.g. disable defaults, minimize permissions on newly created ones"},
		{"api-access", hd, "Restrict access to Kubernetes API"},
		{"upgrade", hd, "Upgrade Kubernetes to avoid vulnerabilities"},

		{"host-footprint", sh, "Minimize host OS footprint (reduce attack surface)"},
		{"host-iam", sh, "Using least-privilege identity and access management"},
		{"external-network-access", sh, "Minimize external access to the network"},
		{"kernel-hardening", sh, "Appropriately use kernel hardening tools such as AppArmor, seccomp"},

		{"pod-security-standards", mv, "Use appropriate pod security standards"},
		{"secrets", mv, "Manage Kubernetes secrets"},
		{"isolation", mv, "Understand and implement isolation techniques (multi-tenancy, sandboxed containers, etc.)"},
		{"pod-encryption", mv, "Implement Pod-to-Pod encryption (Cilium, Istio)"},

		{"base-image", sc, "Minimize base image footprint"},
		{"understand-supply-chain", sc, "Understand your supply chain (e.g. SBOM, CI/CD, artifact repositories)"},
		{"secure-supply-chain", sc, "Secure your supply chain (permitted registries, sign and validate artifacts, etc.)"},
		{"static-analysis", sc, "Perform static analysis of user workloads and container images (e.g. Kubesec, KubeLinter)"},

		{"behavioral-analytics", rt, "Perform behavioral analytics to detect malicious activities"},
		{"threat-detection", rt, "Detect threats within physical infrastructure, apps, networks, data, users and workloads"},
		{"investigate-bad-actors", rt, "Investigate and identify phases of attack and bad actors within the environment"},
		{"immutability", rt, "Ensure immutability of containers at runtime"},
		{"audit-logs", rt, "Use Kubernetes audit logs to monitor access"},
	}
}

// Lookup finds a competency by id.
func Lookup(id string) (Competency, bool) {
	for _, c := range Competencies() {
		if c.ID == id {
			return c, true
		}
	}
	return Competency{}, false
}

// Check reports why id is not a valid competency for a scenario of domain
// d (nil when it is). The message names the ids to choose from and, when
// id is a curriculum text rather than an id, the id of that text.
func Check(id string, d v1alpha1.Domain) error {
	if c, ok := Lookup(id); ok {
		if c.Domain != d {
			return fmt.Errorf("competency %q belongs to domain %s, not %s", id, c.Domain, d)
		}
		return nil
	}
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }
	for _, c := range Competencies() {
		if norm(c.Text) == norm(id) {
			return fmt.Errorf("name the competency by its id: %q (ids are listed by `ckslab list --competencies`)", c.ID)
		}
	}
	var ids []string
	for _, c := range Competencies() {
		if c.Domain == d {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("unknown competency %q", id)
	}
	return fmt.Errorf("unknown competency %q; the curriculum's competencies of %s are: %s", id, d, strings.Join(ids, ", "))
}
