package local

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/gofrs/flock"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ckslab/ckslab/engine/fsutil"
)

const (
	// stopGrace is how long a component gets between SIGTERM and SIGKILL,
	// like a pod's terminationGracePeriod; kube-apiserver drains slowly.
	stopGrace = 10 * time.Second
	// resyncEvery re-reads the manifests even without fsnotify events, in
	// case an event was lost or the directory itself was replaced.
	resyncEvery = 2 * time.Second
	debounce    = 150 * time.Millisecond
	maxBackoff  = 10 * time.Second
	logTailSize = 25
	// kcmStartHold bounds how long the supervisor's first start of
	// kube-controller-manager waits for kube-apiserver to be ready.
	kcmStartHold = 20 * time.Second
	// nodeDirEnv marks every process of a cluster so Down can find
	// leftovers in /proc even if the supervisor was SIGKILLed.
	nodeDirEnv = "CKSLAB_NODE_DIR"
)

// RunSupervisor is the local cluster's kubelet: it runs the static pods in
// <nodeDir>/etc/kubernetes/manifests as host processes until ctx ends or the
// process receives SIGTERM/SIGINT, then stops them all. It refuses to run
// when another supervisor holds the cluster's lock.
func RunSupervisor(ctx context.Context, nodeDir string) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// Detached from any terminal; a hangup must not take the cluster down.
	signal.Ignore(syscall.SIGHUP)

	cfg, err := readNodeConfig(nodeDir)
	if err != nil {
		return fmt.Errorf("read cluster config in %s: %w", nodeDir, err)
	}
	lock := flock.New(lockFile(nodeDir))
	ok, err := lock.TryLock()
	if err != nil {
		return fmt.Errorf("lock %s: %w", lockFile(nodeDir), err)
	}
	if !ok {
		pid, _ := os.ReadFile(pidFile(nodeDir))
		return fmt.Errorf("another supervisor (pid %s) already runs cluster %s", strings.TrimSpace(string(pid)), cfg.Name)
	}
	defer lock.Unlock()
	if err := fsutil.WriteFileAtomic(pidFile(nodeDir), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pidFile(nodeDir))

	s := &supervisor{
		nodeDir: nodeDir,
		cfg:     cfg,
		workers: map[string]*podWorker{},
		state: supervisorState{
			PID:        os.Getpid(),
			StartedAt:  time.Now(),
			Components: map[string]*componentStatus{},
		},
		dirty: make(chan struct{}, 1),
	}
	s.probeTLS = s.loadProbeTLS()
	// Components run in the node's mount namespace where one can be made,
	// so their command lines read as on a kubeadm node.
	s.node = newNode(nodeDir)
	var note string
	s.nsMode, note = s.node.detect(ctx)
	if os.Getenv("CKSLAB_COMPONENTS_ON_HOST") == "1" {
		s.nsMode, note = modeFallback, "CKSLAB_COMPONENTS_ON_HOST=1"
	}
	if s.nsMode == modeFallback {
		s.logf("components run on the host with node-dir paths in their flags: %s", note)
	}
	return s.run(ctx)
}

type supervisor struct {
	nodeDir  string
	cfg      *nodeConfig
	probeTLS *tls.Config
	node     *node
	nsMode   execMode

	mu      sync.Mutex
	workers map[string]*podWorker
	state   supervisorState
	dirty   chan struct{}
	wg      sync.WaitGroup
	// apiStarts counts kube-apiserver processes started (under mu).
	apiStarts int
	// started is set after the first resync: only workers created by it
	// (the cold start of the whole node) hold kube-controller-manager
	// back until kube-apiserver is ready.
	started bool
}

// podWorker owns one component's process; the supervisor hands it the
// latest manifest content through desired+notify.
type podWorker struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
	notify chan struct{}
	// restart asks for a restart of the running process (see
	// restartControllerManager).
	restart chan struct{}
	mu      sync.Mutex
	desired []byte
	hash    string
	// holdForAPI: start only once kube-apiserver is ready (see holdForAPI).
	holdForAPI bool
}

func (w *podWorker) latest() ([]byte, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.desired, w.hash
}

