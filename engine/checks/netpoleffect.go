package checks

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks/netpol"
)

// netpolEffect judges what every NetworkPolicy of the cluster allows, not
// how the policies are written (package netpol has the semantics).
type netpolEffect struct {
	spec   *v1alpha1.NetpolEffectCheck
	probes []npProbe
}

type npProbe struct {
	spec     v1alpha1.NetpolProbe
	from, to labels.Selector
	port     int
	proto    corev1.Protocol
}

func newNetpolEffect(s *v1alpha1.NetpolEffectCheck) (impl, error) {
	if len(s.Probes) == 0 {
		return nil, fmt.Errorf("netpolEffect needs at least one probe")
	}
	n := &netpolEffect{spec: s}
	for i, p := range s.Probes {
		if p.Expect != "allowed" && p.Expect != "denied" {
			return nil, fmt.Errorf("probe %d: expect must be allowed or denied, got %q", i+1, p.Expect)
		}
		pr := npProbe{spec: p, port: p.Port, proto: corev1.Protocol(p.Protocol)}
		if p.To.DNS {
			if pr.port == 0 {
				pr.port = 53
			}
			if pr.proto == "" {
				pr.proto = corev1.ProtocolUDP
			}
		}
		if pr.proto == "" {
			pr.proto = corev1.ProtocolTCP
		}
		if pr.port < 1 || pr.port > 65535 {
			return nil, fmt.Errorf("probe %d: port must be 1-65535, got %d", i+1, p.Port)
		}
		var err error
		if pr.from, err = peerSelector(p.From); err != nil {
			return nil, fmt.Errorf("probe %d from: %w", i+1, err)
		}
		if pr.to, err = peerSelector(p.To); err != nil {
			return nil, fmt.Errorf("probe %d to: %w", i+1, err)
		}
		if (p.From.IP != "" || p.From.DNS) && (p.To.IP != "") {
			return nil, fmt.Errorf("probe %d: one end must be pods", i+1)
		}
		if p.From.DNS {
			return nil, fmt.Errorf("probe %d: dns is only a destination", i+1)
		}
		n.probes = append(n.probes, pr)
	}
	return n, nil
}

func peerSelector(p v1alpha1.NetpolPeer) (labels.Selector, error) {
	if p.IP != "" || p.DNS {
		return nil, nil
	}
	if p.Namespace == "" {
		return nil, fmt.Errorf("set namespace (and optionally selector), ip or dns")
	}
	sel, err := labels.Parse(p.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector %q: %v", p.Selector, err)
	}
	return sel, nil
}

func describePeer(p v1alpha1.NetpolPeer) string {
	switch {
	case p.DNS:
		return "the cluster DNS"
	case p.IP != "":
		return p.IP
	case p.Selector == "":
		return "every pod of " + p.Namespace
	}
	return "pods " + p.Selector + " in " + p.Namespace
}

