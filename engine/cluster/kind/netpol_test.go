package kind

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
)

// archive is a docker-archive tarball whose manifest.json is manifest.
func archive(t *testing.T, manifest string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range map[string]string{"sha256:abc": "{}", "manifest.json": manifest} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestArchiveImageRef(t *testing.T) {
	ref, err := archiveImageRef(bytes.NewReader(archive(t, `[{"Config":"sha256:abc","RepoTags":["ckslab.local/kube-router:v2.1.0-k"],"Layers":[]}]`)))
	if err != nil || ref != "ckslab.local/kube-router:v2.1.0-k" {
		t.Fatalf("ref %q err %v", ref, err)
	}
	for _, m := range []string{`[]`, `[{"RepoTags":["a:1","b:2"]}]`, `[{"RepoTags":[]}]`, `{`} {
		if _, err := archiveImageRef(bytes.NewReader(archive(t, m))); err == nil {
			t.Errorf("manifest %s accepted", m)
		}
	}
	if _, err := archiveImageRef(strings.NewReader("not a tar")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestWithNetPolRefusesNonsense(t *testing.T) {
	for _, tc := range []struct {
		opts []Option
		want string
	}{
		{[]Option{WithNetPol("cilium", "/x.tar")}, "unknown kind NetworkPolicy engine"},
		{[]Option{WithCNI(CNIBridge), WithNetPol(NetPolKubeRouter, "")}, "image tarball"},
		{[]Option{WithNetPol("", "/x.tar")}, "needs a NetworkPolicy engine"},
		{[]Option{WithNetPol(NetPolKubeRouter, "/x.tar")}, "only beside the bridge CNI"},
		{[]Option{WithNetPol(NetPolKubeRouter, "/x.tar"), WithCNI(CNICalico)}, "only beside the bridge CNI"},
	} {
		if _, err := New(append(tc.opts, WithStateDir(t.TempDir()), WithCacheDir(t.TempDir()))...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
	// Either order of options works for a valid pair.
	if _, err := New(WithNetPol(NetPolKubeRouter, "/x.tar"), WithCNI(CNIBridge), WithStateDir(t.TempDir()), WithCacheDir(t.TempDir())); err != nil {
		t.Fatal(err)
	}
}

// netpolRunner is a cluster whose pod network works and whose NetworkPolicy
// engine enforces a policy once enforce is true (else never).
type netpolRunner struct {
	*fakeRunner
	enforce bool
	mu      sync.Mutex
	denied  bool
	wgets   int
}

func (r *netpolRunner) Run(ctx context.Context, stdin io.Reader, name string, args ...string) ([]byte, error) {
	line := commandLine(name, args...)
	if stdin != nil {
		b, _ := io.ReadAll(stdin)
		if strings.Contains(string(b), "kind: NetworkPolicy") {
			r.mu.Lock()
			r.denied = true
			r.mu.Unlock()
		}
		stdin = bytes.NewReader(b)
	}
	if strings.Contains(line, " nc -w ") {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.wgets++
		r.calls = append(r.calls, call{argv: line})
		if r.denied && r.enforce {
			return []byte("wget: download timed out"), &cluster.ExitError{Code: 1}
		}
		return []byte("ckslab-probe\n"), nil
	}
	return r.fakeRunner.Run(ctx, stdin, name, args...)
}

func kubeRouterRunner(enforce bool) *netpolRunner {
	return &netpolRunner{enforce: enforce, fakeRunner: (&fakeRunner{}).
		on("{.spec.podCIDR}", "ckslab-control-plane 192.168.0.0/24 172.18.0.2\nckslab-worker 192.168.1.0/24 172.18.0.3\n", 0).
		on("daemonset kube-router", "2/2/2", 0).
		on("{.status.podIP}", "192.168.1.7", 0).
		on("get nodes", "ckslab-control-plane=True\nckslab-worker=True\n", 0)}
}

func kubeRouterBackend(t *testing.T, p *fakeProvider, r Runner, stateDir string) *Backend {
	t.Helper()
	img := filepath.Join(t.TempDir(), "kube-router.tar")
	if err := os.WriteFile(img, archive(t, `[{"RepoTags":["ckslab.local/kube-router:v2.1.0-k"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := New(WithProvider(p), WithRunner(r), WithStateDir(stateDir), WithCacheDir(t.TempDir()),
		WithHostFileReader(noHostFeatures), WithTimeouts(time.Millisecond, 200*time.Millisecond),
		WithCNI(CNIBridge), WithNetPol(NetPolKubeRouter, img))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUpKubeRouter: the image is imported into every node, kube-router is
// deployed firewall-only from that image (never pulled), and the cluster
// claims netpol only after the probe saw the deny-all policy block.
func TestUpKubeRouter(t *testing.T) {
	p := &fakeProvider{clusters: map[string][]NodeInfo{}}
	r := kubeRouterRunner(true)
	b := kubeRouterBackend(t, p, r, t.TempDir())
	if !b.Capabilities(context.Background()).Has(v1alpha1.CapNetpol) {
		t.Error("a bridge + kube-router backend must announce netpol")
	}
	c, err := b.Up(context.Background(), cluster.Spec{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Capabilities.Has(v1alpha1.CapNetpol) {
		t.Errorf("capabilities %s lack netpol after a passing probe", c.Capabilities)
	}
	var imports []string
	var manifest string
	for _, cl := range r.nodeCalls() {
		if strings.Contains(cl.argv, "ctr --namespace=k8s.io images import") {
			imports = append(imports, strings.Fields(cl.argv)[3])
			if !strings.Contains(cl.stdin, "manifest.json") {
				t.Errorf("import without the image tarball on stdin: %q", cl.argv)
			}
		}
		if strings.Contains(cl.stdin, "kind: DaemonSet") {
			manifest = cl.stdin
		}
	}
	sort.Strings(imports)
	if strings.Join(imports, ",") != "ckslab-control-plane,ckslab-worker" {
		t.Errorf("image imported into %v, want every node", imports)
	}
	for _, want := range []string{"image: ckslab.local/kube-router:v2.1.0-k", "imagePullPolicy: Never", `"--run-firewall=true", "--run-router=false", "--run-service-proxy=false"`} {
		if !strings.Contains(manifest, want) {
			t.Errorf("kube-router manifest lacks %q:\n%s", want, manifest)
		}
	}
	if b.netpolOf("ckslab") != NetPolKubeRouter {
		t.Error("proven engine not recorded")
	}
	if !strings.Contains(strings.Join(r.commands(), "\n"), "delete namespace "+netpolProbeNamespace) {
		t.Error("probe namespace not deleted")
	}
	got, err := b.Get(context.Background(), "ckslab")
	if err != nil || !got.Capabilities.Has(v1alpha1.CapNetpol) {
		t.Fatalf("Get: %v, capabilities %v", err, got)
	}
	// Reuse: a rolled-out DaemonSet of a proven cluster is enough (no import, no probe).
	before := r.wgets
	n := len(r.calls)
	if _, err := b.Up(context.Background(), cluster.Spec{}, nil); err != nil {
		t.Fatal(err)
	}
	for _, cl := range r.calls[n:] {
		if strings.Contains(cl.argv, "images import") {
			t.Errorf("reuse imported again: %q", cl.argv)
		}
	}
	if r.wgets != before {
		t.Error("reuse probed again")
	}
}

// TestUpKubeRouterNotEnforcing: an engine that runs but does not block the
// deny-all probe fails cluster up and the cluster never claims netpol.
func TestUpKubeRouterNotEnforcing(t *testing.T) {
	p := &fakeProvider{clusters: map[string][]NodeInfo{}}
	r := kubeRouterRunner(false)
	state := t.TempDir()
	b := kubeRouterBackend(t, p, r, state)
	_, err := b.Up(context.Background(), cluster.Spec{}, nil)
	if err == nil || !strings.Contains(err.Error(), "still reaches the server pod under a deny-all") {
		t.Fatalf("err = %v", err)
	}
	if r.wgets < 2 {
		t.Errorf("probe asked %d times", r.wgets)
	}
	got, err := b.Get(context.Background(), "ckslab")
	if err != nil {
		t.Fatal(err)
	}
	if got.Capabilities.Has(v1alpha1.CapNetpol) || b.netpolOf("ckslab") != NetPolCNI {
		t.Errorf("unproven engine claims netpol: %s", got.Capabilities)
	}
	if !strings.Contains(strings.Join(r.commands(), "\n"), "delete namespace "+netpolProbeNamespace) {
		t.Error("probe namespace not deleted after a failed probe")
	}
}

// TestProbeNeedsAWorkingNetwork: pods that never reach each other prove
// nothing (a broken network is not an enforcing one).
func TestProbeNeedsAWorkingNetwork(t *testing.T) {
	exec := func(_ context.Context, _ io.Reader, argv ...string) ([]byte, error) {
		line := strings.Join(argv, " ")
		switch {
		case strings.Contains(line, " nc -w "):
			return nil, &cluster.ExitError{Code: 1}
		case strings.Contains(line, "podIP"):
			return []byte("10.0.0.9"), nil
		}
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := probeEnforcement(ctx, exec, time.Millisecond); err == nil || !strings.Contains(err.Error(), "never reached") {
		t.Fatalf("err = %v", err)
	}
}
