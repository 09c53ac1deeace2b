package kind

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
)

// Where add-ons come from (CKSLAB_KIND_ADDON_SOURCE).
const (
	// AddonSourceDownload is the default: gVisor's release binaries are
	// downloaded into the nodes (checked against their .sha512), the
	// Gatekeeper release manifest is downloaded (checked against
	// GatekeeperSHA256) and its image pulled from its registry.
	AddonSourceDownload = "download"
	// AddonSourceCache downloads nothing: everything comes from a node image
	// built by hack/kind-node-image.sh, which carries runsc and
	// containerd-shim-runsc-v1 (built from the gvisor.dev/gvisor module) in
	// /usr/local/bin, the Gatekeeper image (built from the gatekeeper module
	// at GatekeeperVersion) in containerd's store, and the release manifest
	// (the module's deploy/gatekeeper.yaml) in cacheGatekeeperManifest. CI
	// uses it: nothing can be downloaded there.
	AddonSourceCache = "cache"
)

// cacheGatekeeperManifest is where hack/kind-node-image.sh puts the pinned
// Gatekeeper manifest in the node image.
const cacheGatekeeperManifest = "/kind/ckslab/addons/gatekeeper.yaml"

// AddonSources lists the accepted add-on sources.
func AddonSources() []string { return []string{AddonSourceDownload, AddonSourceCache} }

// WithAddonSource picks where add-ons come from: AddonSourceDownload ("" is
// the same) or AddonSourceCache.
func WithAddonSource(src string) Option {
	return func(b *Backend) error {
		switch src {
		case "", AddonSourceDownload:
			b.addonSource = AddonSourceDownload
		case AddonSourceCache:
			b.addonSource = AddonSourceCache
		default:
			return fmt.Errorf("unknown kind add-on source %q: use %s (release downloads, the default) or %s (from a node image built by hack/kind-node-image.sh)",
				src, AddonSourceDownload, AddonSourceCache)
		}
		return nil
	}
}

// gatekeeperManifest is the pinned release manifest: downloaded (and
// cached) by default; with the cache source read from the control-plane
// node and checked against the same pin, then made to use the preloaded
// image (the release says imagePullPolicy: Always, which pulls).
func (b *Backend) gatekeeperManifest(ctx context.Context, c *cluster.Cluster) ([]byte, error) {
	if b.addonSource != AddonSourceCache {
		return b.cache.Get(ctx, b.gatekeeper)
	}
	n, err := c.Node("")
	if err != nil {
		return nil, err
	}
	data, err := n.Exec(ctx, nil, "cat", cacheGatekeeperManifest)
	if err != nil {
		return nil, fmt.Errorf("read the Gatekeeper manifest from node %s (%s=%s needs a node image built by hack/kind-node-image.sh): %w",
			n.Name(), AddonSourceEnv, AddonSourceCache, err)
	}
	if err := verifySHA256(data, b.gatekeeper.SHA256); err != nil {
		return nil, fmt.Errorf("the Gatekeeper manifest in the node image (%s) is not the pinned %s: %w (rebuild the image with hack/kind-node-image.sh)",
			cacheGatekeeperManifest, b.gatekeeper.Version, err)
	}
	return PreloadedImages(data)
}

// AddonSourceEnv is the environment variable that selects the add-on source.
const AddonSourceEnv = "CKSLAB_KIND_ADDON_SOURCE"

var pullAlways = regexp.MustCompile(`(?m)^([ \t]*imagePullPolicy:[ \t]*)Always[ \t]*$`)

// PreloadedImages rewrites every `imagePullPolicy: Always` of a manifest to
// IfNotPresent, so its pods start from images already in the nodes'
// containerd. It fails when the manifest names no pull policy to rewrite,
// and the result is the input otherwise byte for byte.
func PreloadedImages(manifest []byte) ([]byte, error) {
	if !pullAlways.Match(manifest) {
		return nil, fmt.Errorf("the manifest has no imagePullPolicy: Always to rewrite (has the release changed?)")
	}
	return pullAlways.ReplaceAll(manifest, []byte("${1}IfNotPresent")), nil
}

// gvisorProvenPath marks a cluster whose nodes ran a pod under runsc (the
// gvisor add-on's probe); only then does the cluster report CapGVisor.
func (b *Backend) gvisorProvenPath(name string) string {
	return filepath.Join(b.clusterDir(name), "gvisor-proven")
}

// withProvenAddons drops CapGVisor from caps unless the cluster's probe
// proved the runsc handler.
func (b *Backend) withProvenAddons(name string, caps cluster.Capabilities) cluster.Capabilities {
	if _, err := os.Stat(b.gvisorProvenPath(name)); err != nil {
		delete(caps, v1alpha1.CapGVisor)
	}
	return caps
}

// recordAddon notes what an add-on's install proved: after the gvisor
// add-on (whose last steps run a probe pod per node under runsc and check
// that its dmesg shows gVisor) the cluster reports CapGVisor.
func (b *Backend) recordAddon(c *cluster.Cluster, addon string, installErr error) error {
	if addon != AddonGVisor {
		return nil
	}
	path := b.gvisorProvenPath(c.Name)
	if installErr != nil {
		_ = os.Remove(path)
		delete(c.Capabilities, v1alpha1.CapGVisor)
		return nil
	}
	if err := os.WriteFile(path, []byte("runsc ran a probe pod on every node\n"), 0o600); err != nil {
		return fmt.Errorf("record the gvisor probe: %w", err)
	}
	if c.Capabilities == nil {
		c.Capabilities = cluster.Capabilities{}
	}
	c.Capabilities[v1alpha1.CapGVisor] = true
	return nil
}
