package local

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeExe(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func testResolver(t *testing.T, env map[string]string) *resolver {
	t.Helper()
	return &resolver{
		k8sVersion: "v1.37.2", etcdVersion: "v3.6.16",
		cacheRoot: t.TempDir(), goos: "linux", goarch: "amd64",
		connectTimeout: time.Second,
		getenv:         func(k string) string { return env[k] },
	}
}

func TestResolveOrder(t *testing.T) {
	explicit, envDir, assets := t.TempDir(), t.TempDir(), t.TempDir()
	tests := []struct {
		name  string
		setup func(r *resolver)
		want  map[string]string // binary -> which source
	}{
		{
			name: "explicit dir wins over everything",
			setup: func(r *resolver) {
				for _, n := range binaryNames() {
					writeExe(t, explicit, n, "explicit")
					writeExe(t, envDir, n, "env")
					writeExe(t, r.cacheDir(), n, "cache")
				}
				r.explicitDir = explicit
			},
			want: map[string]string{binEtcd: "explicit", binAPIServer: "explicit", binControllerManager: "explicit"},
		},
		{
			name: "CKSLAB_BIN_DIR before KUBEBUILDER_ASSETS and cache",
			setup: func(r *resolver) {
				writeExe(t, envDir, binEtcd, "env")
				writeExe(t, assets, binEtcd, "assets")
				writeExe(t, assets, binAPIServer, "assets")
				// envtest dirs have no controller-manager; ignore one there.
				writeExe(t, assets, binControllerManager, "assets")
				writeExe(t, r.cacheDir(), binControllerManager, "cache")
				writeExe(t, r.cacheDir(), binAPIServer, "cache")
			},
			want: map[string]string{binEtcd: "env", binAPIServer: "assets", binControllerManager: "cache"},
		},
		{
			name: "non-executable files are skipped",
			setup: func(r *resolver) {
				for _, n := range binaryNames() {
					writeExe(t, r.cacheDir(), n, "cache")
				}
				_ = os.WriteFile(filepath.Join(envDir, binAPIServer), []byte("noexec"), 0o644)
			},
			want: map[string]string{binEtcd: "cache", binAPIServer: "cache", binControllerManager: "cache"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, d := range []string{explicit, envDir, assets} {
				entries, _ := os.ReadDir(d)
				for _, e := range entries {
					os.Remove(filepath.Join(d, e.Name()))
				}
			}
			r := testResolver(t, map[string]string{"CKSLAB_BIN_DIR": envDir, "KUBEBUILDER_ASSETS": assets})
			tt.setup(r)
			got, err := r.Resolve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for bin, src := range tt.want {
				b, err := os.ReadFile(got[bin])
				if err != nil {
					t.Fatal(err)
				}
				if string(b) != src {
					t.Errorf("%s resolved to %s (%q), want source %q", bin, got[bin], b, src)
				}
			}
		})
	}
}

func TestResolveMissingNamesSources(t *testing.T) {
	r := testResolver(t, nil)
	_, err := r.Resolve(context.Background())
	if err == nil {
		t.Fatal("want an error without any binaries")
	}
	for _, want := range []string{"kube-apiserver", r.cacheDir(), "CKSLAB_BIN_DIR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// releaseServer serves dl.k8s.io-style binaries with .sha256 files; a
// corrupt flag makes the checksum lie.
func releaseServer(t *testing.T, corrupt bool) (*httptest.Server, *int) {
	t.Helper()
	hits := new(int)
	mux := http.NewServeMux()
	mux.HandleFunc("/release/v1.37.2/bin/linux/amd64/", func(w http.ResponseWriter, r *http.Request) {
		*hits++
		name := filepath.Base(r.URL.Path)
		body := "#!/bin/sh\necho " + strings.TrimSuffix(name, ".sha256") + "\n"
		if strings.HasSuffix(name, ".sha256") {
			sum := sha256.Sum256([]byte(body[:0] + "#!/bin/sh\necho " + strings.TrimSuffix(name, ".sha256") + "\n"))
			if corrupt {
				sum[0] ^= 0xff
			}
			// dl.k8s.io's .sha256 files hold just the hex digest.
			_, _ = w.Write([]byte(hex.EncodeToString(sum[:])))
			return
		}
		_, _ = w.Write([]byte(body))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, hits
}

func TestResolveDownload(t *testing.T) {
	for _, corrupt := range []bool{false, true} {
		name := "good checksum"
		if corrupt {
			name = "bad checksum"
		}
		t.Run(name, func(t *testing.T) {
			srv, hits := releaseServer(t, corrupt)
			r := testResolver(t, nil)
			r.k8sBaseURL = srv.URL + "/release"
			// etcd is already cached; only the Kubernetes binaries download.
			writeExe(t, r.cacheDir(), binEtcd, "cache")
			got, err := r.Resolve(context.Background())
			if corrupt {
				if err == nil || !strings.Contains(err.Error(), "checksum") {
					t.Fatalf("want a checksum error, got %v (%v)", err, got)
				}
				if _, statErr := os.Stat(filepath.Join(r.cacheDir(), binAPIServer)); statErr == nil {
					t.Fatal("a binary with a bad checksum was installed")
				}
				assertNoTempFiles(t, r.cacheDir())
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(got[binAPIServer])
			if err != nil || !strings.Contains(string(b), "echo kube-apiserver") {
				t.Fatalf("kube-apiserver = %q, %v", b, err)
			}
			if !isExecutable(got[binControllerManager]) {
				t.Fatalf("%s is not executable", got[binControllerManager])
			}
			if *hits == 0 {
				t.Fatal("server not hit")
			}
			assertNoTempFiles(t, r.cacheDir())
		})
	}
}

func TestResolveDownloadUnreachableFallsThrough(t *testing.T) {
	r := testResolver(t, nil)
	// Port 1 on loopback refuses connections at once.
	r.k8sBaseURL = "http://127.0.0.1:1/release"
	r.etcdBaseURL = "http://127.0.0.1:1/etcd"
	start := time.Now()
	_, err := r.Resolve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "download") {
		t.Fatalf("want a download failure in %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("unreachable mirror took %s", time.Since(start))
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left temp file %s in the cache", e.Name())
		}
	}
}

func TestStagingReplaces(t *testing.T) {
	gomod := []byte(`module k8s.io/kubernetes

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/kube-openapi => k8s.io/kube-openapi v0.0.0-2025
)
`)
	got := stagingReplaces(gomod, "v1.37.2")
	want := []string{"replace k8s.io/api => k8s.io/api v0.37.2", "replace k8s.io/client-go => k8s.io/client-go v0.37.2"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestResolveDownloadEtcdTarball(t *testing.T) {
	var tgz bytes.Buffer
	gz := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(gz)
	body := []byte("#!/bin/sh\necho etcd\n")
	for _, h := range []*tar.Header{
		{Name: "etcd-v3.6.16-linux-amd64/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "etcd-v3.6.16-linux-amd64/etcd", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			_, _ = tw.Write(body)
		}
	}
	tw.Close()
	gz.Close()
	sum := sha256.Sum256(tgz.Bytes())
	mux := http.NewServeMux()
	mux.HandleFunc("/etcd/v3.6.16/etcd-v3.6.16-linux-amd64.tar.gz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(tgz.Bytes()) })
	mux.HandleFunc("/etcd/v3.6.16/SHA256SUMS", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "%s  etcd-v3.6.16-darwin-arm64.zip\n%s  etcd-v3.6.16-linux-amd64.tar.gz\n", strings.Repeat("0", 64), hex.EncodeToString(sum[:]))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r := testResolver(t, nil)
	r.etcdBaseURL = srv.URL + "/etcd"
	writeExe(t, r.cacheDir(), binAPIServer, "cache")
	writeExe(t, r.cacheDir(), binControllerManager, "cache")
	got, err := r.Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(got[binEtcd]); !bytes.Equal(b, body) || !isExecutable(got[binEtcd]) {
		t.Fatalf("etcd = %q", b)
	}
	assertNoTempFiles(t, r.cacheDir())
}
