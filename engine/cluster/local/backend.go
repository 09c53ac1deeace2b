// Package local is ckslab's built-in cluster backend: a real etcd,
// kube-apiserver and kube-controller-manager started as host processes from
// kubeadm-style static pod manifests by a small detached supervisor that
// plays the kubelet. Pods are admitted by the API but never run: there is no
// kubelet, container runtime or scheduler, so scenarios that need running
// workloads must use the kind backend.
package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/fsutil"
)

// BackendName is what Name returns.
const BackendName = "local"

const defaultClusterName = "ckslab"

// SupervisorCommand builds the command that runs RunSupervisor for nodeDir
// in a separate process. Up detaches it (new session) and sets its output.
type SupervisorCommand func(nodeDir string) *exec.Cmd

type options struct {
	stateRoot              string
	cacheRoot              string
	binDir                 string
	k8sVersion             string
	etcdVersion            string
	k8sBaseURL             string
	etcdBaseURL            string
	downloadConnectTimeout time.Duration
	build                  bool
	keepNodeDir            bool
	readyTimeout           time.Duration
	supervisor             SupervisorCommand
	getenv                 func(string) string
	// templates enables bootstrap templates (template.go), stored under
	// templateRoot (default <cache>/templates).
	templates    bool
	templateSet  bool
	templateRoot string
}

// Option configures a Backend; options may fail validation.
type Option func(*options) error

// WithStateDir sets the directory holding one node dir per cluster
// (default <user cache>/ckslab/local).
func WithStateDir(dir string) Option {
	return func(o *options) error {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("state dir %q: %w", dir, err)
		}
		o.stateRoot = abs
		return nil
	}
}

// WithCacheDir sets ckslab's cache root; binaries go to <root>/bin/k8s-*.
func WithCacheDir(dir string) Option {
	return func(o *options) error { o.cacheRoot = dir; return nil }
}

// WithBinDir names a directory holding etcd, kube-apiserver and
// kube-controller-manager; it wins over every other source.
func WithBinDir(dir string) Option {
	return func(o *options) error { o.binDir = dir; return nil }
}

// WithDownloadURLs overrides the release mirrors (empty disables one).
func WithDownloadURLs(k8sBase, etcdBase string) Option {
	return func(o *options) error { o.k8sBaseURL, o.etcdBaseURL = k8sBase, etcdBase; return nil }
}

// WithBuildFallback enables or disables building binaries with `go build`.
func WithBuildFallback(enabled bool) Option {
	return func(o *options) error { o.build = enabled; return nil }
}

// WithKeepNodeDir makes Down stop processes but keep the node dir.
func WithKeepNodeDir(keep bool) Option {
	return func(o *options) error { o.keepNodeDir = keep; return nil }
}

// WithReadyTimeout bounds how long Up waits for the API.
func WithReadyTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("ready timeout must be positive, got %s", d)
		}
		o.readyTimeout = d
		return nil
	}
}

// WithSupervisorCommand replaces the default `<this executable> __supervise
// --node-dir DIR`; tests re-execute their own binary.
func WithSupervisorCommand(c SupervisorCommand) Option {
	return func(o *options) error { o.supervisor = c; return nil }
}

// WithBootstrapTemplates turns bootstrap templates on or off and, when dir
// is not empty, stores them there instead of <cache>/templates. They are on
// by default unless CKSLAB_BOOTSTRAP_TEMPLATE is 0, false or off.
func WithBootstrapTemplates(enabled bool, dir string) Option {
	return func(o *options) error {
		o.templates, o.templateSet = enabled, true
		if dir != "" {
			o.templateRoot = dir
		}
		return nil
	}
}

// WithGetenv replaces os.Getenv for binary resolution (tests).
func WithGetenv(f func(string) string) Option {
	return func(o *options) error { o.getenv = f; return nil }
}

// Backend is the local control-plane backend.
type Backend struct {
	opts options
}

var _ cluster.Backend = (*Backend)(nil)