func (s *supervisor) run(ctx context.Context) error {
	manifestsDir := hostPathOf(s.nodeDir, manifestsPath)
	if err := os.MkdirAll(manifestsDir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", manifestsDir, err)
	}
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch manifests: %w%s", err, inotifyHint(err))
	}
	defer watcher.Close()
	watched := false
	ensureWatch := func() {
		if !watched {
			watched = watcher.Add(manifestsDir) == nil
		}
	}
	ensureWatch()

	stateDone := make(chan struct{})
	go s.stateWriter(ctx, stateDone)

	workerCtx, cancelWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWorkers()
	s.resync(workerCtx)
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	ticker := time.NewTicker(resyncEvery)
	defer ticker.Stop()
	var debounceC <-chan time.Time
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case ev, ok := <-watcher.Events:
			if !ok {
				break loop
			}
			if ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 && ev.Name == manifestsDir {
				watched = false
			}
			// Editors write temp files and rename them over the original;
			// wait for the burst to settle before reading.
			debounceC = time.After(debounce)
		case <-watcher.Errors:
			debounceC = time.After(debounce)
		case <-debounceC:
			debounceC = nil
			s.resync(workerCtx)
		case <-ticker.C:
			if _, err := os.Stat(configFile(s.nodeDir)); errors.Is(err, os.ErrNotExist) {
				// The node dir was deleted under us: nobody can reach this
				// cluster any more, so stop rather than leak processes.
				break loop
			}
			ensureWatch()
			s.resync(workerCtx)
		}
	}

	// Stop etcd last: an apiserver whose etcd vanished hangs in shutdown
	// until it is SIGKILLed; with etcd still up it exits in about a second.
	s.mu.Lock()
	s.state.Stopping = true
	var first []*podWorker
	for name, w := range s.workers {
		if name != compEtcd {
			first = append(first, w)
			w.cancel()
		}
	}
	s.mu.Unlock()
	for _, w := range first {
		<-w.done
	}
	s.mu.Lock()
	for _, w := range s.workers {
		w.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
	<-stateDone
	s.writeState()
	return nil
}

// resync compares the manifests dir with the running workers. Like the
// kubelet it ignores hidden files, so editor swap files never start pods.
func (s *supervisor) resync(ctx context.Context) {
	dir := hostPathOf(s.nodeDir, manifestsPath)
	entries, _ := os.ReadDir(dir)
	seen := map[string]bool{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		ext := filepath.Ext(n)
		if ext != ".yaml" && ext != ".yml" && ext != ".json" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(n, ext)
		seen[name] = true
		hash := contentHash(data)
		s.mu.Lock()
		w := s.workers[name]
		if w == nil {
			wctx, cancel := context.WithCancel(ctx)
			w = &podWorker{name: name, cancel: cancel, done: make(chan struct{}), notify: make(chan struct{}, 1), restart: make(chan struct{}, 1), desired: data, hash: hash,
				holdForAPI: !s.started && name == compKCM}
			s.workers[name] = w
			s.state.Components[name] = &componentStatus{Name: name, Phase: phaseStarting, ManifestHash: hash, Since: time.Now()}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer close(w.done)
				s.runWorker(wctx, w)
			}()
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()
		w.mu.Lock()
		changed := w.hash != hash
		w.desired, w.hash = data, hash
		w.mu.Unlock()
		if changed {
			select {
			case w.notify <- struct{}{}:
			default:
			}
		}
	}
	s.mu.Lock()
	for name, w := range s.workers {
		if !seen[name] {
			// A removed manifest stops its pod, as on a kubelet.
			w.cancel()
			delete(s.workers, name)
		}
	}
	s.mu.Unlock()
}

// update changes w's reported status. A worker whose manifest was removed
// (and perhaps re-added, with a new worker) no longer owns the entry.
func (s *supervisor) update(w *podWorker, f func(c *componentStatus)) {
	s.mu.Lock()
	if s.workers[w.name] != w {
		s.mu.Unlock()
		return
	}
	c := s.state.Components[w.name]
	if c == nil {
		c = &componentStatus{Name: w.name}
		s.state.Components[w.name] = c
	}
	f(c)
	s.mu.Unlock()
	s.markDirty()
}

