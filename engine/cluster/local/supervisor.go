package local

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/gofrs/flock"
	"k8s.io/utils/clock"

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
	defer func() { _ = lock.Unlock() }()
	if err := fsutil.WriteFileAtomic(pidFile(nodeDir), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pidFile(nodeDir))

	// The supervisor's stderr is <nodeDir>/.ckslab/supervisor.log (Up).
	s := newSupervisor(nodeDir, cfg, clock.RealClock{}, os.Stderr)
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

// newSupervisor returns a supervisor of the node in nodeDir that reads
// time from clk and writes its log to log; RunSupervisor adds the probe
// TLS config and the node's execution mode.
func newSupervisor(nodeDir string, cfg *nodeConfig, clk clock.WithTicker, log io.Writer) *supervisor {
	s := &supervisor{
		nodeDir: nodeDir,
		cfg:     cfg,
		clock:   clk,
		log:     log,
		workers: map[string]*podWorker{},
		state: supervisorState{
			PID:        os.Getpid(),
			StartedAt:  clk.Now(),
			Components: map[string]*componentStatus{},
		},
		dirty: make(chan struct{}, 1),
	}
	s.runProcess = s.runOnce
	return s
}

type supervisor struct {
	nodeDir string
	cfg     *nodeConfig
	// clock drives back-offs, holds, probes and timestamps (fake in tests).
	clock clock.WithTicker
	// log receives the supervisor's own log lines (logf).
	log io.Writer
	// runProcess runs one process of a worker until it exits, its
	// manifest changes or ctx ends (runOnce; tests replace it).
	runProcess func(ctx context.Context, w *podWorker, spec *launchSpec) (exit string, changed bool)
	probeTLS   *tls.Config
	node       *node
	nsMode     execMode

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
	ticker := s.clock.NewTicker(resyncEvery)
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
			debounceC = s.clock.After(debounce)
		case werr := <-watcher.Errors:
			// A dropped event (queue overflow) or a watch error: resync
			// from the directory itself after the debounce.
			s.logf("watch %s: %v", manifestsDir, werr)
			debounceC = s.clock.After(debounce)
		case <-debounceC:
			debounceC = nil
			s.resync(workerCtx)
		case <-ticker.C():
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
			s.state.Components[name] = &componentStatus{Name: name, Phase: phaseStarting, ManifestHash: hash, Since: s.clock.Now()}
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
			case <-s.clock.After(50 * time.Millisecond):
			}
		}
	}
}

func (s *supervisor) writeState() {
	s.mu.Lock()
	s.state.UpdatedAt = s.clock.Now()
	b, err := json.MarshalIndent(&s.state, "", "  ")
	s.mu.Unlock()
	if err == nil {
		_ = fsutil.WriteFileAtomic(stateFile(s.nodeDir), b, 0o600)
	}
}

// logf writes the supervisor's own log (<nodeDir>/.ckslab/supervisor.log
// via stderr): what a kubelet journal would show.
func (s *supervisor) logf(format string, args ...any) {
	fmt.Fprintf(s.log, "%s %s\n", s.clock.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
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