// New returns a local backend.
func New(opts ...Option) (*Backend, error) {
	o := options{
		k8sVersion:             DefaultKubernetesVersion,
		etcdVersion:            DefaultEtcdVersion,
		k8sBaseURL:             "https://dl.k8s.io/release",
		etcdBaseURL:            "https://github.com/etcd-io/etcd/releases/download",
		downloadConnectTimeout: 3 * time.Second,
		build:                  true,
		readyTimeout:           3 * time.Minute,
		getenv:                 os.Getenv,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("local backend: %w", err)
		}
	}
	if o.cacheRoot == "" {
		o.cacheRoot = o.getenv("CKSLAB_CACHE_DIR")
	}
	if o.cacheRoot == "" || o.stateRoot == "" {
		uc, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("local backend: find cache dir: %w (set CKSLAB_CACHE_DIR)", err)
		}
		if o.cacheRoot == "" {
			o.cacheRoot = filepath.Join(uc, "ckslab")
		}
		if o.stateRoot == "" {
			o.stateRoot = filepath.Join(uc, "ckslab", "local")
		}
	}
	if !o.templateSet {
		switch strings.ToLower(o.getenv("CKSLAB_BOOTSTRAP_TEMPLATE")) {
		case "0", "false", "off", "no":
		default:
			o.templates = true
		}
	}
	if o.templateRoot == "" {
		o.templateRoot = filepath.Join(o.cacheRoot, "templates")
	}
	if o.supervisor == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("local backend: find own executable for the supervisor: %w", err)
		}
		o.supervisor = func(nodeDir string) *exec.Cmd {
			return exec.Command(exe, "__supervise", "--node-dir", nodeDir)
		}
	}
	return &Backend{opts: o}, nil
}

// Name implements cluster.Backend.
func (b *Backend) Name() string { return BackendName }

// Facts are the local backend's: the node is the user's own machine (its
// commands and files are the host's); it provides the API, the
// control-plane node and etcd on every host. Workloads are deliberately
// absent: pods are admitted but never run.
func Facts() cluster.Facts {
	return cluster.Facts{
		Provides:  cluster.NewCapabilities(v1alpha1.CapAPI, v1alpha1.CapControlPlaneNode, v1alpha1.CapEtcd),
		Elsewhere: "install Docker (or podman) and run with --backend kind",
	}
}

// Facts implements cluster.Backend.
func (b *Backend) Facts() cluster.Facts { return Facts() }

// Capabilities implements cluster.Backend: what Facts provides, on any host.
func (b *Backend) Capabilities(context.Context) cluster.Capabilities {
	return cluster.NewCapabilities(Facts().Provides.List()...)
}

