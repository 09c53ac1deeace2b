package kind

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Option configures a Backend.
type Option func(*Backend) error

// WithProvider injects the kind provider seam (tests; or a fixed engine via NewKindProvider).
func WithProvider(p Provider) Option {
	return func(b *Backend) error { b.provider = p; return nil }
}

// WithContainerEngine forces "docker", "podman" or "nerdctl" instead of detecting.
func WithContainerEngine(cli string) Option {
	return func(b *Backend) error {
		p, err := NewKindProvider(cli)
		if err != nil {
			return err
		}
		b.provider = p
		return nil
	}
}

// WithRunner injects the command runner seam.
func WithRunner(r Runner) Option {
	return func(b *Backend) error { b.runner = r; return nil }
}

// WithStateDir sets where kubeconfigs and node files live (default
// $XDG_STATE_HOME/ckslab or ~/.local/state/ckslab).
func WithStateDir(dir string) Option {
	return func(b *Backend) error { b.stateDir = dir; return nil }
}

// WithCacheDir sets where downloaded manifests are cached (default <user cache dir>/ckslab).
func WithCacheDir(dir string) Option {
	return func(b *Backend) error { b.cache.dir = filepath.Join(dir, "manifests"); return nil }
}

// WithHTTPClient sets the client used for manifest downloads.
func WithHTTPClient(c *http.Client) Option {
	return func(b *Backend) error { b.cache.client = c; return nil }
}

// WithHostFileReader replaces os.ReadFile for host facts (tests).
func WithHostFileReader(f func(string) ([]byte, error)) Option {
	return func(b *Backend) error { b.readHostFile = f; return nil }
}

// WithNodeImage overrides DefaultNodeImage: either a registry image pinned
// by digest (name:tag@sha256:..., pulled when missing) or a local image
// (name:tag or sha256:ID) already in the container engine, e.g. built by
// hack/kind-node-image.sh or loaded in an air-gapped room. A local image is
// never pulled; clusters are created from its image ID.
func WithNodeImage(image string) Option {
	return func(b *Backend) error {
		if err := checkNodeImageRef(image); err != nil {
			return err
		}
		b.nodeImage = image
		return nil
	}
}

// WithCNI picks the cluster network: CNICalico (the default: NetworkPolicy
// enforced) or CNIBridge (bridge + host-local from the node image, no
// downloads and no NetworkPolicy; what CI uses offline).
func WithCNI(name string) Option {
	return func(b *Backend) error {
		switch name {
		case "", CNICalico:
			b.cni = CNICalico
		case CNIBridge:
			b.cni = CNIBridge
		default:
			return fmt.Errorf("unknown kind CNI %q: use %s or %s", name, CNICalico, CNIBridge)
		}
		return nil
	}
}

// WithManifestPins overrides the Calico and Gatekeeper manifests (tests, mirrors).
func WithManifestPins(calico, gatekeeper ManifestPin) Option {
	return func(b *Backend) error { b.calico, b.gatekeeper = calico, gatekeeper; return nil }
}

// WithTimeouts sets the readiness poll interval and the Calico/nodes readiness timeout.
func WithTimeouts(poll, ready time.Duration) Option {
	return func(b *Backend) error { b.poll, b.readyTimeout = poll, ready; return nil }
}

// New returns a kind backend. The container engine is detected lazily, so
// constructing a backend never fails on a host without Docker.
func New(opts ...Option) (*Backend, error) {
	b := &Backend{
		runner:       OSRunner{},
		readHostFile: os.ReadFile,
		nodeImage:    DefaultNodeImage,
		cni:          CNICalico,
		calico:       CalicoPin(),
		gatekeeper:   GatekeeperPin(),
		addonSource:  AddonSourceDownload,
		poll:         3 * time.Second,
		readyTimeout: 5 * time.Minute,
		newProvider:  func() (Provider, error) { return NewKindProvider("") },
	}
	for _, o := range opts {
		if err := o(b); err != nil {
			return nil, err
		}
	}
	if err := b.checkNetwork(); err != nil {
		return nil, err
	}
	if b.stateDir == "" {
		dir, err := defaultStateDir()
		if err != nil {
			return nil, err
		}
		b.stateDir = dir
	}
	if b.cache.dir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("find the user cache dir: %w (set XDG_CACHE_HOME or HOME)", err)
		}
		b.cache.dir = filepath.Join(dir, "ckslab", "manifests")
	}
	if b.cache.client == nil {
		b.cache.client = &http.Client{Timeout: 2 * time.Minute}
	}
	return b, nil
}

func defaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ckslab"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home directory for ckslab state: %w (set XDG_STATE_HOME)", err)
	}
	return filepath.Join(home, ".local", "state", "ckslab"), nil
}
