package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	osexec "os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/ops"
)

type connectivity struct{ spec *v1alpha1.ConnectivityCheck }

// ProbeTimeout is the connect timeout of a connectivity probe, in seconds.
const ProbeTimeout = 3

func (c connectivity) run(ctx context.Context, env *Env) outcome {
	if env.Cluster == nil || env.Kube == nil {
		return errored("no cluster is running (ckslab start <id>)")
	}
	var missing []string
	for _, cp := range []v1alpha1.Capability{v1alpha1.CapWorkloads, v1alpha1.CapNetpol} {
		if !env.Cluster.Capabilities.Has(cp) {
			missing = append(missing, string(cp))
		}
	}
	if len(missing) > 0 {
		return skipped(fmt.Sprintf("a real connection probe needs %s, which the %s backend lacks: run with --backend kind", strings.Join(missing, " and "), env.Cluster.Backend))
	}
	host, port, err := net.SplitHostPort(c.spec.To)
	if err != nil {
		return errored("connectivity target %q must be host:port", c.spec.To)
	}
	pods, err := env.Kube.Typed.CoreV1().Pods(c.spec.From.Namespace).List(ctx, metav1.ListOptions{LabelSelector: c.spec.From.Selector})
	if err != nil {
		return fromErr(env, "list source pods", err)
	}
	var pod *corev1.Pod
	for i := range pods.Items {
		if pods.Items[i].Status.Phase == corev1.PodRunning && pods.Items[i].DeletionTimestamp == nil {
			pod = &pods.Items[i]
			break
		}
	}
	if pod == nil {
		return errored("no running pod matches %s in namespace %s to probe from", c.spec.From.Selector, c.spec.From.Namespace)
	}
	from := pod.Namespace + "/" + pod.Name
	// nc tests the TCP handshake only; wget is the fallback for images without nc.
	script := fmt.Sprintf("if command -v nc >/dev/null 2>&1; then nc -z -w %d %s %s; else wget -q -T %d -O /dev/null http://%s:%s/; r=$?; [ $r -eq 8 ] && exit 0; exit $r; fi", ProbeTimeout, host, port, ProbeTimeout, host, port)
	code, out, err := execInPod(ctx, env, pod, []string{"sh", "-c", script})
	if err != nil {
		return errored("exec into %s: %s", from, sentence(err.Error()))
	}
	if code == 127 {
		return errored("pod %s has neither nc nor wget to probe with", from)
	}
	got := "blocked"
	if code == 0 {
		got = "allowed"
	}
	ev := []string{"found: " + got + " (probe exit " + fmt.Sprint(code) + ")", "expected: " + c.spec.Expect}
	if s := strings.TrimSpace(out); s != "" {
		ev = append(ev, "output: "+truncate(s, 200))
	}
	if got == c.spec.Expect {
		return passed(fmt.Sprintf("%s -> %s is %s", from, c.spec.To, got), ev...)
	}
	return failed(fmt.Sprintf("%s -> %s is %s; expected %s", from, c.spec.To, got, c.spec.Expect), ev...)
}

// execInPod runs argv in the pod's first container through kubectl exec
// (the lab kubeconfig only), so no streaming client is linked in.
func execInPod(ctx context.Context, env *Env, pod *corev1.Pod, argv []string) (int, string, error) {
	bin, err := osexec.LookPath("kubectl")
	if err != nil {
		return 0, "", errors.New("kubectl is not in PATH; it is needed to exec into pods")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(ProbeTimeout+15)*time.Second)
	defer cancel()
	args := append([]string{"exec", "-n", pod.Namespace, pod.Name, "-c", pod.Spec.Containers[0].Name, "--"}, argv...)
	cmd := osexec.CommandContext(ctx, bin, args...)
	cmd.Env = ops.LabEnviron(env.Kube.Kubeconfig)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	var ee *osexec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		// kubectl exec exits with the remote command's code.
		if strings.Contains(buf.String(), "error:") && ee.ExitCode() == 1 {
			return 0, buf.String(), errors.New(strings.TrimSpace(buf.String()))
		}
		return ee.ExitCode(), buf.String(), nil
	}
	if err != nil {
		return 0, buf.String(), err
	}
	return 0, buf.String(), nil
}