func validName(name string) error {
	if !regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`).MatchString(name) {
		return fmt.Errorf("cluster name %q must be lowercase letters, digits and '-' (at most 63)", name)
	}
	return nil
}

// NodeDir is where the named cluster's node filesystem lives.
func (b *Backend) NodeDir(name string) string {
	if name == "" {
		name = defaultClusterName
	}
	return filepath.Join(b.opts.stateRoot, name)
}

// supervisorRunning reports whether a supervisor holds the cluster's lock.
func supervisorRunning(nodeDir string) bool {
	if _, err := os.Stat(lockFile(nodeDir)); err != nil {
		return false
	}
	l := flock.New(lockFile(nodeDir))
	ok, err := l.TryLock()
	if err != nil {
		return false
	}
	if ok {
		_ = l.Unlock()
		return false
	}
	return true
}

// Up implements cluster.Backend.
func (b *Backend) Up(ctx context.Context, spec cluster.Spec, progress cluster.ProgressFunc) (*cluster.Cluster, error) {
	name := spec.Name
	if name == "" {
		name = defaultClusterName
	}
	if err := validName(name); err != nil {
		return nil, err
	}
	if len(spec.Addons) > 0 || spec.NodeImage != "" {
		return nil, fmt.Errorf("the local backend runs no node images or add-ons (asked for image %q, add-ons %v): use the kind backend for this scenario", spec.NodeImage, spec.Addons)
	}
	nodeDir := b.NodeDir(name)
	if _, err := os.Stat(configFile(nodeDir)); err == nil {
		return b.resume(ctx, name, nodeDir, progress)
	}
	c, err := b.create(ctx, name, nodeDir, progress)
	if err != nil {
		// Ctrl-C or a failed start must leave no process and no half
		// cluster behind; cleanup runs even though ctx is done.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace+10*time.Second)
		defer cancel()
		if derr := b.destroy(cctx, nodeDir, false); derr != nil {
			err = fmt.Errorf("%w (cleanup: %v)", err, derr)
		}
		return nil, err
	}
	return c, nil
}

// resume reuses a cluster whose node dir exists: attach to its running
// supervisor, or start one again (after a reboot the "kubelet" comes back
// and restarts the static pods, with the learner's changes intact).
func (b *Backend) resume(ctx context.Context, name, nodeDir string, progress cluster.ProgressFunc) (*cluster.Cluster, error) {
	cfg, err := readNodeConfig(nodeDir)
	if err != nil {
		return nil, err
	}
	started := false
	var since time.Time
	if !supervisorRunning(nodeDir) {
		progress.Report(cluster.Step{ID: "etcd", Title: "Restarting the control plane of " + name})
		since = time.Now()
		if err := b.startSupervisor(nodeDir); err != nil {
			return nil, err
		}
		started = true
	}
	if err := b.waitReady(ctx, cfg, since, progress); err != nil {
		if started && ctx.Err() != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace+10*time.Second)
			defer cancel()
			_ = stopSupervisor(cctx, nodeDir)
		}
		return nil, fmt.Errorf("cluster %s exists but is not healthy: %w (inspect `ckslab cluster status`; `ckslab cluster down` starts over)", name, err)
	}
	return b.clusterFor(cfg), nil
}

func (b *Backend) create(ctx context.Context, name, nodeDir string, progress cluster.ProgressFunc) (*cluster.Cluster, error) {
	step := func(id, title string, err error) {
		progress.Report(cluster.Step{ID: id, Title: title, Done: true, Err: err})
	}
	progress.Report(cluster.Step{ID: "binaries", Title: "Control-plane binaries"})
	r := newResolver(&b.opts)
	r.progress = progress
	bins, err := r.Resolve(ctx)
	step("binaries", "Control-plane binaries", err)
	if err != nil {
		return nil, err
	}

	progress.Report(cluster.Step{ID: "certs", Title: "Certificates, kubeconfigs and static pod manifests"})
	if err := os.MkdirAll(filepath.Join(nodeDir, internalDir), 0o700); err != nil {
		return nil, fmt.Errorf("create node dir %s: %w", nodeDir, err)
	}
	// The node dir holds private keys: keep it private even if the state
	// root was created with a looser umask.
	if err := os.Chmod(nodeDir, 0o700); err != nil {
		return nil, fmt.Errorf("secure node dir %s: %w", nodeDir, err)
	}
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	cfg := &nodeConfig{
		Name: name, NodeDir: nodeDir,
		KubernetesVersion: b.opts.k8sVersion, EtcdVersion: b.opts.etcdVersion,
		Binaries:      bins,
		APIServerPort: ports[0], EtcdClientPort: ports[1], EtcdPeerPort: ports[2], EtcdMetricsPort: ports[3], ControllerPort: ports[4],
		CreatedAt: time.Now(),
	}
	err = writeNodeFiles(cfg)
	step("certs", "Certificates, kubeconfigs and static pod manifests", err)
	if err != nil {
		return nil, err
	}
	if b.opts.templates {
		progress.Report(cluster.Step{ID: "template", Title: "Bootstrap template"})
		var line string
		cfg.BootstrapTemplate = b.restoreTemplate(cfg, func(s string) { line = s })
		title := "Bootstrap template " + cfg.BootstrapTemplate + " restored into etcd"
		switch {
		case cfg.BootstrapTemplate != "":
		case line == "":
			title = "No bootstrap template yet: bootstrapping cold, then saving one for the next cluster"
		default:
			title = "Bootstrap template unusable: bootstrapping cold"
		}
		progress.Report(cluster.Step{ID: "template", Title: title, Line: line, Done: true})
		if err := writeNodeConfig(cfg); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	since := time.Now()
	if err := b.startSupervisor(nodeDir); err != nil {
		return nil, err
	}
	if err := b.waitReady(ctx, cfg, since, progress); err != nil {
		return nil, fmt.Errorf("start cluster %s: %w", name, err)
	}
	if b.opts.templates && cfg.BootstrapTemplate == "" {
		// One real cold bootstrap per version feeds every later Up.
		title := "Saving a bootstrap template for the next cluster"
		progress.Report(cluster.Step{ID: "template-save", Title: title})
		var line string
		if err := b.saveTemplate(ctx, cfg); err != nil {
			title, line = "Bootstrap template not saved (the next cluster bootstraps cold too)", err.Error()
		}
		progress.Report(cluster.Step{ID: "template-save", Title: title, Line: line, Done: true})
	}
	return b.clusterFor(cfg), nil
}

// writeNodeFiles lays out the kubeadm-style node filesystem.
func writeNodeFiles(cfg *nodeConfig) error {
	nodeDir := cfg.NodeDir
	if err := os.MkdirAll(filepath.Join(nodeDir, internalDir), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", nodeDir, err)
	}
	for _, d := range []string{"/etc/kubernetes/manifests", "/var/lib/etcd", "/var/log/pods", "/var/log/kubernetes"} {
		if err := os.MkdirAll(hostPathOf(nodeDir, d), 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	pki, err := generatePKI(hostPathOf(nodeDir, pkiPath), time.Now())
	if err != nil {
		return fmt.Errorf("generate certificates: %w", err)
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", cfg.APIServerPort)
	confs := map[string][]byte{
		hostPathOf(nodeDir, "/etc/kubernetes/admin.conf"):              kubeconfigYAML(server, pki.caPEM, "kubernetes-admin", pki.kubeconfig["admin"]),
		superAdminFile(nodeDir):                                        kubeconfigYAML(server, pki.caPEM, "kubernetes-super-admin", pki.kubeconfig["super-admin"]),
		hostPathOf(nodeDir, "/etc/kubernetes/controller-manager.conf"): kubeconfigYAML(server, pki.caPEM, "system:kube-controller-manager", pki.kubeconfig["controller-manager"]),
		kubeconfigFile(nodeDir):                                        kubeconfigYAML(server, pki.caPEM, "kubernetes-admin", pki.kubeconfig["admin"]),
		// ckslab's own copy: probes and Up keep working whatever the learner
		// does to /etc/kubernetes.
		internalPath(nodeDir, "super-admin.kubeconfig"): kubeconfigYAML(server, pki.caPEM, "kubernetes-super-admin", pki.kubeconfig["super-admin"]),
	}
	for p, data := range confs {
		if err := fsutil.WriteFileAtomic(p, data, 0o600); err != nil {
			return err
		}
	}
	if err := writeNodeConfig(cfg); err != nil {
		return err
	}
	// Manifests last: the supervisor starts whatever it finds.
	for name, pod := range manifests(cfg) {
		data, err := marshalPod(pod)
		if err != nil {
			return err
		}
		if err := fsutil.WriteFileAtomic(hostPathOf(nodeDir, manifestsPath+"/"+name+".yaml"), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// freePorts reserves n distinct loopback ports by holding listeners open
// until all are chosen.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startSupervisor launches the detached supervisor process.
func (b *Backend) startSupervisor(nodeDir string) error {
	cmd := b.opts.supervisor(nodeDir)
	logf, err := os.OpenFile(supervisorLog(nodeDir), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open supervisor log: %w", err)
	}
	defer logf.Close()
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, nodeDirEnv+"="+nodeDir)
	cmd.Dir = nodeDir
	// Its own session: Ctrl-C in the learner's terminal must not reach it,
	// and it outlives the ckslab command that started it. A supervisor
	// command may ask to die with its parent instead (test clusters: a
	// killed or timed-out test binary must not leave a control plane).
	attr := &syscall.SysProcAttr{Setsid: true}
	if cmd.SysProcAttr != nil {
		attr.Pdeathsig = cmd.SysProcAttr.Pdeathsig
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start supervisor %s: %w", cmd.Path, err)
	}
	// Reap it if it exits while we still run (no zombie in long sessions).
	go func() { _ = cmd.Wait() }()
	return nil
}

// waitReady waits for etcd, kube-apiserver, kube-controller-manager, the
// kubeadm admin binding and the default ServiceAccount, reporting steps.
// Component status written by a supervisor started before since (one that
// was killed, whose state file still says "ready") does not count.
func (b *Backend) waitReady(ctx context.Context, cfg *nodeConfig, since time.Time, progress cluster.ProgressFunc) error {
	ctx, cancel := context.WithTimeout(ctx, b.opts.readyTimeout)
	defer cancel()
	steps := []struct{ id, title string }{
		{compEtcd, "Starting etcd"},
		{compAPI, "Starting kube-apiserver"},
		{compKCM, "Starting kube-controller-manager"},
	}
	var started time.Time
	for _, s := range steps {
		progress.Report(cluster.Step{ID: s.id, Title: s.title})
		for {
			st, _ := readState(cfg.NodeDir)
			var c *componentStatus
			if st != nil && !st.StartedAt.Before(since) {
				c = st.Components[s.id]
			}
			if c != nil && c.Ready {
				progress.Report(cluster.Step{ID: s.id, Title: s.title, Done: true})
				break
			}
			if started.IsZero() {
				started = time.Now()
			}
			if !supervisorRunning(cfg.NodeDir) && time.Since(started) > 3*time.Second {
				err := fmt.Errorf("the supervisor exited: %s", lastLinesOfFile(supervisorLog(cfg.NodeDir), 5))
				progress.Report(cluster.Step{ID: s.id, Title: s.title, Done: true, Err: err})
				return err
			}
			select {
			case <-ctx.Done():
				err := fmt.Errorf("waiting for %s: %w%s", s.id, ctx.Err(), describe(c))
				progress.Report(cluster.Step{ID: s.id, Title: s.title, Done: true, Err: err})
				return err
			case <-time.After(25 * time.Millisecond):
			}
		}
	}
	progress.Report(cluster.Step{ID: "ready", Title: readyTitle})
	err := waitAPIObjects(ctx, cfg.NodeDir)
	progress.Report(cluster.Step{ID: "ready", Title: readyTitle, Done: true, Err: err})
	return err
}

const readyTitle = "Waiting for the controllers (default ServiceAccount, kube-root-ca.crt in every namespace)"

func describe(c *componentStatus) string {
	if c == nil {
		return " (no status reported yet)"
	}
	s := fmt.Sprintf(" (%s", c.Phase)
	if c.LastError != "" {
		s += ": " + c.LastError
	}
	if n := len(c.LogTail); n > 0 {
		s += "; last log: " + strings.Join(c.LogTail[max(0, n-3):], " | ")
	}
	return s + ")"
}

// waitAPIObjects creates what kubeadm's init creates for admin.conf (the
// kubeadm:cluster-admins binding) and waits for the default ServiceAccount,
// the sign that controllers run and the cluster is usable.
func waitAPIObjects(ctx context.Context, nodeDir string) error {
	rc, err := clientcmd.BuildConfigFromFlags("", internalPath(nodeDir, "super-admin.kubeconfig"))
	if err != nil {
		return fmt.Errorf("load super-admin kubeconfig: %w", err)
	}
	caPEM, err := os.ReadFile(hostPathOf(nodeDir, pkiPath+"/ca.crt"))
	if err != nil {
		return fmt.Errorf("read cluster CA: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:cluster-admins"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "kubeadm:cluster-admins"}},
	}
	var lastErr error
	for {
		if crb != nil {
			_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
			if err == nil || apierrors.IsAlreadyExists(err) {
				crb = nil
			} else {
				lastErr = err
			}
		}
		if crb == nil {
			lastErr = controllersRunning(ctx, cs, caPEM)
			if lastErr == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for kube-controller-manager (default ServiceAccount, this cluster's CA in kube-root-ca.crt of every namespace): %w (last error: %v)", ctx.Err(), lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// controllersRunning reports whether kube-controller-manager has done its
// first work for this cluster: the default ServiceAccount exists and the
// root CA publisher has written this cluster's CA into kube-root-ca.crt in
// every namespace. A cluster restored from a bootstrap template starts with
// the template's CA in each of those ConfigMaps, and the publisher rewrites
// them namespace by namespace, so "default holds the new CA" alone would
// let a learner (or a pod mounting the ConfigMap) read a foreign CA in
// kube-system right after Up returns.
func controllersRunning(ctx context.Context, cs kubernetes.Interface, caPEM []byte) error {
	if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
		return err
	}
	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	cms, err := cs.CoreV1().ConfigMaps(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + rootCAConfigMap})
	if err != nil {
		return err
	}
	want := strings.TrimSpace(string(caPEM))
	current := make(map[string]bool, len(cms.Items))
	for _, cm := range cms.Items {
		if cm.Name != rootCAConfigMap {
			continue
		}
		current[cm.Namespace] = strings.TrimSpace(cm.Data["ca.crt"]) == want
	}
	var stale, missing []string
	for _, ns := range nss.Items {
		if ns.Status.Phase == corev1.NamespaceTerminating {
			continue
		}
		ok, found := current[ns.Name]
		switch {
		case !found:
			missing = append(missing, ns.Name)
		case !ok:
			stale = append(stale, ns.Name)
		}
	}
	switch {
	case len(stale) > 0:
		return fmt.Errorf("configmap %s does not hold this cluster's CA yet in namespaces %s", rootCAConfigMap, strings.Join(stale, ", "))
	case len(missing) > 0:
		return fmt.Errorf("configmap %s not published yet in namespaces %s", rootCAConfigMap, strings.Join(missing, ", "))
	}
	return nil
}

// rootCAConfigMap is what kube-controller-manager's root CA publisher
// writes into every namespace.
const rootCAConfigMap = "kube-root-ca.crt"

func lastLinesOfFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return lastLines(b, n)
}

func (b *Backend) clusterFor(cfg *nodeConfig) *cluster.Cluster {
	node := newNode(cfg.NodeDir)
	return &cluster.Cluster{
		Name:         cfg.Name,
		Backend:      BackendName,
		Facts:        Facts(),
		Kubeconfig:   kubeconfigFile(cfg.NodeDir),
		Capabilities: b.Capabilities(context.Background()),
		Nodes:        []cluster.Node{node},
		Components:   &components{nodeDir: cfg.NodeDir},
		Etcd:         &etcdReader{cfg: cfg},
	}
}

// Get implements cluster.Backend.
func (b *Backend) Get(ctx context.Context, name string) (*cluster.Cluster, error) {
	if name == "" {
		name = defaultClusterName
	}
	nodeDir := b.NodeDir(name)
	cfg, err := readNodeConfig(nodeDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("local cluster %s: %w", name, cluster.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if !supervisorRunning(nodeDir) {
		return nil, fmt.Errorf("local cluster %s is stopped (run `ckslab cluster up` to start it again): %w", name, cluster.ErrNotFound)
	}
	return b.clusterFor(cfg), nil
}

// Down implements cluster.Backend: stop the supervisor (which stops every
// component), kill anything left over, and remove the node dir unless
// WithKeepNodeDir was given. A missing cluster is not an error.
func (b *Backend) Down(ctx context.Context, name string) error {
	if name == "" {
		name = defaultClusterName
	}
	if err := validName(name); err != nil {
		return err
	}
	nodeDir := b.NodeDir(name)
	if _, err := os.Stat(nodeDir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := b.destroy(ctx, nodeDir, b.opts.keepNodeDir); err != nil {
		return fmt.Errorf("delete local cluster %s: %w", name, err)
	}
	return nil
}

func (b *Backend) destroy(ctx context.Context, nodeDir string, keep bool) error {
	if err := stopSupervisor(ctx, nodeDir); err != nil {
		return err
	}
	if keep {
		return nil
	}
	if err := os.RemoveAll(nodeDir); err != nil {
		return fmt.Errorf("remove %s: %w (remove it by hand)", nodeDir, err)
	}
	return nil
}

// stopSupervisor asks the supervisor to stop (it stops the components with
// their grace period), escalates to SIGKILL, then kills any process still
// marked with this node dir, e.g. after a supervisor crash.
func stopSupervisor(ctx context.Context, nodeDir string) error {
	if pidBytes, err := os.ReadFile(pidFile(nodeDir)); err == nil && supervisorRunning(nodeDir) {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(pidBytes))); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			deadline := time.Now().Add(stopGrace + 5*time.Second)
			for supervisorRunning(nodeDir) && time.Now().Before(deadline) && ctx.Err() == nil {
				time.Sleep(50 * time.Millisecond)
			}
			if supervisorRunning(nodeDir) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	return killMarked(ctx, nodeDir)
}

// killMarked SIGKILLs every process whose environment carries this node
// dir marker and waits until they are gone.
func killMarked(ctx context.Context, nodeDir string) error {
	marker := []byte(nodeDirEnv + "=" + nodeDir + "\x00")
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := markedPIDs(marker)
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("processes %v of %s did not exit after SIGKILL", pids, nodeDir)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func markedPIDs(marker []byte) []int {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || len(env) == 0 {
			continue // exited, a zombie, or not ours
		}
		if strings.Contains(string(env)+"\x00", string(marker)) {
			out = append(out, pid)
		}
	}
	return out
}

// Status implements cluster.Backend.
func (b *Backend) Status(ctx context.Context, name string) (*cluster.Status, error) {
	if name == "" {
		name = defaultClusterName
	}
	nodeDir := b.NodeDir(name)
	cfg, err := readNodeConfig(nodeDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("local cluster %s: %w", name, cluster.ErrNotFound)
		}
		return nil, err
	}
	st := &cluster.Status{
		Name:       name,
		Backend:    BackendName,
		Running:    supervisorRunning(nodeDir),
		Kubeconfig: kubeconfigFile(nodeDir),
		Notes: []string{
			"No kubelet, container runtime or scheduler: pods are admitted by the API but never run.",
			"Node files live in " + nodeDir + "; component logs in /var/log/pods/<component>.log on the node.",
		},
	}
	if cfg.BootstrapTemplate != "" {
		st.Notes = append(st.Notes, "etcd started from bootstrap template "+cfg.BootstrapTemplate+
			" (the keyspace of a fresh cluster of this version; certificates and keys are this cluster's own). CKSLAB_BOOTSTRAP_TEMPLATE=0 bootstraps cold.")
	}
	if nsMode := detectNamespaceMode(ctx); nsMode != "" {
		st.Notes = append(st.Notes, nsMode)
	}
	if !st.Running {
		st.Notes = append(st.Notes, "The supervisor is not running: `ckslab cluster up` restarts the control plane.")
	}
	state, err := readState(nodeDir)
	if err == nil {
		for _, n := range sortedNames(state.Components) {
			cs := state.Components[n].public()
			if !st.Running {
				cs.Running, cs.Ready = false, false
			}
			st.Components = append(st.Components, cs)
		}
	}
	return st, nil
}
