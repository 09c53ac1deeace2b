package kind

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
)

// On a cgroup v1 host kubelet ≥1.35 refuses to start unless failCgroupV1 is
// false: Up must patch every node's KubeletConfiguration (and relax
// kubeadm's SystemVerification), and only there.
func TestUpOnCgroupV1HostPatchesKubelet(t *testing.T) {
	for _, tc := range []struct {
		version   string
		wantPatch bool
	}{{"1", true}, {"2", false}, {"", false}} {
		t.Run("cgroup v"+tc.version, func(t *testing.T) {
			srv, _ := manifestServer(t, map[string]string{"/calico.yaml": "calico-manifest"})
			p := &fakeProvider{clusters: map[string][]NodeInfo{}}
			r := (&fakeRunner{}).on("info --format {{.CgroupVersion}}", tc.version+"\n", 0).
				on("daemonset calico-node", "2/2/2", 0).
				on("get nodes", "ckslab-control-plane=True\nckslab-worker=True\n", 0)
			b := newTestBackend(t, p, r, srv.URL)
			var titles []string
			if _, err := b.Up(context.Background(), cluster.Spec{Variant: "audit"}, func(s cluster.Step) { titles = append(titles, s.Title) }); err != nil {
				t.Fatal(err)
			}
			raw := p.created[0].Config
			cfg, err := ParseConfig(raw)
			if err != nil {
				t.Fatalf("patched config does not parse: %v\n%s", err, raw)
			}
			if err := ValidateConfig(cfg); err != nil {
				t.Fatalf("patched config invalid: %v", err)
			}
			joined := strings.Join(cfg.KubeadmConfigPatches, "\n---\n")
			has := strings.Contains(joined, "kind: KubeletConfiguration\nfailCgroupV1: false") &&
				strings.Contains(joined, "ignorePreflightErrors: [SystemVerification]")
			if has != tc.wantPatch {
				t.Fatalf("cgroup v%q: patch present = %v, want %v; patches:\n%s", tc.version, has, tc.wantPatch, joined)
			}
			said := strings.Contains(strings.Join(titles, "\n"), "failCgroupV1: false")
			if said != tc.wantPatch {
				t.Errorf("progress mentions the patch = %v, want %v: %q", said, tc.wantPatch, titles)
			}
			// The variant's own content survives (the audit config mounts the audit logs).
			if !strings.Contains(string(raw), "audit-logs") {
				t.Errorf("variant content lost:\n%s", raw)
			}
		})
	}
}

func TestWithClusterPatchesKeepsExistingPatches(t *testing.T) {
	raw := []byte("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nkubeadmConfigPatches:\n- |\n  kind: ClusterConfiguration\n  apiServer: {}\nnodes:\n- role: control-plane\n")
	out, err := withClusterPatches(raw, CgroupV1Patches()...)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.KubeadmConfigPatches) != 1+len(CgroupV1Patches()) || !strings.Contains(cfg.KubeadmConfigPatches[0], "ClusterConfiguration") {
		t.Fatalf("patches = %q", cfg.KubeadmConfigPatches)
	}
	if _, err := withClusterPatches([]byte("- a\n"), "kind: X\n"); err == nil {
		t.Fatal("a non-mapping config must be refused")
	}
}

// A local node image (built here, or loaded in an air-gapped room) has no
// registry digest: it is accepted, pinned by its image ID, and never pulled.
func TestUpLocalNodeImagePinnedByID(t *testing.T) {
	const id = "sha256:4f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"
	srv, _ := manifestServer(t, map[string]string{"/calico.yaml": "calico-manifest"})
	p := &fakeProvider{clusters: map[string][]NodeInfo{}}
	r := (&fakeRunner{}).on("image inspect --format {{.Id}} ckslab.local/kind-node:v1.35.4-abc", id+"\n", 0).
		on("daemonset calico-node", "2/2/2", 0).
		on("get nodes", "ckslab-control-plane=True\nckslab-worker=True\n", 0)
	b := newTestBackend(t, p, r, srv.URL, WithNodeImage("ckslab.local/kind-node:v1.35.4-abc"))
	var titles []string
	if _, err := b.Up(context.Background(), cluster.Spec{}, func(s cluster.Step) { titles = append(titles, s.Title) }); err != nil {
		t.Fatal(err)
	}
	if got := p.created[0].NodeImage; got != id {
		t.Fatalf("nodes created from %q, want the image ID %q", got, id)
	}
	if !strings.Contains(strings.Join(titles, "\n"), "local node image ckslab.local/kind-node:v1.35.4-abc (sha256:4f1e2d3c4b5a)") {
		t.Errorf("progress does not say which local image: %q", titles)
	}

	// Absent from the engine: a clear error, nothing created, nothing pulled.
	p2 := &fakeProvider{clusters: map[string][]NodeInfo{}}
	r2 := (&fakeRunner{}).on("image inspect", "Error: No such image", 1)
	b2 := newTestBackend(t, p2, r2, srv.URL, WithNodeImage("my/node:v1"))
	_, err := b2.Up(context.Background(), cluster.Spec{}, nil)
	if err == nil || !strings.Contains(err.Error(), "not in docker's image store") || !strings.Contains(err.Error(), "docker load") {
		t.Fatalf("missing local image err = %v", err)
	}
	if len(p2.created) != 0 || strings.Contains(strings.Join(r2.commands(), "\n"), "pull") {
		t.Fatalf("created %d clusters, commands %q", len(p2.created), r2.commands())
	}
	// A digest-pinned reference is used as is (kind pulls it when missing).
	p3 := &fakeProvider{clusters: map[string][]NodeInfo{}}
	b3 := newTestBackend(t, p3, readyRunner(), srv.URL, WithNodeImage("kindest/node:v1.35.8@sha256:abc"))
	if _, err := b3.Up(context.Background(), cluster.Spec{}, nil); err != nil || p3.created[0].NodeImage != "kindest/node:v1.35.8@sha256:abc" {
		t.Fatalf("digest image: %v %+v", err, p3.created)
	}
	if _, err := New(WithNodeImage("bad image")); err == nil {
		t.Fatal("an image reference with spaces must be refused")
	}
}

