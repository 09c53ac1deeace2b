// Package netpol computes the effect of Kubernetes NetworkPolicies: whether
// traffic from one endpoint to another on a port and protocol is allowed,
// given every policy of the cluster, following the semantics of the
// networking.k8s.io/v1 API documentation:
//
//   - A pod is isolated for ingress (egress) when at least one policy of
//     its namespace selects it (spec.podSelector, empty = every pod) and
//     has Ingress (Egress) in its policyTypes. policyTypes defaults to
//     Ingress, plus Egress when the policy has egress rules.
//   - A non-isolated direction allows everything. For an isolated one the
//     traffic is allowed when any rule of any selecting policy matches:
//     policies are additive, there is no deny rule and no ordering.
//   - A rule matches when one of its peers matches (no from/to = every
//     endpoint) and one of its ports matches (no ports = every port).
//   - A peer is podSelector (pods of the policy's namespace),
//     namespaceSelector (every pod of matching namespaces), both (matching
//     pods of matching namespaces) or ipBlock (CIDR minus except, matched
//     against the endpoint's IP).
//   - A port is protocol (default TCP) and port: a number, a number range
//     up to endPort, a name (resolved against the destination pod's
//     container ports, so it never matches an address outside the cluster),
//     or absent (every port of that protocol).
//   - Traffic between two pods needs egress allowed at the source AND
//     ingress allowed at the destination.
package netpol

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Pod is what policies see of a pod.
type Pod struct {
	Namespace string
	Name      string
	Labels    map[string]string
	// IP is the pod IP ("" when it has none, e.g. never scheduled): ipBlock
	// peers then cannot match it.
	IP    string
	Ports []corev1.ContainerPort
}

// PodFrom converts an API pod.
func PodFrom(p *corev1.Pod) Pod {
	out := Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, IP: p.Status.PodIP}
	for _, c := range p.Spec.Containers {
		out.Ports = append(out.Ports, c.Ports...)
	}
	return out
}

// Endpoint is a pod, or an address outside the cluster when Pod is nil.
type Endpoint struct {
	Pod *Pod
	IP  string
}

func (e Endpoint) String() string {
	if e.Pod != nil {
		return e.Pod.Namespace + "/" + e.Pod.Name
	}
	return e.IP
}

