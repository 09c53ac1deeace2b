package existing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/ckslab/ckslab/engine/cluster"
)

// Labels on everything this backend creates, so Down (and a later Up)
// find and delete exactly that, and reset never mistakes it for the
// learner's.
const (
	// HelperNamespace holds the node-access pods.
	HelperNamespace = "ckslab-node-access"
	// ComponentLabel says which part of ckslab made an object.
	ComponentLabel = "ckslab.dev/component"
	componentNode  = "node-access"
	componentProbe = "capability-probe"
	// helperLifetime bounds a helper pod even when ckslab is killed
	// (SIGKILL, a lost laptop lid): the pod's own command ends and
	// activeDeadlineSeconds stops it; Up and Down delete what is left.
	helperLifetime = time.Hour
)

// DefaultHelperImage runs the node-access pods: only its nsenter and sleep
// are used (every command runs in the node's own namespaces, with the node's
// binaries). busybox:1.36 is preloaded on ckslab's offline kind node image.
const DefaultHelperImage = "docker.io/library/busybox:1.36"

// HelperImageEnv overrides DefaultHelperImage (a mirror in an air-gapped room).
const HelperImageEnv = "CKSLAB_CLUSTER_HELPER_IMAGE"

// managedLabels are the labels of every object this backend creates.
func managedLabels(component string) map[string]string {
	return map[string]string{cluster.ManagedByLabel: cluster.ManagedByValue, ComponentLabel: component}
}

// nodeEnter runs argv in the node's mount, UTS, IPC and network namespaces
// (the helper pod shares its PID namespace): the node's own files at their
// usual paths and its own binaries (crictl, kubeadm, systemctl). As on a
// kubeadm control plane in the exam (and in a kind node), kubectl there
// uses /etc/kubernetes/admin.conf when no KUBECONFIG is set and the node
// has that file.
func nodeEnter(argv ...string) []string {
	return append([]string{"nsenter", "--target", "1", "--mount", "--uts", "--ipc", "--net", "--", "sh", "-c", nodeEnv, "ckslab-node"}, argv...)
}

const nodeEnv = `if [ -z "${KUBECONFIG:-}" ] && [ -r /etc/kubernetes/admin.conf ]; then export KUBECONFIG=/etc/kubernetes/admin.conf; fi; exec "$@"`

// helperPod is the pod spec of a node-access pod pinned to node: what
// `kubectl debug node/NODE --profile=sysadmin` makes (privileged, host
// PID/network/IPC, the host's / at /host), tolerating every taint so
// control-plane nodes get one too.
func helperPod(node, image string) *corev1.Pod {
	t := true
	zero := int64(0)
	deadline := int64(helperLifetime / time.Second)
	name := "node-" + truncate(strings.ToLower(node), 40) + "-" + rand.String(5)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: HelperNamespace, Labels: managedLabels(componentNode),
			Annotations: map[string]string{"ckslab.dev/node": node}},
		Spec: corev1.PodSpec{
			NodeName:                      node,
			HostPID:                       true,
			HostNetwork:                   true,
			HostIPC:                       true,
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: &zero,
			ActiveDeadlineSeconds:         &deadline,
			AutomountServiceAccountToken:  new(bool),
			EnableServiceLinks:            new(bool),
			Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name:            "node",
				Image:           image,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Command:         []string{"sleep", fmt.Sprint(int64(helperLifetime / time.Second))},
				SecurityContext: &corev1.SecurityContext{Privileged: &t},
				VolumeMounts:    []corev1.VolumeMount{{Name: "host", MountPath: "/host"}},
				Stdin:           true,
				TTY:             false,
			}},
			Volumes: []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
		},
	}
}

func truncate(s string, n int) string {
	s = strings.Trim(strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			return r
		}
		return '-'
	}, s), "-")
	if len(s) > n {
		s = strings.TrimRight(s[:n], "-")
	}
	return s
}