func (s *supervisor) markDirty() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

// stateWriter coalesces state changes into at most 20 writes a second
// (component logs mark the state dirty constantly while they start).
func (s *supervisor) stateWriter(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.dirty:
			s.writeState()
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

func (s *supervisor) writeState() {
	s.mu.Lock()
	s.state.UpdatedAt = time.Now()
	b, err := json.MarshalIndent(&s.state, "", "  ")
	s.mu.Unlock()
	if err == nil {
		_ = fsutil.WriteFileAtomic(stateFile(s.nodeDir), b, 0o600)
	}
}

// runWorker keeps one static pod running at its latest manifest, with
// CrashLoopBackOff-style delays, until ctx ends or the manifest is removed.
func (s *supervisor) runWorker(ctx context.Context, w *podWorker) {
	defer func() {
		s.mu.Lock()
		if s.workers[w.name] == nil {
			// Manifest removed: the pod disappears, as on a kubelet.
			delete(s.state.Components, w.name)
		} else if c := s.state.Components[w.name]; c != nil && s.workers[w.name] == w {
			c.Running, c.Ready, c.PID, c.Phase = false, false, 0, phaseStopped
		}
		s.mu.Unlock()
		s.markDirty()
	}()
	backoff := time.Second
	waitChangeOr := func(d time.Duration) bool {
		var t <-chan time.Time
		if d > 0 {
			t = time.After(d)
		}
		select {
		case <-ctx.Done():
			return false
		case <-w.notify:
			backoff = time.Second
		case <-t:
		}
		return true
	}
	if w.holdForAPI {
		if !s.holdForAPI(ctx) {
			return
		}
	}
	for {
		data, hash := w.latest()
		spec, err := parseStaticPod(s.nodeDir, w.name, s.cfg.Binaries, data)
		if err != nil {
			s.update(w, func(c *componentStatus) {
				c.Phase, c.ManifestHash, c.Running, c.Ready, c.PID = phaseInvalidManifest, hash, false, false, 0
				c.LastError = fmt.Sprintf("static pod manifest %s/%s.yaml: %v", manifestsPath, w.name, err)
				c.Since = time.Now()
			})
			if !waitChangeOr(0) {
				return
			}
			continue
		}
		if err := spec.prepareVolumes(); err != nil {
			s.update(w, func(c *componentStatus) {
				c.Phase, c.ManifestHash, c.Running, c.Ready, c.PID = phaseCreateError, hash, false, false, 0
				c.Args, c.HostArgs = spec.argv, spec.hostArgs
				c.LastError, c.Since = err.Error(), time.Now()
			})
			// The missing file may appear later, so retry like the kubelet.
			if !waitChangeOr(backoff) {
				return
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		if w.name == compKCM {
			s.releaseDeadLeaderLease(ctx)
		}
		started := time.Now()
		exit, changed := s.runOnce(ctx, w, spec)
		if ctx.Err() != nil {
			return
		}
		if exit == exitRestartAfterAPI {
			s.update(w, func(c *componentStatus) { c.Restarts++ })
		}
		if changed {
			backoff = time.Second
			continue
		}
		// A component that ran a while before dying starts a fresh backoff.
		if time.Since(started) > 30*time.Second {
			backoff = time.Second
		}
		s.update(w, func(c *componentStatus) {
			c.Restarts++
			c.Phase, c.Running, c.Ready, c.PID = phaseCrashLoopBackOff, false, false, 0
			c.LastError = fmt.Sprintf("%s: back-off %s restarting failed container %s", exit, backoff, w.name)
		})
		if !waitChangeOr(backoff) {
			return
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// holdForAPI delays the node's first start of kube-controller-manager until
// kube-apiserver reports ready (at most kcmStartHold, and not at all when
// there is no kube-apiserver pod). Started together, the controller-manager
// only competes for CPU with the apiserver's own start and then, its first
// leader-lease attempt refused, sleeps its 2-4.4s retry period after the
// API is up; started after, it takes the lease at once. A kubelet has no
// such ordering; this only changes when the process starts, never what it
// runs. It returns false if ctx ended.
func (s *supervisor) holdForAPI(ctx context.Context) bool {
	deadline := time.Now().Add(kcmStartHold)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		api, present := s.state.Components[compAPI], s.workers[compAPI] != nil
		ready := api != nil && api.Ready
		s.mu.Unlock()
		if ready || !present {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true
}

// releaseDeadLeaderLease deletes kube-controller-manager's leader lease
// before the supervisor starts it. No controller-manager of this node runs
// then (the supervisor owns the only one and has stopped it, or takes it
// down when it exits), so the lease can only name a process that is gone:
// the one before a manifest edit, a crash, a lost lease while the apiserver
// restarted, a reboot, or the one that bootstrapped the template this
// cluster was restored from. Left in place, the new controller-manager
// would sit out the old holder's 15 s lease before running any controller.
// Like holdForAPI this changes only timing. Errors (the API is down) are
// logged: the controller-manager then simply waits as on a kubeadm node.
func (s *supervisor) releaseDeadLeaderLease(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rc, err := clientcmd.BuildConfigFromFlags("", internalPath(s.nodeDir, "super-admin.kubeconfig"))
	if err != nil {
		s.logf("kube-controller-manager lease: %v", err)
		return
	}
	rc.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		s.logf("kube-controller-manager lease: %v", err)
		return
	}
	err = cs.CoordinationV1().Leases(metav1.NamespaceSystem).Delete(ctx, compKCM, metav1.DeleteOptions{})
	switch {
	case err == nil:
		s.logf("kube-controller-manager: released the leader lease of a controller-manager that no longer runs")
	case !apierrors.IsNotFound(err):
		s.logf("kube-controller-manager lease: %v", err)
	}
}

// command builds the component's process and returns the arguments its
// binary gets. In the node's mount namespace the binary is run by its
// manifest name through PATH and keeps exam paths in its flags (see
// nodeViewArgs); on the host it gets node-dir paths.
func (s *supervisor) command(spec *launchSpec) (*exec.Cmd, []string) {
	env := append(append([]string{}, spec.env...), nodeDirEnv+"="+s.nodeDir)
	name := path.Base(spec.argv[0])
	if s.nsMode == modeMountNS || s.nsMode == modeUserNS {
		binds := s.node.binds()
		args := spec.nodeViewArgs(bindTargets(binds))
		for i, e := range env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				env[i] = "PATH=" + filepath.Dir(spec.binary) + ":" + v
			}
		}
		cmd := exec.Command("unshare", unshareArgs(s.nsMode, binds, append([]string{name}, args...))...)
		cmd.Env = env
		return cmd, args
	}
	cmd := exec.Command(spec.binary, spec.hostArgs...)
	cmd.Args[0] = name
	cmd.Env = env
	return cmd, spec.hostArgs
}

// runOnce runs the process until it exits (returns its exit description),
// the manifest changes (changed=true) or ctx ends; it always leaves no
// process behind.
func (s *supervisor) runOnce(ctx context.Context, w *podWorker, spec *launchSpec) (exit string, changed bool) {
	logPath := hostPathOf(s.nodeDir, "/var/log/pods/"+w.name+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return "create log dir: " + err.Error(), false
	}
	// Keep the previous container's log, like `crictl logs --previous`.
	_ = os.Rename(logPath, strings.TrimSuffix(logPath, ".log")+".previous.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return "open log: " + err.Error(), false
	}
	defer logFile.Close()
	tail := &logTail{file: logFile, mapper: spec.mapper, max: logTailSize}

	// A restart asked for the previous process (it exited meanwhile) must
	// not stop this one.
	select {
	case <-w.restart:
	default:
	}
	cmd, args := s.command(spec)
	cmd.Dir = spec.mapper.rootfs
	pr, pw, err := os.Pipe()
	if err != nil {
		return "create pipe: " + err.Error(), false
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	// Own process group so a stop reaches any helper it forks; Pdeathsig so
	// the component dies with the supervisor even on SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		s.update(w, func(c *componentStatus) {
			c.LastError = "start " + spec.binary + ": " + err.Error()
		})
		return "failed to start: " + err.Error(), false
	}
	pw.Close()
	s.logf("%s: started pid %d (manifest %s)", w.name, cmd.Process.Pid, spec.hash)
	if w.name == compAPI {
		s.mu.Lock()
		s.apiStarts++
		s.mu.Unlock()
	}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		tail.copyFrom(pr, func() { s.update(w, func(c *componentStatus) { c.LogTail = tail.lines() }) })
	}()
	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()

	s.update(w, func(c *componentStatus) {
		c.Phase, c.Running, c.Ready, c.PID = phaseRunning, true, false, cmd.Process.Pid
		c.ManifestHash, c.Args, c.HostArgs = spec.hash, spec.argv, args
		c.Since, c.LogTail = time.Now(), nil
	})
	probeCtx, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	go s.probe(probeCtx, w, spec)

	stopProc := func() {
		stopProbe()
		t0 := time.Now()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-waitDone:
			s.logf("%s: pid %d stopped after SIGTERM in %s", w.name, cmd.Process.Pid, time.Since(t0).Round(time.Millisecond))
		case <-time.After(stopGrace):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-waitDone
			s.logf("%s: pid %d ignored SIGTERM for %s, killed", w.name, cmd.Process.Pid, stopGrace)
		}
		// Helpers that ignored SIGTERM die with the group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-logDone
	}
	for {
		select {
		case <-ctx.Done():
			stopProc()
			return "stopped", false
		case <-w.notify:
			if _, h := w.latest(); h == spec.hash {
				continue
			}
			stopProc()
			return "manifest changed", true
		case <-w.restart:
			s.logf("%s: restarting pid %d: %s", w.name, cmd.Process.Pid, exitRestartAfterAPI)
			stopProc()
			return exitRestartAfterAPI, true
		case werr := <-waitDone:
			stopProbe()
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-logDone
			desc := "exited"
			var ee *exec.ExitError
			if errors.As(werr, &ee) {
				desc = "exited: " + ee.String()
			} else if werr == nil {
				desc = "exited with code 0"
			}
			s.update(w, func(c *componentStatus) { c.LogTail = tail.lines() })
			s.logf("%s: pid %d %s", w.name, cmd.Process.Pid, desc)
			return desc, false
		}
	}
}

