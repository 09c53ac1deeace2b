package kind

// Pinned versions. Bump them together with their checksums; a stale checksum
// fails the download with a message naming the file, never silently.

// DefaultNodeImage is the Kubernetes node image, pinned by digest.
// Source: kind v0.33.0 release notes, "Images pre-built for this release"
// (https://github.com/kubernetes-sigs/kind/releases/tag/v0.33.0). kind v0.33.0
// itself defaults to v1.37.0; ckslab pins the 1.35 line the CKS exam targets.
const DefaultNodeImage = "kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0"

// LegacyPSPNodeImage is the last node image line with PodSecurityPolicy
// (v1.24), as published with kind v0.18.0
// (https://github.com/kubernetes-sigs/kind/releases/tag/v0.18.0). Best effort:
// kind v0.33.0 does not build 1.24 images. Also set in kindconfigs/psp-legacy.yaml.
const LegacyPSPNodeImage = "kindest/node:v1.24.12@sha256:1e12918b8bc3d4253bc08f640a231bb0d3b2c5a9b28aa3f2ca1aee93e1e8db16"

// Calico manifest install (manifests/calico.yaml of the release tag).
// Update: pick a tag, then
//
//	curl -fsSL https://raw.githubusercontent.com/projectcalico/calico/<tag>/manifests/calico.yaml | sha256sum
//
// (equivalently `git show <tag>:manifests/calico.yaml | sha256sum` in a clone)
// and update CalicoVersion, CalicoSHA256 and CalicoImages.
const (
	CalicoVersion = "v3.31.7"
	CalicoSHA256  = "d6d8a489a4ed8e5b8efd8b339047b496ca657b55ee2e3618e791507b0a853e8d"
)

// CalicoManifestURL is where the pinned Calico manifest is downloaded from.
func CalicoManifestURL() string {
	return "https://raw.githubusercontent.com/projectcalico/calico/" + CalicoVersion + "/manifests/calico.yaml"
}

// CalicoImages are the images the pinned manifest runs (for offline bundles).
func CalicoImages() []string {
	return []string{
		"quay.io/calico/cni:" + CalicoVersion,
		"quay.io/calico/node:" + CalicoVersion,
		"quay.io/calico/kube-controllers:" + CalicoVersion,
	}
}

// Gatekeeper release manifest (deploy/gatekeeper.yaml of the release tag).
// Update the same way as Calico:
//
//	curl -fsSL https://raw.githubusercontent.com/open-policy-agent/gatekeeper/<tag>/deploy/gatekeeper.yaml | sha256sum
const (
	GatekeeperVersion = "v3.23.0"
	GatekeeperSHA256  = "a040ef68f2227c748ab282cd041c474894727520682a41454a232f6a1914b0a6"
)

// GatekeeperManifestURL is where the pinned Gatekeeper manifest is downloaded from.
func GatekeeperManifestURL() string {
	return "https://raw.githubusercontent.com/open-policy-agent/gatekeeper/" + GatekeeperVersion + "/deploy/gatekeeper.yaml"
}

// GVisorRelease is the gVisor release the gvisor add-on installs; binaries are
// verified in the node against the .sha512 files published next to them.
const GVisorRelease = "20250707.0"

// FalcoImage is the Falco image the falco add-on runs (modern_ebpf driver,
// which needs kernel BTF and no kernel module).
const FalcoImage = "docker.io/falcosecurity/falco:0.41.3"

// ManifestPin names a downloadable manifest and its expected sha256.
type ManifestPin struct {
	Name    string
	Version string
	URL     string
	SHA256  string
}

// CalicoPin is the pinned Calico manifest.
func CalicoPin() ManifestPin {
	return ManifestPin{Name: "calico", Version: CalicoVersion, URL: CalicoManifestURL(), SHA256: CalicoSHA256}
}

// GatekeeperPin is the pinned Gatekeeper manifest.
func GatekeeperPin() ManifestPin {
	return ManifestPin{Name: "gatekeeper", Version: GatekeeperVersion, URL: GatekeeperManifestURL(), SHA256: GatekeeperSHA256}
}