// ensureNamespace creates the helper namespace (labelled, Pod Security
// "privileged" so admission lets the helper pods in) unless it exists.
func ensureNamespace(ctx context.Context, cs kubernetes.Interface) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: HelperNamespace, Labels: managedLabels(componentNode)}}
	ns.Labels["pod-security.kubernetes.io/enforce"] = "privileged"
	for {
		got, err := cs.CoreV1().Namespaces().Get(ctx, HelperNamespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
			if err == nil || apierrors.IsAlreadyExists(err) {
				return nil
			}
			return fmt.Errorf("create namespace %s for node-access pods: %w", HelperNamespace, err)
		}
		if err != nil {
			return fmt.Errorf("get namespace %s: %w", HelperNamespace, err)
		}
		if got.Labels[cluster.ManagedByLabel] != cluster.ManagedByValue {
			return fmt.Errorf("namespace %s exists but ckslab did not create it (no %s=%s label): ckslab will not put privileged pods there; delete or rename it", HelperNamespace, cluster.ManagedByLabel, cluster.ManagedByValue)
		}
		if got.DeletionTimestamp == nil {
			return nil
		}
		// A previous `cluster down` is still deleting it.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Helpers creates, reuses and deletes the node-access pods of one cluster
// for the lifetime of a ckslab process. Close deletes every pod it made.
type Helpers struct {
	cs    kubernetes.Interface
	cfg   *rest.Config
	image string
	exec  execFunc
	mu    sync.Mutex
	pods  map[string]string // node -> pod name in use
	// created is every pod this process made (Close deletes them all,
	// also one replaced after it stopped answering).
	created map[string]bool
	nsDone  bool
	// ready bounds how long a helper pod may take to run.
	ready time.Duration
}

// execFunc runs argv in a container of pod ns/pod and streams its IO.
type execFunc func(ctx context.Context, ns, pod, container string, argv []string, tty bool, in io.Reader, out, errOut io.Writer, size remotecommand.TerminalSizeQueue) error

// NewHelpers manages node-access pods with the clients of cfg.
func NewHelpers(cs kubernetes.Interface, cfg *rest.Config, image string) *Helpers {
	if image == "" {
		image = DefaultHelperImage
	}
	h := &Helpers{cs: cs, cfg: cfg, image: image, pods: map[string]string{}, created: map[string]bool{}, ready: 3 * time.Minute}
	h.exec = h.remoteExec
	return h
}

// pod returns the running helper pod of node, creating it when needed.
// The pod is created under the caller's ctx; when ctx ends before it runs
// (Ctrl-C) it is deleted at once with a fresh context.
func (h *Helpers) pod(ctx context.Context, node string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.pods[node]; ok {
		return p, nil
	}
	if !h.nsDone {
		if err := ensureNamespace(ctx, h.cs); err != nil {
			return "", err
		}
		h.nsDone = true
	}
	spec := helperPod(node, h.image)
	h.created[spec.Name] = true
	created, err := h.cs.CoreV1().Pods(HelperNamespace).Create(ctx, spec, metav1.CreateOptions{})
	if err != nil {
		if ctx.Err() != nil {
			// The request may have reached the server: make sure.
			h.deletePod(spec.Name)
		}
		return "", fmt.Errorf("create node-access pod on node %s: %w", node, err)
	}
	if err := h.waitRunning(ctx, created.Name); err != nil {
		h.deletePod(created.Name)
		return "", fmt.Errorf("node-access pod %s/%s on node %s: %w", HelperNamespace, created.Name, node, err)
	}
	h.pods[node] = created.Name
	return created.Name, nil
}

func (h *Helpers) waitRunning(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, h.ready)
	defer cancel()
	for {
		p, err := h.cs.CoreV1().Pods(HelperNamespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			switch p.Status.Phase {
			case corev1.PodRunning:
				return nil
			case corev1.PodFailed, corev1.PodSucceeded:
				return fmt.Errorf("ended (%s) before it could be used: %s", p.Status.Phase, podProblem(p))
			}
		}
		select {
		case <-ctx.Done():
			why := ctx.Err().Error()
			if p != nil {
				why = podProblem(p)
			}
			return fmt.Errorf("not running after %s: %s (image %s must be pullable on that node; set %s to a mirror)", h.ready, why, h.image, HelperImageEnv)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// podProblem says why a pod is not running, from its container statuses.
func podProblem(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason + ": " + w.Message
		}
		if t := cs.State.Terminated; t != nil {
			return fmt.Sprintf("exited %d (%s) %s", t.ExitCode, t.Reason, t.Message)
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			return c.Message
		}
	}
	return "phase " + string(p.Status.Phase)
}

// deletePod deletes a helper pod with a fresh context: it runs on the
// interrupted path, whose own context is already cancelled.
func (h *Helpers) deletePod(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	zero := int64(0)
	_ = h.cs.CoreV1().Pods(HelperNamespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
}

// Close deletes every helper pod this process made (with a fresh context,
// so it works after Ctrl-C) and waits until they are gone.
func (h *Helpers) Close(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	zero := int64(0)
	var errs []error
	for name := range h.created {
		err := h.cs.CoreV1().Pods(HelperNamespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete node-access pod %s/%s: %w (delete it with kubectl -n %s delete pod %s)", HelperNamespace, name, err, HelperNamespace, name))
			continue
		}
		delete(h.created, name)
	}
	h.pods = map[string]string{}
	return errors.Join(errs...)
}

// Exec runs argv in node's namespaces through its helper pod and returns
// combined output; a non-zero exit is a *cluster.ExitError. A helper pod
// that vanished (a reset, a learner's kubectl delete) is replaced once.
func (h *Helpers) Exec(ctx context.Context, node string, stdin io.Reader, argv []string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("exec on node %s: empty command", node)
	}
	for attempt := 0; ; attempt++ {
		pod, err := h.pod(ctx, node)
		if err != nil {
			return nil, err
		}
		out := &syncBuffer{}
		err = h.exec(ctx, HelperNamespace, pod, "node", nodeEnter(argv...), false, stdin, out, out, nil)
		if err == nil {
			return out.Bytes(), nil
		}
		if code := exitCode(err); code >= 0 {
			return out.Bytes(), &cluster.ExitError{Code: code, Output: out.Bytes()}
		}
		if attempt == 0 && stdin == nil && ctx.Err() == nil && h.gone(ctx, node, pod) {
			continue
		}
		if ctx.Err() != nil {
			return out.Bytes(), fmt.Errorf("exec on node %s: %w", node, ctx.Err())
		}
		return out.Bytes(), fmt.Errorf("exec on node %s through pod %s/%s: %w", node, HelperNamespace, pod, err)
	}
}

// gone forgets node's helper pod when it is certainly not usable any more
// (deleted, ended, being deleted), deleting what is left of it; while the
// API server does not answer (a control-plane lab restarts it) nothing is
// known, and the pod is kept.
func (h *Helpers) gone(ctx context.Context, node, pod string) bool {
	p, err := h.cs.CoreV1().Pods(HelperNamespace).Get(ctx, pod, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return false
	case p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil:
		return false
	default:
		h.deletePod(pod)
	}
	h.mu.Lock()
	delete(h.pods, node)
	h.mu.Unlock()
	return true
}

// fallBackToSPDY reports whether a WebSocket exec failed in a way SPDY may
// not: the API server (or a proxy) refused the upgrade. client-go's
// WebSocket transport returns k8s.io/streaming's UpgradeFailureError, which
// the deprecated k8s.io/apimachinery/pkg/util/httpstream copy does not match.
func fallBackToSPDY(err error) bool {
	return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
}

// remoteExec is execFunc over the API server's exec subresource: WebSocket
// first, SPDY when the server does not speak it (as kubectl does).
func (h *Helpers) remoteExec(ctx context.Context, ns, pod, container string, argv []string, tty bool, in io.Reader, out, errOut io.Writer, size remotecommand.TerminalSizeQueue) error {
	req := h.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: argv, Stdin: in != nil, Stdout: true, Stderr: !tty, TTY: tty}, scheme.ParameterCodec)
	cfg := rest.CopyConfig(h.cfg)
	cfg.Timeout = 0 // a shell or a long command streams as long as it runs
	spdy, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		return fmt.Errorf("exec executor: %w", err)
	}
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	if err != nil {
		return fmt.Errorf("exec executor: %w", err)
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, fallBackToSPDY)
	if err != nil {
		return fmt.Errorf("exec executor: %w", err)
	}
	opts := remotecommand.StreamOptions{Stdin: in, Stdout: out, Tty: tty, TerminalSizeQueue: size}
	if !tty {
		opts.Stderr = errOut
	}
	return ex.StreamWithContext(ctx, opts)
}

// exitCode is the remote command's exit status, or -1 when err is not one.
func exitCode(err error) int {
	var ce utilexec.CodeExitError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// syncBuffer is a bytes.Buffer that stdout and stderr, streamed by two
// goroutines, may both write (combined output, as kubectl shows it).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}

func (b *syncBuffer) String() string { return string(b.Bytes()) }