const exitRestartAfterAPI = "kube-apiserver restarted"

// restartControllerManager restarts a kube-controller-manager that has
// run since before the kube-apiserver that just became ready, when that
// apiserver is not the node's first. On a kubeadm node an apiserver
// restart takes longer than the controller-manager's 10 s leader renew
// deadline, so the controller-manager exits and the kubelet starts it
// again. Here the apiserver is back within seconds, the controller-manager
// survives, and its informers, refused with "forbidden" while the new
// apiserver's RBAC caches filled, sit in client-go's watch back-off (up to
// 30 s after a few restarts): a new namespace would wait that long for its
// ServiceAccount. Restarting it gives the kubeadm outcome without the wait.
func (s *supervisor) restartControllerManager() {
	s.mu.Lock()
	defer s.mu.Unlock()
	api, kcm, w := s.state.Components[compAPI], s.state.Components[compKCM], s.workers[compKCM]
	if s.apiStarts < 2 || api == nil || kcm == nil || w == nil || !kcm.Running || !kcm.Since.Before(api.Since) {
		return
	}
	select {
	case w.restart <- struct{}{}:
	default:
	}
}

// logf writes the supervisor's own log (<nodeDir>/.ckslab/supervisor.log
// via stderr): what a kubelet journal would show.
func (s *supervisor) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// probe polls the component's health endpoint, as readinessProbe would.
func (s *supervisor) probe(ctx context.Context, w *podWorker, spec *launchSpec) {
	check := s.healthCheck(spec)
	delay := 50 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		ok := check(cctx) == nil
		cancel()
		if ctx.Err() != nil {
			return
		}
		s.update(w, func(c *componentStatus) {
			if c.Running && c.ManifestHash == spec.hash {
				c.Ready = ok
			}
		})
		if ok && delay != 2*time.Second {
			s.logf("%s: ready", w.name)
			if w.name == compAPI {
				s.restartControllerManager()
			}
		}
		if ok {
			delay = 2 * time.Second
		} else {
			// Poll fast while not ready: Up waits on this.
			delay = 50 * time.Millisecond
		}
	}
}

