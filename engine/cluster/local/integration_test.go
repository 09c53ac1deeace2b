package local

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/cluster"
)

// TestMain doubles as the supervisor process: Up re-executes the test
// binary with CKSLAB_TEST_SUPERVISOR=<nodeDir>, like `ckslab __supervise`.
func TestMain(m *testing.M) {
	if dir := os.Getenv("CKSLAB_TEST_SUPERVISOR"); dir != "" {
		if err := RunSupervisor(context.Background(), dir); err != nil {
			fmt.Fprintln(os.Stderr, "supervisor:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// integrationBackend returns a backend using cached binaries only (no
// download or build in tests), or skips when they are absent.
func integrationBackend(tb testing.TB, extra ...Option) *Backend {
	tb.Helper()
	opts := []Option{
		WithStateDir(tb.TempDir()),
		// Cold bootstraps unless a test asks for templates (in its own dir).
		WithBootstrapTemplates(false, ""),
		WithDownloadURLs("", ""),
		WithBuildFallback(false),
		WithReadyTimeout(90 * time.Second),
		WithSupervisorCommand(func(nodeDir string) *exec.Cmd {
			c := exec.Command(os.Args[0])
			c.Env = append(os.Environ(), "CKSLAB_TEST_SUPERVISOR="+nodeDir)
			// A killed or timed-out test binary takes its clusters with it.
			c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
			return c
		}),
	}
	b, err := New(append(opts, extra...)...)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := newResolver(&b.opts).Resolve(context.Background()); err != nil {
		if os.Getenv("CKSLAB_REQUIRE_CLUSTER") != "" {
			tb.Fatalf("local control-plane binaries not available (CKSLAB_REQUIRE_CLUSTER is set): %v", err)
		}
		tb.Skipf("local control-plane binaries not available, skipping integration test: %v", err)
	}
	return b
}

func clientFor(tb testing.TB, c *cluster.Cluster) *kubernetes.Clientset {
	tb.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		tb.Fatal(err)
	}
	rc.Timeout = 15 * time.Second
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		tb.Fatal(err)
	}
	return cs
}

// editManifest changes a static pod manifest through the node, as a
// learner editing /etc/kubernetes/manifests/<name>.yaml would.
func editManifest(t *testing.T, ctx context.Context, n cluster.Node, name string, edit func(p *corev1.Pod)) []byte {
	t.Helper()
	path := manifestsPath + "/" + name + ".yaml"
	orig, err := n.ReadFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := yaml.Unmarshal(orig, &pod); err != nil {
		t.Fatal(err)
	}
	edit(&pod)
	out, err := yaml.Marshal(&pod)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.WriteFile(ctx, path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return orig
}

func addHostPath(p *corev1.Pod, name, path string, t corev1.HostPathType, ro bool) {
	p.Spec.Volumes = append(p.Spec.Volumes, hostPathVolume(name, path, t))
	p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, mount(name, path, ro))
}

// waitSA creates a namespace and requires its default ServiceAccount within
// 10 s: the controller-manager leads and its informers run.
func waitSA(t *testing.T, ctx context.Context, c *cluster.Cluster, ns string) {
	t.Helper()
	cs := clientFor(t, c)
	start := time.Now()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no default ServiceAccount in new namespace %s after 10s: the controller-manager is not running its controllers", ns)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("namespace %s: default ServiceAccount after %s", ns, time.Since(start).Round(time.Millisecond))
}

func TestLocalCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test starts a real control plane")
	}
	b := integrationBackend(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var steps []string
	start := time.Now()
	c, err := b.Up(ctx, cluster.Spec{Name: "itest"}, func(s cluster.Step) {
		mu.Lock()
		defer mu.Unlock()
		if s.Done {
			steps = append(steps, s.ID)
			t.Logf("%6s %s done", time.Since(start).Round(time.Millisecond), s.ID)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold up to readyz + default ServiceAccount: %s", time.Since(start))
	nodeDir := b.NodeDir("itest")
	downed := false
	t.Cleanup(func() {
		if !downed {
			_ = b.Down(context.Background(), "itest")
		}
	})

	t.Run("up", func(t *testing.T) {
		mu.Lock()
		got := append([]string(nil), steps...)
		mu.Unlock()
		want := []string{"binaries", "certs", "etcd", "kube-apiserver", "kube-controller-manager", "ready"}
		if !slices.Equal(got, want) {
			t.Errorf("steps %v, want %v", got, want)
		}
		cs := clientFor(t, c)
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil || string(body) != "ok" {
			t.Fatalf("/readyz = %q, %v", body, err)
		}
		// The processes read like a kubeadm node's in `ps`: manifest name,
		// and exam paths when they run in the node's mount namespace.
		st, err := readState(nodeDir)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.Components[compAPI].PID))
		if err != nil {
			t.Fatal(err)
		}
		argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		wantCA := "--client-ca-file=" + filepath.Join(nodeDir, "etc", "kubernetes", "pki", "ca.crt")
		if mode, note := newNode(nodeDir).detect(ctx); mode != modeFallback {
			wantCA = "--client-ca-file=/etc/kubernetes/pki/ca.crt"
		} else {
			t.Logf("components run on the host: %s", note)
		}
		if argv[0] != "kube-apiserver" || !slices.Contains(argv, wantCA) {
			t.Errorf("kube-apiserver process argv %q, want argv[0] kube-apiserver and %s", argv, wantCA)
		}
		for _, f := range []string{c.Kubeconfig, filepath.Join(nodeDir, "etc", "kubernetes", "admin.conf"), filepath.Join(nodeDir, "etc", "kubernetes", "pki", "ca.key")} {
			fi, err := os.Stat(f)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, %v; want 0600", f, fi.Mode().Perm(), err)
			}
		}
		if fi, err := os.Stat(nodeDir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("node dir mode %v, %v", fi.Mode().Perm(), err)
		}
		// Up again reuses the running cluster.
		again := time.Now()
		if _, err := b.Up(ctx, cluster.Spec{Name: "itest"}, nil); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(again); d > 3*time.Second {
			t.Errorf("reusing a running cluster took %s", d)
		}
		if _, err := b.Get(ctx, "itest"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("components and node", func(t *testing.T) {
		st, err := c.Components.Component(ctx, compAPI)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Running || !st.Ready || !slices.Contains(st.Args, "--authorization-mode=Node,RBAC") || !slices.Contains(st.Args, "--client-ca-file=/etc/kubernetes/pki/ca.crt") {
			t.Fatalf("apiserver state %+v", st)
		}
		n, err := c.Node("")
		if err != nil {
			t.Fatal(err)
		}
		out, err := n.Exec(ctx, nil, "sh", "-c", "hostname; grep -c -- --allow-privileged=true /etc/kubernetes/manifests/kube-apiserver.yaml; ls /var/lib/etcd; test -f /var/log/pods/kube-apiserver.log && echo logs")
		if err != nil {
			t.Fatalf("exec: %v: %s", err, out)
		}
		if got := string(out); !strings.Contains(got, "controlplane\n1\nmember\nlogs") {
			t.Errorf("node view: %q", got)
		}
		sh, err := n.(cluster.Shell).ShellCommand(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var shOut strings.Builder
		sh.SetIO(strings.NewReader("hostname; ls /etc/kubernetes/manifests; exit\n"), &shOut, &shOut)
		if err := sh.Run(); err != nil {
			t.Fatalf("shell: %v: %s", err, shOut.String())
		}
		if got := shOut.String(); !strings.Contains(got, "controlplane $ ") || !strings.Contains(got, "kube-apiserver.yaml") {
			t.Errorf("shell session: %q", got)
		}
		_, err = n.Exec(ctx, nil, "sh", "-c", "exit 3")
		if ee := (*cluster.ExitError)(nil); !errors.As(err, &ee) || ee.Code != 3 {
			t.Errorf("exit code: %v", err)
		}
	})

	t.Run("pod security rejects a privileged pod", func(t *testing.T) {
		cs := clientFor(t, c)
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "restricted", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		priv := true
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "priv"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "c", Image: "nginx", SecurityContext: &corev1.SecurityContext{Privileged: &priv},
			}}},
		}
		_, err := cs.CoreV1().Pods("restricted").Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity") {
			t.Fatalf("privileged pod: %v, want Forbidden by PodSecurity", err)
		}
	})

	n, _ := c.Node(nodeName)

	t.Run("audit logging via the apiserver manifest", func(t *testing.T) {
		policy := "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"
		if err := n.WriteFile(ctx, "/etc/kubernetes/audit/policy.yaml", []byte(policy), 0o600); err != nil {
			t.Fatal(err)
		}
		restarted := time.Now()
		editManifest(t, ctx, n, compAPI, func(p *corev1.Pod) {
			p.Spec.Containers[0].Command = append(p.Spec.Containers[0].Command,
				"--audit-policy-file=/etc/kubernetes/audit/policy.yaml",
				"--audit-log-path=/var/log/kubernetes/audit/audit.log",
				"--audit-log-maxage=30")
			addHostPath(p, "audit", "/etc/kubernetes/audit/policy.yaml", corev1.HostPathFile, true)
			addHostPath(p, "audit-log", "/var/log/kubernetes/audit/", corev1.HostPathDirectoryOrCreate, false)
		})
		if err := c.Components.WaitHealthy(ctx, compAPI, 90*time.Second); err != nil {
			t.Fatal(err)
		}
		t.Logf("apiserver restart with audit: %s", time.Since(restarted))
		st, _ := c.Components.Component(ctx, compAPI)
		if !slices.Contains(st.Args, "--audit-log-path=/var/log/kubernetes/audit/audit.log") {
			t.Fatalf("args do not carry the audit flag: %v", st.Args)
		}
		cs := clientFor(t, c)
		if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "audited"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			log, err := n.ReadFile(ctx, "/var/log/kubernetes/audit/audit.log")
			if err == nil && strings.Contains(string(log), `"kind":"Event"`) && strings.Contains(string(log), `"name":"audited"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("audit log has no event for the configmap: %v %.300s", err, log)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("encryption at rest", func(t *testing.T) {
		key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
		enc := "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: key1\n        secret: " + key + "\n  - identity: {}\n"
		if err := n.WriteFile(ctx, "/etc/kubernetes/enc/enc.yaml", []byte(enc), 0o600); err != nil {
			t.Fatal(err)
		}
		editManifest(t, ctx, n, compAPI, func(p *corev1.Pod) {
			p.Spec.Containers[0].Command = append(p.Spec.Containers[0].Command, "--encryption-provider-config=/etc/kubernetes/enc/enc.yaml")
			addHostPath(p, "enc", "/etc/kubernetes/enc", corev1.HostPathDirectoryOrCreate, true)
		})
		if err := c.Components.WaitHealthy(ctx, compAPI, 90*time.Second); err != nil {
			t.Fatal(err)
		}
		cs := clientFor(t, c)
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "enc-test"}, StringData: map[string]string{"k": "v"}}
		if _, err := cs.CoreV1().Secrets("default").Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		raw, err := c.Etcd.Get(ctx, "/registry/secrets/default/enc-test")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(raw), "k8s:enc:aescbc:v1:") {
			t.Fatalf("raw etcd value starts with %q", raw[:min(len(raw), 30)])
		}
	})

	t.Run("broken flag then restore", func(t *testing.T) {
		orig := editManifest(t, ctx, n, compAPI, func(p *corev1.Pod) {
			p.Spec.Containers[0].Command = append(p.Spec.Containers[0].Command, "--this-flag-does-not-exist=true")
		})
		var last cluster.ComponentState
		deadline := time.Now().Add(60 * time.Second)
		for {
			st, err := b.Status(ctx, "itest")
			if err != nil {
				t.Fatal(err)
			}
			for _, cst := range st.Components {
				if cst.Name == compAPI {
					last = cst
				}
			}
			if last.Restarts > 0 && !last.Running && last.LastError != "" && strings.Contains(strings.Join(last.LogTail, "\n"), "unknown flag: --this-flag-does-not-exist") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("status never showed the crash: %+v", last)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("status: %s; tail: %s", last.LastError, last.LogTail[len(last.LogTail)-1])
		if _, err := clientFor(t, c).Discovery().ServerVersion(); err == nil {
			t.Fatal("API still answers with a broken apiserver manifest")
		}
		if err := n.WriteFile(ctx, manifestsPath+"/"+compAPI+".yaml", orig, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := c.Components.WaitHealthy(ctx, compAPI, 90*time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := clientFor(t, c).Discovery().ServerVersion(); err != nil {
			t.Fatal(err)
		}
		// The controller-manager is restarted after the apiserver came back
		// (as its lost leader lease would on kubeadm) and works at once.
		waitSA(t, ctx, c, "after-apiserver-restart")
		st, err := readState(nodeDir)
		if err != nil {
			t.Fatal(err)
		}
		if r := st.Components[compKCM].Restarts; r == 0 {
			t.Errorf("kube-controller-manager restarts = %d after the apiserver restarts", r)
		}
	})

	t.Run("controllers resume at once after a controller-manager manifest edit", func(t *testing.T) {
		editManifest(t, ctx, n, compKCM, func(p *corev1.Pod) {
			p.Spec.Containers[0].Command = append(p.Spec.Containers[0].Command, "--terminated-pod-gc-threshold=100")
		})
		if err := c.Components.WaitHealthy(ctx, compKCM, 60*time.Second); err != nil {
			t.Fatal(err)
		}
		// The stopped controller-manager's lease is released before the new
		// one starts; otherwise it would wait out the 15 s lease duration.
		waitSA(t, ctx, c, "after-kcm-edit")
	})

	t.Run("supervisor killed: children die, Up resumes with the node's state", func(t *testing.T) {
		st, err := readState(nodeDir)
		if err != nil {
			t.Fatal(err)
		}
		pids := []int{st.PID}
		for _, cs := range st.Components {
			pids = append(pids, cs.PID)
		}
		if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Pdeathsig must take the components down with their "kubelet".
		deadline := time.Now().Add(10 * time.Second)
		for len(markedPIDs([]byte(nodeDirEnv+"="+nodeDir+"\x00"))) > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		assertGone(t, pids, nodeDir)
		for deadline := time.Now().Add(5 * time.Second); ; {
			_, err := b.Get(ctx, "itest")
			if errors.Is(err, cluster.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				holders, _ := exec.Command("sh", "-c", "for p in /proc/[0-9]*; do ls -l $p/fd 2>/dev/null | grep -q "+nodeDir+"/.ckslab/supervisor.lock && echo $p $(cat $p/cmdline | tr '\\0' ' '); done").CombinedOutput()
				t.Fatalf("Get of a stopped cluster: %v, want ErrNotFound; lock holders:\n%s", err, holders)
			}
			time.Sleep(50 * time.Millisecond)
		}
		resumed := time.Now()
		c2, err := b.Up(ctx, cluster.Spec{Name: "itest"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("resume: %s", time.Since(resumed))
		// The learner's edits survive: secrets are still encrypted.
		raw, err := c2.Etcd.Get(ctx, "/registry/secrets/default/enc-test")
		if err != nil || !strings.HasPrefix(string(raw), "k8s:enc:aescbc:v1:") {
			t.Fatalf("after resume: %.30q, %v", raw, err)
		}
	})

	t.Run("down leaves no process", func(t *testing.T) {
		st, err := readState(nodeDir)
		if err != nil {
			t.Fatal(err)
		}
		pids := []int{st.PID}
		for _, cs := range st.Components {
			if cs.PID > 0 {
				pids = append(pids, cs.PID)
			}
		}
		if len(pids) != 4 {
			t.Fatalf("want supervisor + 3 component pids, got %v", pids)
		}
		supLog, _ := os.ReadFile(supervisorLog(nodeDir))
		stopStart := time.Now()
		if err := b.Down(ctx, "itest"); err != nil {
			t.Fatal(err)
		}
		downed = true
		t.Logf("down: %s", time.Since(stopStart))
		if os.Getenv("CKSLAB_TEST_SHOW_SUPERVISOR_LOG") != "" {
			t.Logf("supervisor log:\n%s", supLog)
		}
		assertGone(t, pids, nodeDir)
		if _, err := os.Stat(nodeDir); !os.IsNotExist(err) {
			t.Fatalf("node dir still exists: %v", err)
		}
		if _, err := b.Get(ctx, "itest"); err == nil {
			t.Fatal("Get after Down succeeded")
		}
	})
}

// assertGone checks /proc: none of pids may be alive (zombies count as
// gone) and no process may carry the node dir marker. A SIGKILLed process
// takes a moment to finish exiting, so it polls briefly.
func assertGone(t *testing.T, pids []int, nodeDir string) {
	t.Helper()
	alive := func() []string {
		var out []string
		for _, pid := range pids {
			stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			if err != nil {
				continue
			}
			if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 0 && f[0] != "Z" {
				out = append(out, string(stat[:strings.LastIndexByte(string(stat), ')')+3]))
			}
		}
		for _, pid := range markedPIDs([]byte(nodeDirEnv + "=" + nodeDir + "\x00")) {
			out = append(out, fmt.Sprintf("%d (marked with %s)", pid, nodeDir))
		}
		return out
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := alive()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes still alive: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestUpCancelledLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test starts a real control plane")
	}
	b := integrationBackend(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel like Ctrl-C once etcd is up and the apiserver is starting.
	_, err := b.Up(ctx, cluster.Spec{Name: "cancelled"}, func(s cluster.Step) {
		if s.ID == compEtcd && s.Done {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("Up succeeded despite cancellation")
	}
	nodeDir := b.NodeDir("cancelled")
	assertGone(t, nil, nodeDir)
	if _, err := os.Stat(nodeDir); !os.IsNotExist(err) {
		t.Fatalf("node dir left behind: %v", err)
	}
}

// BenchmarkColdUp measures Up of a new cluster (fresh certificates, new
// etcd member) with cached binaries until /readyz, the default
// ServiceAccount and kube-root-ca.crt holding the new CA; Down is untimed.
// Each iteration runs a pair, alternating which goes first: "cold" bootstraps
// an empty etcd, "template" restores the bootstrap template (saved once,
// untimed, before the loop). Run: make bench, or
// go test ./engine/cluster/local -run '^$' -bench ColdUp -benchtime 5x
func BenchmarkColdUp(b *testing.B) {
	cold := integrationBackend(b)
	tmpl := integrationBackend(b, WithBootstrapTemplates(true, b.TempDir()))
	ctx := context.Background()
	up := func(be *Backend, name string) time.Duration {
		start := time.Now()
		if _, err := be.Up(ctx, cluster.Spec{Name: name}, nil); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if err := be.Down(ctx, name); err != nil {
			b.Fatal(err)
		}
		return d
	}
	b.StopTimer()
	up(tmpl, "seed") // the one cold bootstrap that saves the template
	var cds, tds []time.Duration
	for i := 0; i < b.N; i++ {
		b.StartTimer()
		if i%2 == 0 {
			cds = append(cds, up(cold, fmt.Sprintf("cold%d", i)))
			tds = append(tds, up(tmpl, fmt.Sprintf("tmpl%d", i)))
		} else {
			tds = append(tds, up(tmpl, fmt.Sprintf("tmpl%d", i)))
			cds = append(cds, up(cold, fmt.Sprintf("cold%d", i)))
		}
		b.StopTimer()
	}
	median := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	if b.N > 0 {
		mc, mt := median(cds), median(tds)
		b.ReportMetric(mc.Seconds(), "cold-median-s")
		b.ReportMetric(mt.Seconds(), "template-median-s")
		b.ReportMetric(mt.Seconds()/mc.Seconds(), "template/cold")
		b.Logf("cold up durations (empty etcd): %v", cds)
		b.Logf("cold up durations (bootstrap template): %v", tds)
	}
}
