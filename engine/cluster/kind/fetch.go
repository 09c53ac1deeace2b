package kind

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	getter "github.com/hashicorp/go-getter/v2"
)

// manifestCache downloads pinned manifests once into dir and verifies them.
type manifestCache struct {
	dir    string
	client *http.Client
}

// path is the cache file of a pin; the checksum is part of the name so a bump
// never reuses a stale file.
func (m manifestCache) path(p ManifestPin) string {
	short := p.SHA256
	if len(short) > 12 {
		short = short[:12]
	}
	return filepath.Join(m.dir, fmt.Sprintf("%s-%s-%s.yaml", p.Name, p.Version, short))
}

// Get returns the pinned manifest, downloading it through go-getter (which
// verifies the sha256) when it is not cached.
func (m manifestCache) Get(ctx context.Context, p ManifestPin) ([]byte, error) {
	if p.SHA256 == "" {
		return nil, fmt.Errorf("%s manifest %s has no pinned sha256; refusing to download unverified content", p.Name, p.Version)
	}
	dst := m.path(p)
	if data, err := os.ReadFile(dst); err == nil {
		if err := verifySHA256(data, p.SHA256); err == nil {
			return data, nil
		}
		// A corrupt cache entry is replaced below.
	}
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create manifest cache %s: %w", m.dir, err)
	}
	tmp := dst + ".download"
	_ = os.Remove(tmp)
	httpGetter := &getter.HttpGetter{
		Netrc:                 false,
		XTerraformGetDisabled: true,
		Client:                m.client,
	}
	sep := "?"
	if strings.Contains(p.URL, "?") {
		sep = "&"
	}
	c := &getter.Client{
		Getters: []getter.Getter{httpGetter},
		// No decompressors: the source is a plain https URL.
		Decompressors: map[string]getter.Decompressor{},
	}
	if _, err := c.Get(ctx, &getter.Request{Src: p.URL + sep + "checksum=sha256:" + p.SHA256, Dst: tmp, GetMode: getter.ModeFile}); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("download %s manifest %s from %s: %w (if offline, load a bundle with `ckslab images load`, or place the verified file at %s)",
			p.Name, p.Version, p.URL, err, dst)
	}
	data, err := os.ReadFile(tmp)
	if err != nil {
		return nil, fmt.Errorf("read downloaded %s manifest: %w", p.Name, err)
	}
	if err := verifySHA256(data, p.SHA256); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("%s manifest %s: %w", p.Name, p.Version, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return nil, fmt.Errorf("store %s manifest in cache: %w", p.Name, err)
	}
	return data, nil
}

// Put stores verified content for a pin (used when loading an offline bundle).
func (m manifestCache) Put(p ManifestPin, data []byte) error {
	if err := verifySHA256(data, p.SHA256); err != nil {
		return fmt.Errorf("%s manifest %s: %w", p.Name, p.Version, err)
	}
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return fmt.Errorf("create manifest cache %s: %w", m.dir, err)
	}
	return os.WriteFile(m.path(p), data, 0o644)
}

func verifySHA256(data []byte, want string) error {
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if !bytes.Equal([]byte(got), []byte(strings.ToLower(want))) {
		return fmt.Errorf("checksum mismatch: got sha256 %s, want %s (the pin in engine/cluster/kind/pins.go may be stale)", got, want)
	}
	return nil
}