// healthCheck builds the component's health request from the flags it
// actually runs with, so a learner changing a port does not confuse it.
func (s *supervisor) healthCheck(spec *launchSpec) func(context.Context) error {
	args := spec.argv
	insecure := &tls.Config{InsecureSkipVerify: true} // like kubelet HTTPS probes
	get := func(u string, tc *tls.Config) func(context.Context) error {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}}
		return func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s", u, resp.Status)
			}
			return nil
		}
	}
	switch filepath.Base(spec.argv[0]) {
	case binEtcd:
		if v, ok := flagValue(args, "listen-metrics-urls"); ok {
			return get(strings.Split(v, ",")[0]+"/health", insecure)
		}
		v, _ := flagValue(args, "listen-client-urls")
		u, err := url.Parse(strings.Split(v, ",")[0])
		return func(ctx context.Context) error {
			if err != nil {
				return err
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", u.Host)
			if err == nil {
				c.Close()
			}
			return err
		}
	case binAPIServer:
		port := "6443"
		if v, ok := flagValue(args, "secure-port"); ok {
			port = v
		}
		// Authenticate: a learner may disable anonymous auth (a CKS task).
		return get("https://127.0.0.1:"+port+"/readyz", s.probeTLS)
	case binControllerManager:
		port := "10257"
		if v, ok := flagValue(args, "secure-port"); ok {
			port = v
		}
		return get("https://127.0.0.1:"+port+"/healthz", insecure)
	}
	// Unknown extra static pods are ready once running.
	return func(context.Context) error { return nil }
}

