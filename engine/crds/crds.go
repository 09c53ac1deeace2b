// Package crds installs third-party CustomResourceDefinitions that a scenario
// names in spec.cluster.crds (Istio's PeerAuthentication, DestinationRule...),
// from the project's own release files, pinned by version and sha256: never a
// hand-written stand-in.
//
// The file is looked up, in order, in the ckslab cache
// ($CKSLAB_CACHE_DIR or the user cache dir, crds/), in the Go module cache
// (the project publishes its repository as a Go module, so
// `go mod download <module>@<version>` brings the same file offline; that is
// how CI gets it, see hack/istio-crds.sh), and at last downloaded from the
// pinned URL. Every source is verified against the same sha256.
package crds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	getter "github.com/hashicorp/go-getter/v2"
)

// Bundle is one pinned CRD file.
type Bundle struct {
	// Name is what spec.cluster.crds says.
	Name string
	// Version is the upstream version (shown in messages, part of the cache name).
	Version string
	// Module and ModuleVersion locate the file in the Go module cache;
	// ModulePath is its path inside the module.
	Module, ModuleVersion, ModulePath string
	// URL downloads the same bytes.
	URL string
	// SHA256 of the file.
	SHA256 string
	// Kinds the scenario relies on (group/plural), waited for until Established.
	Wait []string
}

// Istio's CRDs: manifests/charts/base/files/crd-all.gen.yaml (the file
// `istioctl install` and the istio/base Helm chart apply) at commit
// eed52ebb66ad of istio/istio (VERSION 1.31 development line, 2026-08-27),
// the newest commit the Go module proxy serves as istio.io/istio.
//
// Update: pick a served pseudo-version, then
//
//	hack/istio-crds.sh <pseudo-version>   # prints the sha256 of the file
//
// and update IstioModuleVersion, IstioCommit and IstioCRDSHA256 together.
const (
	IstioModuleVersion = "v0.0.0-20260827124520-eed52ebb66ad"
	IstioCommit        = "eed52ebb66ad"
	IstioCRDPath       = "manifests/charts/base/files/crd-all.gen.yaml"
	IstioCRDSHA256     = "c0ad59e008658765412badb836e73a523a355e3d792a32ad3c0711a728be5aff"
)

// Known returns the bundles scenarios may name.
func Known() []Bundle {
	return []Bundle{{
		Name:          "istio",
		Version:       "1.31-dev+" + IstioCommit,
		Module:        "istio.io/istio",
		ModuleVersion: IstioModuleVersion,
		ModulePath:    IstioCRDPath,
		URL:           "https://raw.githubusercontent.com/istio/istio/" + IstioCommit + "/" + IstioCRDPath,
		SHA256:        IstioCRDSHA256,
		Wait: []string{"peerauthentications.security.istio.io", "destinationrules.networking.istio.io",
			"authorizationpolicies.security.istio.io"},
	}}
}

// Lookup returns the bundle called name.
func Lookup(name string) (Bundle, error) {
	var names []string
	for _, b := range Known() {
		if b.Name == name {
			return b, nil
		}
		names = append(names, b.Name)
	}
	return Bundle{}, fmt.Errorf("unknown CRD bundle %q (have: %s)", name, strings.Join(names, ", "))
}

// Source finds a bundle's file. Getenv defaults to os.Getenv.
type Source struct {
	Getenv func(string) string
	Client *http.Client
}

func (s Source) getenv(k string) string {
	if s.Getenv == nil {
		return os.Getenv(k)
	}
	return s.Getenv(k)
}

func (s Source) cacheDir() (string, error) {
	if d := s.getenv("CKSLAB_CACHE_DIR"); d != "" {
		return filepath.Join(d, "crds"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the user cache dir: %w (set CKSLAB_CACHE_DIR)", err)
	}
	return filepath.Join(d, "ckslab", "crds"), nil
}

// moduleDirs are the candidate Go module caches: GOMODCACHE, each GOPATH
// entry's pkg/mod, and ~/go/pkg/mod.
func (s Source) moduleDirs() []string {
	var out []string
	if d := s.getenv("GOMODCACHE"); d != "" {
		out = append(out, d)
	}
	for _, p := range filepath.SplitList(s.getenv("GOPATH")) {
		if p != "" {
			out = append(out, filepath.Join(p, "pkg", "mod"))
		}
	}
	if h, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(h, "go", "pkg", "mod"))
	}
	return out
}

// Get returns the verified file of b and where it came from.
func (s Source) Get(ctx context.Context, b Bundle) ([]byte, string, error) {
	if b.SHA256 == "" {
		return nil, "", fmt.Errorf("CRD bundle %s has no pinned sha256; refusing unverified content", b.Name)
	}
	dir, err := s.cacheDir()
	if err != nil {
		return nil, "", err
	}
	cached := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.yaml", b.Name, b.ModuleVersion, b.SHA256[:12]))
	if data, err := os.ReadFile(cached); err == nil && verify(data, b.SHA256) == nil {
		return data, cached, nil
	}
	var tried []string
	for _, mc := range s.moduleDirs() {
		p := filepath.Join(mc, escapeModule(b.Module)+"@"+b.ModuleVersion, filepath.FromSlash(b.ModulePath))
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if err := verify(data, b.SHA256); err != nil {
			tried = append(tried, p+": "+err.Error())
			continue
		}
		_ = store(cached, data)
		return data, p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("create CRD cache %s: %w", dir, err)
	}
	tmp := cached + ".download"
	_ = os.Remove(tmp)
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	hg := &getter.HttpGetter{Netrc: false, XTerraformGetDisabled: true, Client: client}
	c := &getter.Client{
		Getters:       []getter.Getter{hg},
		Decompressors: map[string]getter.Decompressor{},
	}
	if _, err := c.Get(ctx, &getter.Request{Src: b.URL + "?checksum=sha256:" + b.SHA256, Dst: tmp, GetMode: getter.ModeFile}); err != nil {
		_ = os.Remove(tmp)
		msg := fmt.Sprintf("get %s CRDs %s: download %s: %v; offline, run `go mod download %s@%s` (or hack/istio-crds.sh), or place the verified file at %s",
			b.Name, b.Version, b.URL, err, b.Module, b.ModuleVersion, cached)
		if len(tried) > 0 {
			msg += " (rejected: " + strings.Join(tried, "; ") + ")"
		}
		return nil, "", fmt.Errorf("%s", msg)
	}
	data, err := os.ReadFile(tmp)
	_ = os.Remove(tmp)
	if err != nil {
		return nil, "", fmt.Errorf("read downloaded %s CRDs: %w", b.Name, err)
	}
	if err := verify(data, b.SHA256); err != nil {
		return nil, "", fmt.Errorf("%s CRDs from %s: %w", b.Name, b.URL, err)
	}
	if err := store(cached, data); err != nil {
		return nil, "", err
	}
	return data, b.URL, nil
}

func store(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create CRD cache: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("store CRDs in cache: %w", err)
	}
	return os.Rename(tmp, path)
}

func verify(data []byte, want string) error {
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, want) {
		return fmt.Errorf("checksum mismatch: got sha256 %s, want %s (the pin in engine/crds may be stale)", got, want)
	}
	return nil
}

// escapeModule applies the module cache's case encoding (an upper-case
// letter becomes '!' and its lower case).
func escapeModule(m string) string {
	var b strings.Builder
	for _, r := range m {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			b.WriteRune(r + ('a' - 'A'))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
