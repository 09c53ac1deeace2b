package kind

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// manifestServer serves fixed manifests and counts requests.
func manifestServer(t *testing.T, files map[string]string) (*httptest.Server, *int32) {
	t.Helper()
	var hits int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			atomic.AddInt32(&hits, 1)
		}
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func noHostFeatures(string) ([]byte, error) { return nil, fs.ErrNotExist }

func newTestBackend(t *testing.T, p *fakeProvider, r *fakeRunner, srvURL string, extra ...Option) *Backend {
	t.Helper()
	calico := ManifestPin{Name: "calico", Version: "v0", URL: srvURL + "/calico.yaml", SHA256: sum("calico-manifest")}
	gk := ManifestPin{Name: "gatekeeper", Version: "v0", URL: srvURL + "/gatekeeper.yaml", SHA256: sum("gk-manifest")}
	opts := append([]Option{WithProvider(p), WithRunner(r), WithStateDir(t.TempDir()), WithCacheDir(t.TempDir()),
		WithHostFileReader(noHostFeatures), WithManifestPins(calico, gk), WithTimeouts(time.Millisecond, 50*time.Millisecond)}, extra...)
	b, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readyRunner() *fakeRunner {
	return (&fakeRunner{}).
		on("daemonset calico-node", "2/2/2", 0).
		on("get nodes", "ckslab-control-plane=True\nckslab-worker=True\n", 0)
}

func TestUpCreatesClusterInstallsCalicoAndAddons(t *testing.T) {
	srv, _ := manifestServer(t, map[string]string{"/calico.yaml": "calico-manifest", "/gatekeeper.yaml": "gk-manifest"})
	p := &fakeProvider{clusters: map[string][]NodeInfo{}}
	r := readyRunner()
	b := newTestBackend(t, p, r, srv.URL)
	var steps []string
	c, err := b.Up(context.Background(), cluster.Spec{Variant: "audit", Addons: []string{AddonGatekeeper}}, func(s cluster.Step) { steps = append(steps, s.ID) })
	if err != nil {
		t.Fatal(err)
	}
	if len(p.created) != 1 {
		t.Fatalf("created %d clusters", len(p.created))
	}
	req := p.created[0]
	if req.Name != "ckslab" || req.NodeImage != DefaultNodeImage || req.KubeconfigPath != b.KubeconfigPath("ckslab") {
		t.Errorf("create request = %+v", req)
	}
	if !strings.HasPrefix(req.KubeconfigPath, b.stateDir) || strings.Contains(req.KubeconfigPath, ".kube") {
		t.Errorf("kubeconfig %s must be under the state dir", req.KubeconfigPath)
	}
	if st, err := os.Stat(req.KubeconfigPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode = %v, %v; want 0600", st, err)
	}
	if !strings.Contains(string(req.Config), filepath.Join(b.hostDir("ckslab"), "audit-logs")) {
		t.Errorf("config not rendered with host dir:\n%s", req.Config)
	}
	if _, err := os.Stat(filepath.Join(b.hostDir("ckslab"), "audit", "policy.yaml")); err != nil {
		t.Errorf("audit policy not copied to the host dir: %v", err)
	}
	if c.Kubeconfig != req.KubeconfigPath || len(c.Nodes) != 2 || c.Nodes[0].Name() != "ckslab-control-plane" || c.Components == nil || c.Etcd == nil {
		t.Errorf("cluster = %+v", c)
	}
	cmds := r.commands()
	applyCalico := "docker exec -i ckslab-control-plane kubectl --kubeconfig=/etc/kubernetes/admin.conf apply --server-side --force-conflicts -f -"
	if first := r.nodeCalls()[0]; first.argv != applyCalico || first.stdin != "calico-manifest" {
		t.Errorf("first node command = %q (stdin %q), want Calico apply", first.argv, first.stdin)
	}
	if !strings.Contains(strings.Join(cmds, "\n"), "gatekeeper-controller-manager") {
		t.Errorf("gatekeeper not installed:\n%s", strings.Join(cmds, "\n"))
	}
	joined := strings.Join(steps, ",")
	for _, id := range []string{"kind-preparing-nodes", "cni", "addon-gatekeeper"} {
		if !strings.Contains(joined, id) {
			t.Errorf("steps %s lack %s", joined, id)
		}
	}
	if c.Capabilities.Has(v1alpha1.CapPSP) || !c.Capabilities.Has(v1alpha1.CapNetpol) {
		t.Errorf("capabilities = %s", c.Capabilities)
	}
}

func TestUpReusesRunningCluster(t *testing.T) {
	srv, _ := manifestServer(t, map[string]string{"/calico.yaml": "calico-manifest"})
	p := &fakeProvider{clusters: map[string][]NodeInfo{"lab": {{"lab-control-plane", cluster.RoleControlPlane}}}}
	b := newTestBackend(t, p, readyRunner(), srv.URL)
	if _, err := b.Up(context.Background(), cluster.Spec{Name: "lab"}, nil); err != nil {
		t.Fatal(err)
	}
	if len(p.created) != 0 || len(p.exported) != 1 {
		t.Fatalf("created=%d exported=%v; want reuse", len(p.created), p.exported)
	}
	// A different variant is refused with a way out.
	if _, err := b.Up(context.Background(), cluster.Spec{Name: "lab", Variant: "psp-legacy"}, nil); err == nil || !strings.Contains(err.Error(), "cluster down") {
		t.Fatalf("variant mismatch err = %v", err)
	}
}

func TestUpPSPLegacy(t *testing.T) {
	srv, _ := manifestServer(t, map[string]string{"/calico.yaml": "calico-manifest"})
	p := &fakeProvider{clusters: map[string][]NodeInfo{}}
	r := readyRunner()
	b := newTestBackend(t, p, r, srv.URL)
	c, err := b.Up(context.Background(), cluster.Spec{Variant: VariantPSPLegacy}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.created[0].NodeImage != LegacyPSPNodeImage {
		t.Errorf("node image = %s", p.created[0].NodeImage)
	}
	if r.nodeCalls()[0].stdin != pspBootstrapManifest {
		t.Errorf("PSP bootstrap must be applied before Calico")
	}
	if !c.Capabilities.Has(v1alpha1.CapPSP) {
		t.Errorf("psp-legacy cluster lacks psp capability")
	}
	got, err := b.Get(context.Background(), "")
	if err != nil || !got.Capabilities.Has(v1alpha1.CapPSP) {
		t.Errorf("Get: %v, caps %v", err, got)
	}
}

func TestNetworkTimeoutNamesWhatIsNotReady(t *testing.T) {
	srv, _ := manifestServer(t, map[string]string{"/calico.yaml": "calico-manifest"})
	p := &fakeProvider{clusters: map[string][]NodeInfo{}}
	r := (&fakeRunner{}).on("daemonset calico-node", "2/1/2", 0).on("get nodes", "ckslab-control-plane=True\nckslab-worker=False\n", 0)
	b := newTestBackend(t, p, r, srv.URL)
	_, err := b.Up(context.Background(), cluster.Spec{}, nil)
	if err == nil || !strings.Contains(err.Error(), "calico-node 1/2 pods ready") || !strings.Contains(err.Error(), "nodes not Ready: ckslab-worker") {
		t.Fatalf("err = %v", err)
	}
}

func TestGetDownStatus(t *testing.T) {
	p := &fakeProvider{clusters: map[string][]NodeInfo{}}
	b := newTestBackend(t, p, &fakeRunner{}, "http://unused")
	if _, err := b.Get(context.Background(), "x"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("Get missing: %v", err)
	}
	st, err := b.Status(context.Background(), "x")
	if err != nil || st.Running {
		t.Errorf("Status missing = %+v, %v", st, err)
	}
	if err := b.Down(context.Background(), "x"); err != nil || p.deleted[0] != "x" {
		t.Errorf("Down: %v %v", err, p.deleted)
	}
}

func TestCapabilities(t *testing.T) {
	facts := func(apparmor, btf bool) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			switch {
			case p == appArmorEnabledPath && apparmor:
				return []byte("Y\n"), nil
			case p == btfPath && btf:
				return []byte{}, nil
			}
			return nil, fs.ErrNotExist
		}
	}
	base := "api,control-plane-node,etcd,gatekeeper,gvisor,netpol,node-services,workloads"
	tests := []struct {
		name     string
		read     func(string) ([]byte, error)
		engineUp bool
		want     string
	}{
		{"no engine", facts(true, true), false, ""},
		{"plain host", facts(false, false), true, base},
		{"apparmor+btf", facts(true, true), true, "api,apparmor,control-plane-node,etcd,falco,gatekeeper,gvisor,netpol,node-services,workloads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{}
			if !tt.engineUp {
				r.on("docker info", "Cannot connect to the Docker daemon", 1)
			}
			b := newTestBackend(t, &fakeProvider{}, r, "http://unused", WithHostFileReader(tt.read))
			if got := b.Capabilities(context.Background()).String(); got != tt.want {
				t.Errorf("caps = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestManifestCache(t *testing.T) {
	srv, hits := manifestServer(t, map[string]string{"/m.yaml": "content"})
	m := manifestCache{dir: t.TempDir(), client: srv.Client()}
	pin := ManifestPin{Name: "m", Version: "v1", URL: srv.URL + "/m.yaml", SHA256: sum("content")}
	for i := 0; i < 2; i++ {
		got, err := m.Get(context.Background(), pin)
		if err != nil || string(got) != "content" {
			t.Fatalf("Get #%d = %q, %v", i, got, err)
		}
	}
	if *hits != 1 {
		t.Errorf("downloads = %d, want 1 (second from cache)", *hits)
	}
	bad := pin
	bad.Version, bad.SHA256 = "v2", sum("other")
	if _, err := m.Get(context.Background(), bad); err == nil || !strings.Contains(strings.ToLower(err.Error()), "checksum") {
		t.Errorf("mismatch err = %v", err)
	}
	if _, err := os.Stat(m.path(bad)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unverified file was cached")
	}
	unpinned := pin
	unpinned.SHA256 = ""
	if _, err := m.Get(context.Background(), unpinned); err == nil {
		t.Errorf("unpinned manifest must be refused")
	}
}
