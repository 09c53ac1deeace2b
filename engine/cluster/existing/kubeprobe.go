package existing

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ProbeNamespace holds the capability probes' pods while they run.
const ProbeNamespace = "ckslab-probe"

// kubeProber is the prober of a real cluster.
type kubeProber struct {
	cs    kubernetes.Interface
	h     *Helpers
	image string
	// wait bounds each probe step.
	wait time.Duration
	poll time.Duration
}

func (k *kubeProber) nodes(ctx context.Context) ([]nodeInfo, error) {
	l, err := k.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var out []nodeInfo
	for _, n := range l.Items {
		_, cp := n.Labels["node-role.kubernetes.io/control-plane"]
		out = append(out, nodeInfo{name: n.Name, controlPlane: cp})
	}
	return out, nil
}

func (k *kubeProber) nodeExec(ctx context.Context, node string, argv ...string) ([]byte, error) {
	return k.h.Exec(ctx, node, nil, argv)
}

func (k *kubeProber) serves(ctx context.Context, gv, resource string) bool {
	l, err := k.cs.Discovery().ServerResourcesForGroupVersion(gv)
	if err != nil {
		return false
	}
	for _, r := range l.APIResources {
		if r.Name == resource {
			return true
		}
	}
	return false
}

func (k *kubeProber) runtimeClasses(ctx context.Context) ([]runtimeClass, error) {
	l, err := k.cs.NodeV1().RuntimeClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []runtimeClass
	for _, rc := range l.Items {
		out = append(out, runtimeClass{name: rc.Name, handler: rc.Handler})
	}
	return out, nil
}

// probeNamespace creates ProbeNamespace (labelled) and returns a function
// deleting it with a fresh context, for the interrupted path too.
func (k *kubeProber) probeNamespace(ctx context.Context) (func(), error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ProbeNamespace, Labels: managedLabels(componentProbe)}}
	for {
		_, err := k.cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create namespace %s for the capability probes: %w", ProbeNamespace, err)
		}
		got, gerr := k.cs.CoreV1().Namespaces().Get(ctx, ProbeNamespace, metav1.GetOptions{})
		if gerr == nil && got.Labels[ComponentLabel] != componentProbe {
			return nil, fmt.Errorf("namespace %s exists but ckslab did not create it: delete or rename it", ProbeNamespace)
		}
		if gerr == nil && got.DeletionTimestamp == nil {
			// A probe killed before its cleanup: start afresh.
			_ = k.cs.CoreV1().Namespaces().Delete(ctx, ProbeNamespace, metav1.DeleteOptions{})
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return func() {
		cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = k.cs.CoreV1().Namespaces().Delete(cctx, ProbeNamespace, metav1.DeleteOptions{})
	}, nil
}

func (k *kubeProber) probePod(name string, labels map[string]string, command ...string) *corev1.Pod {
	zero := int64(0)
	l := managedLabels(componentProbe)
	for a, b := range labels {
		l[a] = b
	}
	f := false
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ProbeNamespace, Labels: l},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: &zero,
			AutomountServiceAccountToken:  &f,
			Containers:                    []corev1.Container{{Name: "probe", Image: k.image, ImagePullPolicy: corev1.PullIfNotPresent, Command: command}},
		},
	}
}

// waitPod waits until pod name reaches a phase in want.
func (k *kubeProber) waitPod(ctx context.Context, name string, want ...corev1.PodPhase) (*corev1.Pod, error) {
	ctx, cancel := context.WithTimeout(ctx, k.wait)
	defer cancel()
	var last *corev1.Pod
	for {
		p, err := k.cs.CoreV1().Pods(ProbeNamespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			last = p
			for _, w := range want {
				if p.Status.Phase == w {
					return p, nil
				}
			}
			if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
				return p, fmt.Errorf("pod %s ended (%s): %s", name, p.Status.Phase, podProblem(p))
			}
		}
		select {
		case <-ctx.Done():
			why := ctx.Err().Error()
			if last != nil {
				why = podProblem(last)
			}
			return last, fmt.Errorf("pod %s not %s after %s: %s", name, want[0], k.wait, why)
		case <-time.After(k.poll):
		}
	}
}

func (k *kubeProber) netpol(ctx context.Context) (podsRan, enforced bool, detail string, err error) {
	cleanup, err := k.probeNamespace(ctx)
	if err != nil {
		return false, false, "", err
	}
	defer cleanup()
	pods := k.cs.CoreV1().Pods(ProbeNamespace)
	server := k.probePod("server", map[string]string{"app": "server"}, "sh", "-c", "mkdir -p /www && echo ckslab-probe >/www/index.html && exec httpd -f -p 8080 -h /www")
	client := k.probePod("client", map[string]string{"app": "client"}, "sleep", "600")
	for _, p := range []*corev1.Pod{server, client} {
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return false, false, "", fmt.Errorf("create probe pod %s: %w", p.Name, err)
		}
	}
	srv, err := k.waitPod(ctx, "server", corev1.PodRunning)
	if err != nil {
		return false, false, "", err
	}
	if _, err := k.waitPod(ctx, "client", corev1.PodRunning); err != nil {
		return false, false, "", err
	}
	ip := srv.Status.PodIP
	try := func() reach {
		// An HTTP request through nc: only the server's own answer counts
		// as open (busybox's nc has no -z and exits 0 whatever happens;
		// its wget may crash).
		out := &syncBuffer{}
		err := k.h.exec(ctx, ProbeNamespace, "client", "probe",
			[]string{"sh", "-c", `printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 nc -w 2 "$0" 8080`, ip}, false, nil, out, out, nil)
		return classify(out.String(), err)
	}
	policies := k.cs.NetworkingV1().NetworkPolicies(ProbeNamespace)
	deny := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-server", Namespace: ProbeNamespace, Labels: managedLabels(componentProbe)},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "server"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
	}
	// Half the pod wait per phase: Calico blocks within seconds, kube-router within ~20 s.
	steps := netpolSteps{
		try:   try,
		deny:  func() error { _, err := policies.Create(ctx, deny, metav1.CreateOptions{}); return err },
		allow: func() error { return policies.Delete(ctx, deny.Name, metav1.DeleteOptions{}) },
		wait:  k.wait / 2,
		poll:  k.poll,
		sleep: func(d time.Duration) bool {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(d):
				return true
			}
		},
	}
	enforced, detail, err = steps.run(fmt.Sprintf("%s:8080", ip))
	return true, enforced, detail, err
}

func (k *kubeProber) runWith(ctx context.Context, rc string) (string, error) {
	cleanup, err := k.probeNamespace(ctx)
	if err != nil {
		return "", err
	}
	defer cleanup()
	p := k.probePod("gvisor", nil, "dmesg")
	p.Spec.RuntimeClassName = &rc
	if _, err := k.cs.CoreV1().Pods(ProbeNamespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("create a pod with RuntimeClass %s: %w", rc, err)
	}
	if _, err := k.waitPod(ctx, "gvisor", corev1.PodSucceeded); err != nil {
		return "", err
	}
	logs, err := k.cs.CoreV1().Pods(ProbeNamespace).GetLogs("gvisor", &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("read the probe pod's log: %w", err)
	}
	return string(logs), nil
}