func (e Endpoint) ip() (netip.Addr, bool) {
	s := e.IP
	if e.Pod != nil {
		s = e.Pod.IP
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

// Traffic is one connection attempt.
type Traffic struct {
	From, To Endpoint
	Port     int
	Protocol corev1.Protocol
}

func (t Traffic) String() string {
	return fmt.Sprintf("%s -> %s %d/%s", t.From, t.To, t.Port, t.Protocol)
}

// Side is the verdict of one direction (egress at the source or ingress
// at the destination).
type Side struct {
	// Applies is false when the endpoint is outside the cluster: no policy
	// governs that side.
	Applies bool
	// Isolating are the policies (namespace/name) that select the pod for
	// this direction; empty means it is not isolated.
	Isolating []string
	// AllowedBy are the isolating policies with a rule that matches.
	AllowedBy []string
	Allowed   bool
}

// Explain renders the side for evidence.
func (s Side) Explain(direction string, e Endpoint) string {
	switch {
	case !s.Applies:
		return fmt.Sprintf("%s of %s: outside the cluster, no policy applies", direction, e)
	case len(s.Isolating) == 0:
		return fmt.Sprintf("%s of %s: allowed (no policy selects it for %s)", direction, e, direction)
	case s.Allowed:
		return fmt.Sprintf("%s of %s: allowed by %s", direction, e, strings.Join(s.AllowedBy, ", "))
	}
	return fmt.Sprintf("%s of %s: denied (selected by %s, no rule matches)", direction, e, strings.Join(s.Isolating, ", "))
}

// Verdict is the effect on one Traffic.
type Verdict struct {
	Allowed bool
	Egress  Side
	Ingress Side
}

// Model is the cluster's policies and namespace labels.
type Model struct {
	Policies []networkingv1.NetworkPolicy
	// Namespaces maps a namespace name to its labels.
	Namespaces map[string]map[string]string
}

// Evaluate decides one Traffic. An error means a policy cannot be
// interpreted (an invalid selector or CIDR): never a verdict.
func (m *Model) Evaluate(t Traffic) (Verdict, error) {
	if t.Protocol == "" {
		t.Protocol = corev1.ProtocolTCP
	}
	var v Verdict
	var err error
	if t.From.Pod != nil {
		if v.Egress, err = m.side(t, networkingv1.PolicyTypeEgress); err != nil {
			return v, err
		}
	} else {
		v.Egress = Side{Allowed: true}
	}
	if t.To.Pod != nil {
		if v.Ingress, err = m.side(t, networkingv1.PolicyTypeIngress); err != nil {
			return v, err
		}
	} else {
		v.Ingress = Side{Allowed: true}
	}
	v.Allowed = v.Egress.Allowed && v.Ingress.Allowed
	return v, nil
}

func (m *Model) side(t Traffic, dir networkingv1.PolicyType) (Side, error) {
	self, peer := t.From, t.To
	if dir == networkingv1.PolicyTypeIngress {
		self, peer = t.To, t.From
	}
	s := Side{Applies: true}
	for i := range m.Policies {
		np := &m.Policies[i]
		if np.Namespace != self.Pod.Namespace || !hasType(np, dir) {
			continue
		}
		sel, err := selector(&np.Spec.PodSelector)
		if err != nil {
			return s, fmt.Errorf("NetworkPolicy %s/%s spec.podSelector: %w", np.Namespace, np.Name, err)
		}
		if !sel.Matches(labels.Set(self.Pod.Labels)) {
			continue
		}
		id := np.Namespace + "/" + np.Name
		s.Isolating = append(s.Isolating, id)
		ok, err := m.rulesMatch(np, dir, peer, t)
		if err != nil {
			return s, fmt.Errorf("NetworkPolicy %s: %w", id, err)
		}
		if ok {
			s.AllowedBy = append(s.AllowedBy, id)
		}
	}
	sort.Strings(s.Isolating)
	sort.Strings(s.AllowedBy)
	s.Allowed = len(s.Isolating) == 0 || len(s.AllowedBy) > 0
	return s, nil
}

// hasType applies the API's policyTypes defaulting.
func hasType(np *networkingv1.NetworkPolicy, dir networkingv1.PolicyType) bool {
	if len(np.Spec.PolicyTypes) == 0 {
		return dir == networkingv1.PolicyTypeIngress || len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		if t == dir {
			return true
		}
	}
	return false
}

func (m *Model) rulesMatch(np *networkingv1.NetworkPolicy, dir networkingv1.PolicyType, peer Endpoint, t Traffic) (bool, error) {
	type rule struct {
		peers []networkingv1.NetworkPolicyPeer
		ports []networkingv1.NetworkPolicyPort
	}
	var rules []rule
	if dir == networkingv1.PolicyTypeIngress {
		for _, r := range np.Spec.Ingress {
			rules = append(rules, rule{r.From, r.Ports})
		}
	} else {
		for _, r := range np.Spec.Egress {
			rules = append(rules, rule{r.To, r.Ports})
		}
	}
	for i, r := range rules {
		where := fmt.Sprintf("spec.%s[%d]", strings.ToLower(string(dir)), i)
		pm, err := portsMatch(r.ports, t)
		if err != nil {
			return false, fmt.Errorf("%s.ports: %w", where, err)
		}
		if !pm {
			continue
		}
		if len(r.peers) == 0 {
			return true, nil
		}
		for j := range r.peers {
			ok, err := m.peerMatches(np.Namespace, &r.peers[j], peer)
			if err != nil {
				return false, fmt.Errorf("%s peer %d: %w", where, j, err)
			}
			if ok {
				return true, nil
			}
		}
	}
	return false, nil
}

func (m *Model) peerMatches(policyNS string, p *networkingv1.NetworkPolicyPeer, e Endpoint) (bool, error) {
	if p.IPBlock != nil {
		return ipBlockMatches(p.IPBlock, e)
	}
	if e.Pod == nil {
		// Pod and namespace selectors select pods only.
		return false, nil
	}
	if p.PodSelector == nil && p.NamespaceSelector == nil {
		return false, nil
	}
	if p.NamespaceSelector == nil {
		if e.Pod.Namespace != policyNS {
			return false, nil
		}
	} else {
		ns, err := selector(p.NamespaceSelector)
		if err != nil {
			return false, fmt.Errorf("namespaceSelector: %w", err)
		}
		if !ns.Matches(labels.Set(m.namespaceLabels(e.Pod.Namespace))) {
			return false, nil
		}
	}
	if p.PodSelector != nil {
		ps, err := selector(p.PodSelector)
		if err != nil {
			return false, fmt.Errorf("podSelector: %w", err)
		}
		if !ps.Matches(labels.Set(e.Pod.Labels)) {
			return false, nil
		}
	}
	return true, nil
}

// namespaceLabels includes kubernetes.io/metadata.name, which the API
// server sets on every namespace.
func (m *Model) namespaceLabels(ns string) map[string]string {
	out := map[string]string{}
	for k, v := range m.Namespaces[ns] {
		out[k] = v
	}
	out["kubernetes.io/metadata.name"] = ns
	return out
}

func ipBlockMatches(b *networkingv1.IPBlock, e Endpoint) (bool, error) {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return false, fmt.Errorf("ipBlock.cidr %q: %w", b.CIDR, err)
	}
	a, ok := e.ip()
	if !ok || !cidr.Contains(a) {
		return false, nil
	}
	for _, x := range b.Except {
		ex, err := netip.ParsePrefix(x)
		if err != nil {
			return false, fmt.Errorf("ipBlock.except %q: %w", x, err)
		}
		if ex.Contains(a) {
			return false, nil
		}
	}
	return true, nil
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, t Traffic) (bool, error) {
	if len(ports) == 0 {
		return true, nil
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if proto != t.Protocol {
			continue
		}
		if p.Port == nil {
			return true, nil
		}
		if p.Port.Type == intstr.String { // a named port of the destination pod
			if t.To.Pod == nil {
				continue
			}
			for _, cp := range t.To.Pod.Ports {
				cproto := cp.Protocol
				if cproto == "" {
					cproto = corev1.ProtocolTCP
				}
				if cp.Name == p.Port.StrVal && cproto == proto && int(cp.ContainerPort) == t.Port {
					return true, nil
				}
			}
			continue
		}
		lo := int(p.Port.IntVal)
		hi := lo
		if p.EndPort != nil {
			hi = int(*p.EndPort)
			if hi < lo {
				return false, fmt.Errorf("endPort %d is below port %d", hi, lo)
			}
		}
		if t.Port >= lo && t.Port <= hi {
			return true, nil
		}
	}
	return false, nil
}

func selector(s *metav1.LabelSelector) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(s)
}

// DNSPod stands in for the cluster DNS when no kube-dns pod exists as an
// object (the local backend runs no workloads): CoreDNS as kubeadm deploys it.
func DNSPod() Pod {
	return Pod{
		Namespace: "kube-system", Name: "coredns (modelled)",
		Labels: map[string]string{"k8s-app": "kube-dns"},
		Ports: []corev1.ContainerPort{
			{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
			{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
			{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP},
		},
	}
}
