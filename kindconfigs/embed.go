// Package kindconfigs holds ckslab's kind v1alpha4 cluster configs, one per
// cluster variant, and the host files they mount into nodes.
//
// Configs use the token __CKSLAB_HOST_DIR__ for the per-cluster host directory
// (under the user's state dir) that is bind-mounted into nodes; the kind
// backend replaces it before handing the config to kind.
package kindconfigs

import (
	"embed"
	"io/fs"
)

// HostDirToken is replaced by the cluster's host directory before kind reads
// a config.
const HostDirToken = "__CKSLAB_HOST_DIR__"

// DefaultVariant is the config used when a scenario asks for none.
const DefaultVariant = "default"

//go:embed *.yaml files
var embedded embed.FS

// FS returns the embedded configs: <variant>.yaml at the root and host files
// under files/<dir>/ (copied to <host dir>/<dir>/ before the cluster starts).
func FS() embed.FS { return embedded }

// Variants lists the config names (without .yaml), sorted.
func Variants() []string {
	entries, err := fs.ReadDir(embedded, ".")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if name, ok := cutYAML(e.Name()); ok && !e.IsDir() {
			out = append(out, name)
		}
	}
	return out
}

// Read returns the raw config of a variant ("" means DefaultVariant).
func Read(variant string) ([]byte, error) {
	if variant == "" {
		variant = DefaultVariant
	}
	return fs.ReadFile(embedded, variant+".yaml")
}

func cutYAML(name string) (string, bool) {
	const ext = ".yaml"
	if len(name) > len(ext) && name[len(name)-len(ext):] == ext {
		return name[:len(name)-len(ext)], true
	}
	return "", false
}