func TestUpBridgeCNI(t *testing.T) {
	p := &fakeProvider{clusters: map[string][]NodeInfo{}}
	r := (&fakeRunner{}).
		on("{.spec.podCIDR}", "ckslab-control-plane 192.168.0.0/24 172.18.0.2\nckslab-worker 192.168.1.0/24 172.18.0.3\n", 0).
		on("get nodes", "ckslab-control-plane=True\nckslab-worker=True\n", 0)
	// No manifest server: the bridge CNI downloads nothing.
	b := newTestBackend(t, p, r, "http://127.0.0.1:1", WithCNI(CNIBridge))
	c, err := b.Up(context.Background(), cluster.Spec{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var conf []call
	for _, cl := range r.nodeCalls() {
		if strings.Contains(cl.argv, bridgeConfPath) {
			conf = append(conf, cl)
		}
		if strings.Contains(cl.argv, "calico") || strings.Contains(cl.argv, "apply") {
			t.Errorf("bridge cluster ran %q", cl.argv)
		}
	}
	if len(conf) != 2 {
		t.Fatalf("bridge config written %d times, want once per node: %q", len(conf), r.commands())
	}
	want := map[string][2]string{
		"ckslab-control-plane": {"192.168.0.0/24", "ip route replace 192.168.1.0/24 via 172.18.0.3"},
		"ckslab-worker":        {"192.168.1.0/24", "ip route replace 192.168.0.0/24 via 172.18.0.2"},
	}
	for _, cl := range conf {
		node := strings.Fields(cl.argv)[3]
		w := want[node]
		if !strings.Contains(cl.stdin, `"subnet": "`+w[0]+`"`) || !strings.Contains(cl.argv, w[1]) {
			t.Errorf("node %s: %q with config\n%s", node, cl.argv, cl.stdin)
		}
	}
	if c.Capabilities.Has(v1alpha1.CapNetpol) || !c.Capabilities.Has(v1alpha1.CapWorkloads) {
		t.Errorf("bridge capabilities = %s (no NetworkPolicy enforcement, workloads run)", c.Capabilities)
	}
	if got := b.cniOf("ckslab"); got != CNIBridge {
		t.Errorf("recorded CNI = %q", got)
	}
	// Reusing the cluster with Calico asked for is refused.
	b2, err := New(WithProvider(p), WithRunner(r), WithStateDir(b.stateDir), WithCacheDir(t.TempDir()), WithHostFileReader(noHostFeatures))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b2.Up(context.Background(), cluster.Spec{}, nil); err == nil || !strings.Contains(err.Error(), "CNI bridge") {
		t.Fatalf("CNI mismatch err = %v", err)
	}
	if _, err := New(WithCNI("flannel")); err == nil {
		t.Fatal("unknown CNI must be refused")
	}
}

func TestParseNodeNets(t *testing.T) {
	nets, ok, err := parseNodeNets("b 10.0.1.0/24 172.18.0.3\na 10.0.0.0/24 172.18.0.2\n")
	if err != nil || !ok || len(nets) != 2 || nets[0].name != "a" {
		t.Fatalf("nets=%v ok=%v err=%v", nets, ok, err)
	}
	if _, ok, _ := parseNodeNets("a  172.18.0.2\n"); ok {
		t.Fatal("a node without pod CIDR is not ready")
	}
	if _, _, err := parseNodeNets("a nonsense 172.18.0.2\n"); err == nil {
		t.Fatal("a bad CIDR must be an error")
	}
}

// Ctrl-C while kind creates the nodes removes the half-created cluster and
// its state; the error says so.
func TestUpInterruptedDuringCreateLeavesNothing(t *testing.T) {
	srv, _ := manifestServer(t, map[string]string{"/calico.yaml": "calico-manifest"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &fakeProvider{clusters: map[string][]NodeInfo{}}
	p.onCreate = cancel // the user presses Ctrl-C while kind works
	r := readyRunner().on("network inspect kind", "[]", 0)
	b := newTestBackend(t, p, r, srv.URL)
	_, err := b.Up(ctx, cluster.Spec{}, nil)
	if err == nil || !strings.Contains(err.Error(), "context canceled") || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("interrupted Up err = %v", err)
	}
	if len(p.deleted) == 0 || len(p.clusters) != 0 {
		t.Fatalf("deleted %v, still have %v", p.deleted, p.clusters)
	}
	if _, err := os.Stat(b.clusterDir("ckslab")); !os.IsNotExist(err) {
		t.Fatalf("cluster state left behind: %v", err)
	}
	if !strings.Contains(strings.Join(r.commands(), "\n"), "docker network rm kind") {
		t.Errorf("kind network not removed with the last cluster: %q", r.commands())
	}
}