func (n *netpolEffect) run(ctx context.Context, env *Env) outcome {
	if env.Kube == nil {
		return errored("no API client: is a lab running?")
	}
	nps, err := env.Kube.Typed.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fromErr(env, "list NetworkPolicies", err)
	}
	nsl, err := env.Kube.Typed.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fromErr(env, "list namespaces", err)
	}
	model := &netpol.Model{Policies: nps.Items, Namespaces: map[string]map[string]string{}}
	for _, ns := range nsl.Items {
		model.Namespaces[ns.Name] = ns.Labels
	}
	pods := map[string][]corev1.Pod{}
	podsOf := func(ns string) ([]corev1.Pod, error) {
		if l, ok := pods[ns]; ok {
			return l, nil
		}
		l, err := env.Kube.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		var live []corev1.Pod
		for _, p := range l.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				live = append(live, p)
			}
		}
		pods[ns] = live
		return live, nil
	}
	endpoints := func(peer v1alpha1.NetpolPeer, sel labels.Selector) ([]netpol.Endpoint, error) {
		switch {
		case peer.IP != "":
			return []netpol.Endpoint{{IP: peer.IP}}, nil
		case peer.DNS:
			l, err := podsOf("kube-system")
			if err != nil {
				return nil, err
			}
			var out []netpol.Endpoint
			for i := range l {
				if l[i].Labels["k8s-app"] == "kube-dns" {
					p := netpol.PodFrom(&l[i])
					out = append(out, netpol.Endpoint{Pod: &p})
				}
			}
			if len(out) == 0 {
				p := netpol.DNSPod()
				out = append(out, netpol.Endpoint{Pod: &p})
			}
			return out, nil
		}
		l, err := podsOf(peer.Namespace)
		if err != nil {
			return nil, err
		}
		var out []netpol.Endpoint
		for i := range l {
			if sel.Matches(labels.Set(l[i].Labels)) {
				p := netpol.PodFrom(&l[i])
				out = append(out, netpol.Endpoint{Pod: &p})
			}
		}
		if len(out) > 0 {
			return out, nil
		}
		// No pod yet (a controller has not created it, or nothing
		// schedules on this backend): the pods the workloads of the
		// namespace will run, from their templates.
		tpls, err := templatesOf(ctx, env, peer.Namespace)
		if err != nil {
			return nil, err
		}
		for i := range tpls {
			if sel.Matches(labels.Set(tpls[i].Labels)) {
				out = append(out, netpol.Endpoint{Pod: &tpls[i]})
			}
		}
		return out, nil
	}
	total := 0
	var passEv []string
	for i, pr := range n.probes {
		what := fmt.Sprintf("probe %d (%s -> %s on %d/%s)", i+1, describePeer(pr.spec.From), describePeer(pr.spec.To), pr.port, pr.proto)
		from, err := endpoints(pr.spec.From, pr.from)
		if err != nil {
			return fromErr(env, "list pods", err)
		}
		to, err := endpoints(pr.spec.To, pr.to)
		if err != nil {
			return fromErr(env, "list pods", err)
		}
		if len(from) == 0 || len(to) == 0 {
			side := describePeer(pr.spec.From)
			if len(from) > 0 {
				side = describePeer(pr.spec.To)
			}
			return errored("%s: no pod and no workload's pod template matches %s, so there is nothing to judge (was something of the lab deleted? ckslab reset restores it)", what, side)
		}
		for _, f := range from {
			for _, t := range to {
				tr := netpol.Traffic{From: f, To: t, Port: pr.port, Protocol: pr.proto}
				v, err := model.Evaluate(tr)
				if err != nil {
					return settledFail(fmt.Sprintf("%s: %v", what, err))
				}
				total++
				got := "denied"
				if v.Allowed {
					got = "allowed"
				}
				ev := []string{v.Egress.Explain("egress", f), v.Ingress.Explain("ingress", t)}
				if got != pr.spec.Expect {
					msg := fmt.Sprintf("%s -> %s on %d/%s is %s by the NetworkPolicies; expected %s", f, t, pr.port, pr.proto, got, pr.spec.Expect)
					return failed(msg, append([]string{"found: " + got, "expected: " + pr.spec.Expect}, ev...)...)
				}
				if len(passEv) < 6 {
					passEv = append(passEv, fmt.Sprintf("%s -> %s %d/%s %s: %s", f, t, pr.port, pr.proto, got, strings.Join(ev, "; ")))
				}
			}
		}
	}
	return passed(fmt.Sprintf("all %d pod pairs of %d probes get the expected verdict from %d NetworkPolicies", total, len(n.probes), len(nps.Items)), passEv...)
}

// templatesOf returns the pods the workloads of a namespace describe
// (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs), as policies
// would see them: namespace, template labels and container ports.
func templatesOf(ctx context.Context, env *Env, ns string) ([]netpol.Pod, error) {
	var out []netpol.Pod
	add := func(kind, name string, t corev1.PodTemplateSpec) {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: kind + "/" + name + " (pod template)", Labels: t.Labels}, Spec: t.Spec}
		out = append(out, netpol.PodFrom(&p))
	}
	apps, batch := env.Kube.Typed.AppsV1(), env.Kube.Typed.BatchV1()
	ds, err := apps.Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, w := range ds.Items {
		add("deployment", w.Name, w.Spec.Template)
	}
	ss, err := apps.StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, w := range ss.Items {
		add("statefulset", w.Name, w.Spec.Template)
	}
	dss, err := apps.DaemonSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, w := range dss.Items {
		add("daemonset", w.Name, w.Spec.Template)
	}
	js, err := batch.Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, w := range js.Items {
		if len(w.OwnerReferences) == 0 { // a CronJob's jobs come from its template below
			add("job", w.Name, w.Spec.Template)
		}
	}
	cjs, err := batch.CronJobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, w := range cjs.Items {
		add("cronjob", w.Name, w.Spec.JobTemplate.Spec.Template)
	}
	return out, nil
}
