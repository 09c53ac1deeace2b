package kind

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
)

func TestArchiveRefs(t *testing.T) {
	refs, err := archiveRefs(bytes.NewReader(archive(t, `[{"RepoTags":["docker.io/library/nginx:1.27"]},{"RepoTags":["docker.io/nginxinc/nginx-unprivileged:1.27"]}]`)))
	if err != nil || strings.Join(refs, ",") != "docker.io/library/nginx:1.27,docker.io/nginxinc/nginx-unprivileged:1.27" {
		t.Fatalf("refs %v err %v", refs, err)
	}
	for _, m := range []string{`[]`, `[{"RepoTags":[]}]`, `{`} {
		if _, err := archiveRefs(bytes.NewReader(archive(t, m))); err == nil {
			t.Errorf("manifest %s accepted", m)
		}
	}
}

func TestNormalizeRef(t *testing.T) {
	for in, want := range map[string]string{
		"nginx:1.27":                            "docker.io/library/nginx:1.27",
		"nginxinc/nginx-unprivileged:1.27":      "docker.io/nginxinc/nginx-unprivileged:1.27",
		"docker.io/library/nginx:1.27":          "docker.io/library/nginx:1.27",
		"registry.k8s.io/pause:3.10.1":          "registry.k8s.io/pause:3.10.1",
		"localhost/x:1":                         "localhost/x:1",
		"ckslab.local/kube-router:v2.1.0-abcd1": "ckslab.local/kube-router:v2.1.0-abcd1",
	} {
		if got := normalizeRef(in); got != want {
			t.Errorf("normalizeRef(%q) = %q, want %q", in, got, want)
		}
	}
}

func extraImagesBackend(t *testing.T, p *fakeProvider, r Runner, stateDir string, tarballs ...string) *Backend {
	t.Helper()
	b, err := New(WithProvider(p), WithRunner(r), WithStateDir(stateDir), WithCacheDir(t.TempDir()),
		WithHostFileReader(noHostFeatures), WithTimeouts(time.Millisecond, 200*time.Millisecond),
		WithCNI(CNIBridge), WithExtraImages(tarballs))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUpExtraImages: cluster up imports the CI stand-in tarball into every
// node that lacks one of its images, and a reused cluster that has them
// all imports nothing.
func TestUpExtraImages(t *testing.T) {
	img := filepath.Join(t.TempDir(), "workloads.tar")
	if err := os.WriteFile(img, archive(t, `[{"RepoTags":["docker.io/library/nginx:1.27"]},{"RepoTags":["docker.io/nginxinc/nginx-unprivileged:1.27"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &fakeProvider{clusters: map[string][]NodeInfo{}}
	r := (&fakeRunner{}).
		on("{.spec.podCIDR}", "ckslab-control-plane 192.168.0.0/24 172.18.0.2\nckslab-worker 192.168.1.0/24 172.18.0.3\n", 0).
		on("get nodes", "ckslab-control-plane=True\nckslab-worker=True\n", 0).
		// The worker already has one of the two images, the control plane none.
		on("ckslab-worker ctr --namespace=k8s.io images ls -q", "docker.io/library/nginx:1.27\nregistry.k8s.io/pause:3.10.1\n", 0)
	state := t.TempDir()
	b := extraImagesBackend(t, p, r, state, img, "")
	var steps []cluster.Step
	if _, err := b.Up(context.Background(), cluster.Spec{}, func(s cluster.Step) { steps = append(steps, s) }); err != nil {
		t.Fatal(err)
	}
	var imports []string
	for _, cl := range r.nodeCalls() {
		if strings.Contains(cl.argv, "ctr --namespace=k8s.io images import --no-unpack -") {
			imports = append(imports, strings.Fields(cl.argv)[3])
			if !strings.Contains(cl.stdin, "manifest.json") {
				t.Errorf("import without the tarball on stdin: %q", cl.argv)
			}
		}
	}
	sort.Strings(imports)
	if strings.Join(imports, ",") != "ckslab-control-plane,ckslab-worker" {
		t.Errorf("imported into %v, want both nodes (each lacks an image)", imports)
	}
	last := steps[len(steps)-1]
	if last.ID != "extra-images" || !last.Done || last.Err != nil || !strings.Contains(last.Title, "CI only") || !strings.Contains(last.Line, "2 tarball import(s) into 2 node(s)") {
		t.Errorf("last step %+v", last)
	}

	// Reused cluster whose nodes have every image: nothing imported.
	all := "docker.io/library/nginx:1.27\ndocker.io/nginxinc/nginx-unprivileged:1.27\n"
	r2 := (&fakeRunner{}).
		on("{.spec.podCIDR}", "ckslab-control-plane 192.168.0.0/24 172.18.0.2\nckslab-worker 192.168.1.0/24 172.18.0.3\n", 0).
		on("get nodes", "ckslab-control-plane=True\nckslab-worker=True\n", 0).
		on("images ls -q", all, 0)
	b2 := extraImagesBackend(t, p, r2, state, img)
	steps = nil
	if _, err := b2.Up(context.Background(), cluster.Spec{}, func(s cluster.Step) { steps = append(steps, s) }); err != nil {
		t.Fatal(err)
	}
	for _, c := range r2.commands() {
		if strings.Contains(c, "images import") {
			t.Errorf("images present, imported anyway: %q", c)
		}
	}
	if last := steps[len(steps)-1]; !strings.Contains(last.Line, "already on all 2 nodes") {
		t.Errorf("reuse step %+v", last)
	}
}

// TestUpExtraImagesRefusesBadTarball: a missing or malformed tarball is
// refused before any node is created.
func TestUpExtraImagesRefusesBadTarball(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.tar")
	if err := os.WriteFile(bad, []byte("not a tar"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{filepath.Join(t.TempDir(), "missing.tar"): "hack/ci-workload-images.sh", bad: bad} {
		p := &fakeProvider{clusters: map[string][]NodeInfo{}}
		b := extraImagesBackend(t, p, &fakeRunner{}, t.TempDir(), path)
		_, err := b.Up(context.Background(), cluster.Spec{}, nil)
		if err == nil || !strings.Contains(err.Error(), ExtraImagesEnv) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want it to name %s and %q", path, err, ExtraImagesEnv, want)
		}
		if len(p.created) != 0 {
			t.Errorf("%s: nodes created before the tarball was refused", path)
		}
	}
}
