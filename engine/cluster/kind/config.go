package kind

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"

	"github.com/ckslab/ckslab/kindconfigs"
)

// RenderConfig returns a variant's kind config with the host dir token replaced.
func RenderConfig(variant, hostDir string) ([]byte, error) {
	if variant == "" {
		variant = kindconfigs.DefaultVariant
	}
	raw, err := kindconfigs.Read(variant)
	if err != nil {
		return nil, fmt.Errorf("kind config %q: no such variant (have: %s)", variant, strings.Join(kindconfigs.Variants(), ", "))
	}
	return bytes.ReplaceAll(raw, []byte(kindconfigs.HostDirToken), []byte(hostDir)), nil
}

// ParseConfig decodes a kind config the way kind does (go.yaml.in/yaml/v3,
// unknown fields rejected, see kind's internal/apis/config/encoding) and
// applies kind's public v1alpha4 defaults. kind's own Validate is internal,
// so ValidateConfig re-checks what ckslab's configs rely on.
func ParseConfig(raw []byte) (*v1alpha4.Cluster, error) {
	var tm struct {
		Kind       string `yaml:"kind"`
		APIVersion string `yaml:"apiVersion"`
	}
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return nil, fmt.Errorf("read kind/apiVersion of kind config: %w", err)
	}
	if tm.APIVersion != "kind.x-k8s.io/v1alpha4" || tm.Kind != "Cluster" {
		return nil, fmt.Errorf("kind config must be kind.x-k8s.io/v1alpha4 Cluster, got %s %s", tm.APIVersion, tm.Kind)
	}
	cfg := &v1alpha4.Cluster{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("decode kind config: %w", err)
	}
	v1alpha4.SetDefaultsCluster(cfg)
	return cfg, nil
}

// ValidateConfig reports every problem of a parsed config.
func ValidateConfig(cfg *v1alpha4.Cluster) error {
	var errs []error
	controlPlanes := 0
	for i, n := range cfg.Nodes {
		switch n.Role {
		case v1alpha4.ControlPlaneRole:
			controlPlanes++
		case v1alpha4.WorkerRole:
		default:
			errs = append(errs, fmt.Errorf("nodes[%d].role: %q is not control-plane or worker", i, n.Role))
		}
		for j, m := range n.ExtraMounts {
			if !path.IsAbs(m.ContainerPath) {
				errs = append(errs, fmt.Errorf("nodes[%d].extraMounts[%d].containerPath: %q is not absolute", i, j, m.ContainerPath))
			}
			if !filepath.IsAbs(m.HostPath) {
				errs = append(errs, fmt.Errorf("nodes[%d].extraMounts[%d].hostPath: %q is not absolute", i, j, m.HostPath))
			}
		}
		errs = append(errs, checkKubeadmPatches(fmt.Sprintf("nodes[%d].kubeadmConfigPatches", i), n.KubeadmConfigPatches)...)
		if n.Image != "" && !strings.Contains(n.Image, "@sha256:") {
			errs = append(errs, fmt.Errorf("nodes[%d].image: %q is not pinned by digest", i, n.Image))
		}
	}
	if controlPlanes == 0 {
		errs = append(errs, errors.New("nodes: at least one control-plane node is required"))
	}
	errs = append(errs, checkKubeadmPatches("kubeadmConfigPatches", cfg.KubeadmConfigPatches)...)
	for _, s := range []struct{ field, v string }{{"networking.podSubnet", cfg.Networking.PodSubnet}, {"networking.serviceSubnet", cfg.Networking.ServiceSubnet}} {
		for _, c := range strings.Split(s.v, ",") {
			if _, _, err := net.ParseCIDR(strings.TrimSpace(c)); s.v != "" && err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a CIDR", s.field, c))
			}
		}
	}
	return errors.Join(errs...)
}

// checkKubeadmPatches rejects patches that pin apiVersion: kind renders
// kubeadm v1beta4 from Kubernetes 1.36 (v1beta3 before) and silently drops a
// patch whose apiVersion does not match, so ours must not set one.
func checkKubeadmPatches(field string, patches []string) []error {
	var errs []error
	for i, p := range patches {
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(p), &doc); err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: not YAML: %w", field, i, err))
			continue
		}
		if _, ok := doc["apiVersion"]; ok {
			errs = append(errs, fmt.Errorf("%s[%d]: must not set apiVersion (kind would drop it for other kubeadm versions)", field, i))
		}
		if k, _ := doc["kind"].(string); k == "" {
			errs = append(errs, fmt.Errorf("%s[%d]: kind is required so the patch matches a kubeadm document", field, i))
		}
	}
	return errs
}

// LoadVariant renders, parses and validates a variant.
func LoadVariant(variant, hostDir string) ([]byte, *v1alpha4.Cluster, error) {
	raw, err := RenderConfig(variant, hostDir)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := ParseConfig(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("kind config %q: %w", variant, err)
	}
	if err := ValidateConfig(cfg); err != nil {
		return nil, nil, fmt.Errorf("kind config %q is invalid: %w", variant, err)
	}
	return raw, cfg, nil
}

// prepareHostDir copies kindconfigs/files into hostDir and creates every
// mount source of cfg, so kind's bind mounts find directories, not nothing.
func prepareHostDir(hostDir string, cfg *v1alpha4.Cluster) error {
	files := kindconfigs.FS()
	err := fs.WalkDir(files, "files", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, "files"), "/")
		dst := filepath.Join(hostDir, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if _, err := os.Stat(dst); err == nil {
			return nil // keep what a scenario or learner wrote
		}
		data, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("prepare node files in %s: %w", hostDir, err)
	}
	for _, n := range cfg.Nodes {
		for _, m := range n.ExtraMounts {
			if strings.HasPrefix(m.HostPath, hostDir) {
				if err := os.MkdirAll(m.HostPath, 0o755); err != nil {
					return fmt.Errorf("create mount source %s: %w", m.HostPath, err)
				}
			}
		}
	}
	return nil
}

// imageFromConfig returns the image the config pins for its nodes, if any.
func imageFromConfig(cfg *v1alpha4.Cluster) string {
	for _, n := range cfg.Nodes {
		if n.Image != "" && n.Image != defaultKindImage(cfg) {
			return n.Image
		}
	}
	return ""
}

// defaultKindImage is what v1alpha4 defaulting fills in for nodes without an image.
func defaultKindImage(*v1alpha4.Cluster) string {
	probe := &v1alpha4.Cluster{Nodes: []v1alpha4.Node{{}}}
	v1alpha4.SetDefaultsCluster(probe)
	return probe.Nodes[0].Image
}
