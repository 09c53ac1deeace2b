package local

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

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
