package crds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testBundle(content string) Bundle {
	sum := sha256.Sum256([]byte(content))
	return Bundle{Name: "demo", Version: "1.0", Module: "example.com/Demo", ModuleVersion: "v1.0.0",
		ModulePath: "crds/all.yaml", SHA256: hex.EncodeToString(sum[:])}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestGetFromModuleCacheVerifiesAndCaches(t *testing.T) {
	mod, cache := t.TempDir(), t.TempDir()
	b := testBundle("kind: CustomResourceDefinition\n")
	p := filepath.Join(mod, "example.com", "!demo@v1.0.0", "crds", "all.yaml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("kind: CustomResourceDefinition\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.URL = "http://127.0.0.1:1/never" // must not be needed
	s := Source{Getenv: env(map[string]string{"GOMODCACHE": mod, "CKSLAB_CACHE_DIR": cache})}
	data, from, err := s.Get(context.Background(), b)
	if err != nil || from != p || string(data) != "kind: CustomResourceDefinition\n" {
		t.Fatalf("Get = %q, %q, %v; want the module file", data, from, err)
	}
	// Second call is served by the ckslab cache even without the module.
	if err := os.RemoveAll(mod); err != nil {
		t.Fatal(err)
	}
	if _, from, err := s.Get(context.Background(), b); err != nil || !strings.HasPrefix(from, filepath.Join(cache, "crds")) {
		t.Fatalf("second Get from %q, %v; want the ckslab cache", from, err)
	}
}

func TestGetRejectsTamperedModuleFileAndDownloadsVerified(t *testing.T) {
	mod, cache := t.TempDir(), t.TempDir()
	good := "kind: CustomResourceDefinition\nmetadata: {name: x}\n"
	b := testBundle(good)
	p := filepath.Join(mod, "example.com", "!demo@v1.0.0", "crds", "all.yaml")
	_ = os.MkdirAll(filepath.Dir(p), 0o755)
	_ = os.WriteFile(p, []byte("tampered"), 0o644)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(good)) }))
	defer srv.Close()
	b.URL = srv.URL + "/all.yaml"
	s := Source{Getenv: env(map[string]string{"GOMODCACHE": mod, "CKSLAB_CACHE_DIR": cache}), Client: srv.Client()}
	data, from, err := s.Get(context.Background(), b)
	if err != nil || from != b.URL || string(data) != good {
		t.Fatalf("Get = %q, %q, %v; want the verified download", data, from, err)
	}
}

func TestGetRefusesWrongDownload(t *testing.T) {
	b := testBundle("the real file")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("something else")) }))
	defer srv.Close()
	b.URL = srv.URL + "/all.yaml"
	s := Source{Getenv: env(map[string]string{"GOMODCACHE": t.TempDir(), "CKSLAB_CACHE_DIR": t.TempDir()}), Client: srv.Client()}
	_, _, err := s.Get(context.Background(), b)
	if err == nil || !strings.Contains(err.Error(), "go mod download example.com/Demo@v1.0.0") {
		t.Fatalf("err = %v; want a checksum failure naming the offline way", err)
	}
}

func TestLookup(t *testing.T) {
	b, err := Lookup("istio")
	if err != nil || b.SHA256 != IstioCRDSHA256 || !strings.Contains(b.URL, IstioCommit) || !strings.HasSuffix(b.ModuleVersion, IstioCommit) {
		t.Fatalf("Lookup(istio) = %+v, %v", b, err)
	}
	if _, err := Lookup("cilium"); err == nil || !strings.Contains(err.Error(), "have: istio") {
		t.Fatalf("Lookup(cilium) err = %v", err)
	}
}
