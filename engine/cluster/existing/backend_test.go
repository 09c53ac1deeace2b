package existing

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/ckslab/ckslab/engine/cluster"
)

// learnerKubeconfig has two contexts, a relative certificate path and
// comments: everything a rewrite would change.
const learnerKubeconfig = `# my clusters, do not touch
apiVersion: v1
kind: Config
current-context: home
clusters:
- name: home
  cluster:
    server: https://home.example:6443
    certificate-authority: ca.crt
- name: class
  cluster:
    server: https://class.example:6443
    insecure-skip-tls-verify: true
contexts:
- name: home
  context: {cluster: home, user: me}
- name: class
  context: {cluster: class, user: student, namespace: lab}
users:
- name: me
  user: {token: home-token}
- name: student
  user: {token: class-token}
preferences: {}
`

func TestWriteCopyNeverTouchesTheUsersKubeconfig(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "config")
	if err := os.WriteFile(src, []byte(learnerKubeconfig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(src)
	dst := filepath.Join(dir, "state", "cluster", "c", "kubeconfig")
	for _, ctx := range []string{"", "class", "home"} {
		server, used, err := writeCopy(src, ctx, dst)
		if err != nil {
			t.Fatalf("context %q: %v", ctx, err)
		}
		want := map[string]string{"": "https://home.example:6443", "home": "https://home.example:6443", "class": "https://class.example:6443"}[ctx]
		if server != want {
			t.Errorf("context %q: server %s, want %s", ctx, server, want)
		}
		if ctx == "" && used != "home" {
			t.Errorf("default context %q, want the current context home", used)
		}
		cfg, err := clientcmd.LoadFromFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Contexts) != 1 || len(cfg.AuthInfos) != 1 || len(cfg.Clusters) != 1 {
			t.Errorf("context %q: the copy is not minified: %d contexts, %d users, %d clusters", ctx, len(cfg.Contexts), len(cfg.AuthInfos), len(cfg.Clusters))
		}
		if used == "home" && len(cfg.Clusters["home"].CertificateAuthorityData) == 0 {
			t.Errorf("the relative CA file was not embedded")
		}
		if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o600 {
			t.Errorf("copy mode %o, want 0600", fi.Mode().Perm())
		}
	}
	after, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, []byte(learnerKubeconfig)) {
		t.Fatalf("the user's kubeconfig changed:\n%s", after)
	}
	if fi, _ := os.Stat(src); fi.Mode() != before.Mode() || !fi.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the user's kubeconfig was rewritten (mode %v, mtime %v)", fi.Mode(), fi.ModTime())
	}
	if _, _, err := writeCopy(src, "nope", dst); err == nil || !strings.Contains(err.Error(), "contexts: class, home") {
		t.Fatalf("unknown context: %v", err)
	}
}

func TestAccessReport(t *testing.T) {
	refuse := map[string]bool{"escalate clusterroles.rbac.authorization.k8s.io cluster-wide": true,
		"create pods/exec in namespace " + HelperNamespace: true}
	rep, err := checkAccess(context.Background(), func(_ context.Context, p permission) (bool, string, error) {
		return !refuse[p.String()], "", nil
	}, required())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.missing) != 1 || len(rep.nodeAccess) != 1 {
		t.Fatalf("report %+v", rep)
	}
	e := rep.err("the user of context class")
	if e == nil || !strings.Contains(e.Error(), "escalate clusterroles") {
		t.Fatalf("error %v does not name the missing permission", e)
	}
	all, _ := checkAccess(context.Background(), func(context.Context, permission) (bool, string, error) { return true, "", nil }, required())
	if all.err("u") != nil || len(all.nodeAccess) != 0 {
		t.Fatalf("everything allowed but %+v", all)
	}
	if _, err := checkAccess(context.Background(), func(context.Context, permission) (bool, string, error) {
		return false, "", errors.New("forbidden: selfsubjectaccessreviews")
	}, required()); err == nil {
		t.Fatal("a failing review passed")
	}
}

// runningPods makes the fake API server report every created pod Running
// (after delay), as a kubelet would.
func runningPods(cs *fake.Clientset, delay time.Duration) {
	created := map[string]time.Time{}
	cs.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		name := a.(k8stesting.GetAction).GetName()
		obj, err := cs.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), a.GetNamespace(), name)
		if err != nil {
			return true, nil, err
		}
		p := obj.(*corev1.Pod).DeepCopy()
		if _, ok := created[name]; !ok {
			created[name] = time.Now()
		}
		if time.Since(created[name]) >= delay {
			p.Status.Phase = corev1.PodRunning
		}
		return true, p, nil
	})
}