// loadProbeTLS uses ckslab's private super-admin credentials, which a
// learner's edits under /etc/kubernetes cannot break.
func (s *supervisor) loadProbeTLS() *tls.Config {
	tc := &tls.Config{InsecureSkipVerify: true}
	cfg, err := clientcmd.LoadFromFile(internalPath(s.nodeDir, "super-admin.kubeconfig"))
	if err != nil {
		return tc
	}
	for _, ai := range cfg.AuthInfos {
		if cert, err := tls.X509KeyPair(ai.ClientCertificateData, ai.ClientKeyData); err == nil {
			tc.Certificates = []tls.Certificate{cert}
			break
		}
	}
	return tc
}

// logTail copies a process's output into its log file (with host paths
// mapped back to node paths) and keeps the last lines for the state file.
type logTail struct {
	file   io.Writer
	mapper *pathMapper
	max    int
	mu     sync.Mutex
	buf    []string
}

func (t *logTail) copyFrom(r io.ReadCloser, changed func()) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	last := time.Time{}
	for sc.Scan() {
		line := t.mapper.unmap(sc.Text())
		_, _ = io.WriteString(t.file, line+"\n")
		t.mu.Lock()
		t.buf = append(t.buf, line)
		if len(t.buf) > t.max {
			t.buf = t.buf[len(t.buf)-t.max:]
		}
		t.mu.Unlock()
		// Chatty components log hundreds of lines at start; publish at most
		// twice a second.
		if time.Since(last) > 500*time.Millisecond {
			last = time.Now()
			changed()
		}
	}
	changed()
}

func (t *logTail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.buf...)
}

// sortedNames returns map keys sorted, for stable output.
func sortedNames(m map[string]*componentStatus) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// inotifyHint explains the usual cause of EMFILE from inotify_init: the
// per-user limit on inotify instances (128 on many distributions), which a
// few control planes (kube-controller-manager alone holds seven) and a kind
// cluster's nodes exhaust together.
func inotifyHint(err error) string {
	if !errors.Is(err, syscall.EMFILE) {
		return ""
	}
	limit := "its limit"
	if b, rerr := os.ReadFile("/proc/sys/fs/inotify/max_user_instances"); rerr == nil {
		limit = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf(" (this user's inotify instances are used up: fs.inotify.max_user_instances is %s; raise it, as kind's known issues also advise: sudo sysctl -w fs.inotify.max_user_instances=1024)", limit)
}