func helperPods(t *testing.T, cs *fake.Clientset) []string {
	t.Helper()
	l, err := cs.CoreV1().Pods(HelperNamespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range l.Items {
		names = append(names, p.Name)
	}
	return names
}

func TestHelperPodDeletedOnInterrupt(t *testing.T) {
	cs := fake.NewClientset()
	runningPods(cs, time.Hour) // never runs: the user presses Ctrl-C while waiting
	h := NewHelpers(cs, &rest.Config{}, "")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(helperPods(t, cs)) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err := h.Exec(ctx, "cp", nil, []string{"true"})
	if err == nil {
		t.Fatal("exec succeeded without a running pod")
	}
	if left := helperPods(t, cs); len(left) != 0 {
		t.Fatalf("helper pods left after Ctrl-C: %v", left)
	}
}

func TestHelperPodsDeletedOnClose(t *testing.T) {
	cs := fake.NewClientset()
	runningPods(cs, 0)
	h := NewHelpers(cs, &rest.Config{}, "")
	var ran [][]string
	h.exec = func(_ context.Context, ns, pod, container string, argv []string, _ bool, _ io.Reader, out, _ io.Writer, _ remotecommand.TerminalSizeQueue) error {
		ran = append(ran, argv)
		_, _ = io.WriteString(out, "ok\n")
		return nil
	}
	for _, n := range []string{"cp", "w1", "cp"} {
		out, err := h.Exec(context.Background(), n, nil, []string{"cat", "/etc/hostname"})
		if err != nil || string(out) != "ok\n" {
			t.Fatalf("exec on %s: %q %v", n, out, err)
		}
	}
	pods := helperPods(t, cs)
	if len(pods) != 2 {
		t.Fatalf("want one reused pod per node, got %v", pods)
	}
	if got := strings.Join(ran[0], " "); got != "nsenter --target 1 --mount --uts --ipc --net -- sh -c "+nodeEnv+" ckslab-node cat /etc/hostname" {
		t.Fatalf("command %q does not enter the node's namespaces", got)
	}
	p, _ := cs.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), HelperNamespace, pods[0])
	spec := p.(*corev1.Pod).Spec
	if !spec.HostPID || !*spec.Containers[0].SecurityContext.Privileged || spec.NodeName == "" || spec.Volumes[0].HostPath.Path != "/" || spec.ActiveDeadlineSeconds == nil {
		t.Fatalf("helper pod is not a pinned, privileged, host-PID, self-expiring pod: %+v", spec)
	}
	if p.(*corev1.Pod).Labels[cluster.ManagedByLabel] != cluster.ManagedByValue {
		t.Fatal("helper pod not labelled")
	}
	// Close runs after Ctrl-C too: the caller's context is already cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left := helperPods(t, cs); len(left) != 0 {
		t.Fatalf("helper pods left after Close: %v", left)
	}
}

func TestHelperNamespaceMustBeOurs(t *testing.T) {
	cs := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: HelperNamespace}})
	h := NewHelpers(cs, &rest.Config{}, "")
	if _, err := h.Exec(context.Background(), "cp", nil, []string{"true"}); err == nil || !strings.Contains(err.Error(), "ckslab did not create it") {
		t.Fatalf("privileged pods put into a foreign namespace: %v", err)
	}
}

func TestDownDeletesOnlyWhatCkslabMade(t *testing.T) {
	ours := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: HelperNamespace, Labels: managedLabels(componentNode)}}
	probe := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ProbeNamespace, Labels: managedLabels(componentProbe)}}
	theirs := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "payments", Labels: map[string]string{"team": "a"}}}
	cs := fake.NewClientset(ours, probe, theirs)
	if err := deleteManaged(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
	l, _ := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	if len(l.Items) != 1 || l.Items[0].Name != "payments" {
		t.Fatalf("namespaces after down: %v", l.Items)
	}
}

// While the API server restarts (a control-plane lab), exec and get fail:
// the helper pod must be kept, not replaced by a new one each time (which
// leaked pods), and every pod ever made is deleted by Close.
func TestHelperPodNotReplacedWhileTheAPIServerIsDown(t *testing.T) {
	cs := fake.NewClientset()
	runningPods(cs, 0)
	h := NewHelpers(cs, &rest.Config{}, "")
	down := false
	h.exec = func(context.Context, string, string, string, []string, bool, io.Reader, io.Writer, io.Writer, remotecommand.TerminalSizeQueue) error {
		if down {
			return errors.New("error dialing backend: connection refused")
		}
		return nil
	}
	if _, err := h.Exec(context.Background(), "cp", nil, []string{"true"}); err != nil {
		t.Fatal(err)
	}
	down = true
	cs.PrependReactor("get", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if down {
			return true, nil, errors.New("connection refused")
		}
		return false, nil, nil
	})
	for i := 0; i < 3; i++ {
		if _, err := h.Exec(context.Background(), "cp", nil, []string{"true"}); err == nil {
			t.Fatal("exec succeeded while the API server is down")
		}
	}
	if pods := helperPods(t, cs); len(pods) != 1 {
		t.Fatalf("helper pods while the API server was down: %v", pods)
	}
	// The pod was deleted behind ckslab's back: it is replaced once.
	down = false
	old := helperPods(t, cs)[0]
	_ = cs.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("pods"), HelperNamespace, old)
	h.exec = func(_ context.Context, _, pod string, _ string, _ []string, _ bool, _ io.Reader, _, _ io.Writer, _ remotecommand.TerminalSizeQueue) error {
		if pod == old {
			return errors.New("pods \"" + old + "\" not found")
		}
		return nil
	}
	if _, err := h.Exec(context.Background(), "cp", nil, []string{"true"}); err != nil {
		t.Fatalf("not replaced: %v", err)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left := helperPods(t, cs); len(left) != 0 {
		t.Fatalf("left after Close: %v", left)
	}
}
