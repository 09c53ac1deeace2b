package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	getter "github.com/hashicorp/go-getter/v2"

	"github.com/ckslab/ckslab/engine/cluster"
)

// Versions pinned by this backend. The apiserver and controller-manager come
// from one Kubernetes release; etcd is the version kubeadm ships with it.
const (
	DefaultKubernetesVersion = "v1.37.2"
	DefaultEtcdVersion       = "v3.6.16"

	binEtcd              = "etcd"
	binAPIServer         = "kube-apiserver"
	binControllerManager = "kube-controller-manager"
)

// binaryNames are the executables a local cluster needs.
func binaryNames() []string { return []string{binEtcd, binAPIServer, binControllerManager} }

// Binaries is where each control-plane executable lives.
type Binaries map[string]string

// Path returns the executable for name, or "" when unknown.
func (b Binaries) Path(name string) string { return b[name] }

// resolver finds, downloads or builds the control-plane binaries.
// Order: explicit dir (option, CKSLAB_BIN_DIR, then KUBEBUILDER_ASSETS for
// etcd+kube-apiserver), the ckslab cache, an official download with checksum
// verification, and finally a `go build` from the Go module proxy. Every
// acquired binary lands in the cache so the slow paths run once.
type resolver struct {
	k8sVersion  string
	etcdVersion string
	explicitDir string
	cacheRoot   string
	goos        string
	goarch      string
	// k8sBaseURL is e.g. https://dl.k8s.io/release; etcdBaseURL is the etcd
	// GitHub releases download prefix. Empty disables that download.
	k8sBaseURL  string
	etcdBaseURL string
	// connectTimeout bounds how long an unreachable mirror may stall Up.
	connectTimeout time.Duration
	// build enables the last-resort `go build` recipe.
	build    bool
	getenv   func(string) string
	progress cluster.ProgressFunc
}

func newResolver(o *options) *resolver {
	return &resolver{
		k8sVersion:     o.k8sVersion,
		etcdVersion:    o.etcdVersion,
		explicitDir:    o.binDir,
		cacheRoot:      o.cacheRoot,
		goos:           runtime.GOOS,
		goarch:         runtime.GOARCH,
		k8sBaseURL:     o.k8sBaseURL,
		etcdBaseURL:    o.etcdBaseURL,
		connectTimeout: o.downloadConnectTimeout,
		build:          o.build,
		getenv:         o.getenv,
	}
}

// cacheDir is <cacheRoot>/bin/k8s-<version>-<goos>-<goarch>, shared with
// hack/build-k8s-binaries.sh.
func (r *resolver) cacheDir() string {
	return filepath.Join(r.cacheRoot, "bin", fmt.Sprintf("k8s-%s-%s-%s", r.k8sVersion, r.goos, r.goarch))
}

func (r *resolver) report(line string) {
	r.progress.Report(cluster.Step{ID: "binaries", Title: "Control-plane binaries", Line: line})
}

// Resolve returns a path for every binary or an error naming what was tried.
func (r *resolver) Resolve(ctx context.Context) (Binaries, error) {
	found := Binaries{}
	var searched []string
	lookIn := func(dir string, names ...string) {
		if dir == "" {
			return
		}
		searched = append(searched, dir)
		for _, n := range names {
			if found[n] != "" {
				continue
			}
			if p := filepath.Join(dir, n); isExecutable(p) {
				found[n] = p
			}
		}
	}
	lookIn(r.explicitDir, binaryNames()...)
	lookIn(r.getenv("CKSLAB_BIN_DIR"), binaryNames()...)
	// envtest's asset dir has etcd and kube-apiserver but no controller-manager.
	lookIn(r.getenv("KUBEBUILDER_ASSETS"), binEtcd, binAPIServer)
	lookIn(r.cacheDir(), binaryNames()...)
	missing := r.missing(found)
	if len(missing) == 0 {
		return found, nil
	}

	var failures []string
	if err := os.MkdirAll(r.cacheDir(), 0o755); err != nil {
		return nil, fmt.Errorf("create binary cache %s: %w (set CKSLAB_CACHE_DIR to a writable directory)", r.cacheDir(), err)
	}
	if err := r.download(ctx, missing, found); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		failures = append(failures, "download: "+err.Error())
	}
	missing = r.missing(found)
	if len(missing) > 0 && r.build {
		if err := r.goBuild(ctx, missing, found); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			failures = append(failures, "go build: "+err.Error())
		}
	}
	missing = r.missing(found)
	if len(missing) == 0 {
		return found, nil
	}
	return nil, fmt.Errorf("control-plane binaries %s not found (searched %s; %s); "+
		"run hack/build-k8s-binaries.sh or point CKSLAB_BIN_DIR at a directory holding them",
		strings.Join(missing, ", "), strings.Join(searched, ", "), strings.Join(failures, "; "))
}

func (r *resolver) missing(found Binaries) []string {
	var out []string
	for _, n := range binaryNames() {
		if found[n] == "" {
			out = append(out, n)
		}
	}
	return out
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// httpClient fails fast when the mirror is unreachable (air-gapped hosts are
// common in training rooms) but lets a reachable download take its time.
func (r *resolver) httpClient() *http.Client {
	dialer := &net.Dialer{Timeout: r.connectTimeout}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   r.connectTimeout,
		ResponseHeaderTimeout: 4 * r.connectTimeout,
	}}
}

// get fetches src (with its ?checksum=) into dst over http(s) only.
func (r *resolver) get(ctx context.Context, src, dst string, mode getter.Mode) error {
	httpGetter := &getter.HttpGetter{
		Client:              r.httpClient(),
		DoNotCheckHeadFirst: true,
		// A stalled body must not hang Up forever.
		ReadTimeout:           2 * time.Minute,
		XTerraformGetDisabled: true,
	}
	c := &getter.Client{
		Getters: []getter.Getter{httpGetter},
		// Bound what an archive may expand to: etcd's tarball is ~25 MB.
		Decompressors:   getter.LimitedDecompressors(64, 512<<20),
		DisableSymlinks: true,
	}
	_, err := c.Get(ctx, &getter.Request{Src: src, Dst: dst, GetMode: mode})
	return err
}

// download fetches official release binaries with checksum verification.
// The first network failure ends all downloads: if dl.k8s.io is unreachable
// for one file it is for all of them.
func (r *resolver) download(ctx context.Context, missing []string, found Binaries) error {
	for _, name := range missing {
		var err error
		switch name {
		case binEtcd:
			if r.etcdBaseURL == "" {
				continue
			}
			err = r.downloadEtcd(ctx)
		default:
			if r.k8sBaseURL == "" {
				continue
			}
			err = r.downloadK8s(ctx, name)
		}
		if err != nil {
			return err
		}
		found[name] = filepath.Join(r.cacheDir(), name)
	}
	return nil
}

func (r *resolver) downloadK8s(ctx context.Context, name string) error {
	u := fmt.Sprintf("%s/%s/bin/%s/%s/%s", strings.TrimSuffix(r.k8sBaseURL, "/"), r.k8sVersion, r.goos, r.goarch, name)
	r.report("downloading " + u)
	tmpDir, tmp, err := tempPath(r.cacheDir(), name)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)
	if err := r.get(ctx, u+"?checksum=file:"+u+".sha256", tmp, getter.ModeFile); err != nil {
		return fmt.Errorf("download %s: %w", u, err)
	}
	return installBinary(tmp, filepath.Join(r.cacheDir(), name))
}

func (r *resolver) downloadEtcd(ctx context.Context) error {
	base := fmt.Sprintf("%s/%s", strings.TrimSuffix(r.etcdBaseURL, "/"), r.etcdVersion)
	archive := fmt.Sprintf("etcd-%s-%s-%s", r.etcdVersion, r.goos, r.goarch)
	u := base + "/" + archive + ".tar.gz"
	r.report("downloading " + u)
	tmpDir, tmp, err := tempPath(r.cacheDir(), "etcd-archive")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)
	// SHA256SUMS lists every release asset; go-getter picks the line naming
	// our archive, verifies it and unpacks the tarball into tmp.
	if err := r.get(ctx, u+"?checksum=file:"+base+"/SHA256SUMS", tmp, getter.ModeDir); err != nil {
		return fmt.Errorf("download %s: %w", u, err)
	}
	return installBinary(filepath.Join(tmp, archive, binEtcd), filepath.Join(r.cacheDir(), binEtcd))
}

// tempPath returns a fresh private dir in dir (same filesystem, so a rename
// into place is atomic) and a path inside it that does not exist yet; the
// caller removes the dir.
func tempPath(dir, name string) (tmpDir, path string, err error) {
	d, err := os.MkdirTemp(dir, "."+name+".tmp-")
	if err != nil {
		return "", "", fmt.Errorf("create temp dir in %s: %w", dir, err)
	}
	return d, filepath.Join(d, name), nil
}

// installBinary copies src to a temp file next to dst and renames it into
// place, so a crash or Ctrl-C never leaves a half-written executable at dst.
func installBinary(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("install %s: %w", filepath.Base(dst), err)
	}
	defer in.Close()
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part-")
	if err != nil {
		return fmt.Errorf("install %s: %w", filepath.Base(dst), err)
	}
	defer os.Remove(f.Name())
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return fmt.Errorf("install %s: %w", filepath.Base(dst), err)
	}
	if err := f.Chmod(0o755); err != nil {
		f.Close()
		return fmt.Errorf("install %s: %w", filepath.Base(dst), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("install %s: %w", filepath.Base(dst), err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return fmt.Errorf("install %s: %w", filepath.Base(dst), err)
	}
	return nil
}

// stagingReplaces derives the replace directives for a k8s.io/kubernetes
// go.mod: every staging module pinned to the matching v0 version.
func stagingReplaces(kubernetesGoMod []byte, k8sVersion string) []string {
	staging := "v0" + strings.TrimPrefix(k8sVersion, "v1")
	// Kubernetes' own go.mod points staging modules at ./staging/src.
	re := regexp.MustCompile(`(?m)^\s*(k8s\.io/[A-Za-z0-9._-]+)\s+=>\s+\./staging/src/`)
	var out []string
	for _, m := range re.FindAllSubmatch(kubernetesGoMod, -1) {
		out = append(out, fmt.Sprintf("replace %s => %s %s", m[1], m[1], staging))
	}
	return out
}

// goBuild is the recipe of hack/build-k8s-binaries.sh in Go: a throwaway
// module that requires etcd's server or k8s.io/kubernetes (staging modules
// replaced by their published versions) and builds stripped binaries.
func (r *resolver) goBuild(ctx context.Context, missing []string, found Binaries) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return errors.New("the go toolchain is not on PATH")
	}
	work, err := os.MkdirTemp("", "ckslab-build-")
	if err != nil {
		return fmt.Errorf("create build dir: %w", err)
	}
	defer os.RemoveAll(work)
	run := func(dir string, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, lastLines(ee.Stderr, 5))
			}
			return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
		return out, nil
	}
	var k8sNeed []string
	for _, n := range missing {
		if n == binEtcd {
			r.report("go build etcd " + r.etcdVersion + " (about a minute)")
			dir := filepath.Join(work, "etcd")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			main := "package main\n\nimport (\n\t\"os\"\n\n\t\"go.etcd.io/etcd/server/v3/etcdmain\"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n"
			if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(main), 0o644); err != nil {
				return err
			}
			steps := [][]string{
				{"mod", "init", "ckslab.local/etcd"},
				{"get", "go.etcd.io/etcd/server/v3@" + r.etcdVersion},
				{"mod", "tidy"},
				{"build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(work, "etcd.bin"), "."},
			}
			for _, s := range steps {
				if _, err := run(dir, s...); err != nil {
					return err
				}
			}
			if err := installBinary(filepath.Join(work, "etcd.bin"), filepath.Join(r.cacheDir(), binEtcd)); err != nil {
				return err
			}
			found[binEtcd] = filepath.Join(r.cacheDir(), binEtcd)
			continue
		}
		k8sNeed = append(k8sNeed, n)
	}
	if len(k8sNeed) == 0 {
		return nil
	}
	r.report("go build " + strings.Join(k8sNeed, ", ") + " " + r.k8sVersion + " (several minutes on a cold Go cache)")
	dir := filepath.Join(work, "k8s")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if _, err := run(dir, "mod", "init", "ckslab.local/k8s"); err != nil {
		return err
	}
	out, err := run(dir, "mod", "download", "-json", "k8s.io/kubernetes@"+r.k8sVersion)
	if err != nil {
		return err
	}
	var goModPath string
	if m := regexp.MustCompile(`"GoMod":\s*"([^"]+)"`).FindSubmatch(out); m != nil {
		goModPath = string(m[1])
	}
	kgomod, err := os.ReadFile(goModPath)
	if err != nil {
		return fmt.Errorf("read k8s.io/kubernetes go.mod: %w", err)
	}
	gomod := "module ckslab.local/k8s\n\ngo 1.25\n\nrequire k8s.io/kubernetes " + r.k8sVersion + "\n\n" +
		strings.Join(stagingReplaces(kgomod, r.k8sVersion), "\n") + "\n"
	tools := "//go:build tools\n\npackage tools\n\nimport (\n\t_ \"k8s.io/kubernetes/cmd/kube-apiserver\"\n\t_ \"k8s.io/kubernetes/cmd/kube-controller-manager\"\n)\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "tools.go"), []byte(tools), 0o644); err != nil {
		return err
	}
	if _, err := run(dir, "mod", "tidy"); err != nil {
		return err
	}
	ldflags := fmt.Sprintf("-s -w -X k8s.io/component-base/version.gitVersion=%s -X k8s.io/client-go/pkg/version.gitVersion=%s", r.k8sVersion, r.k8sVersion)
	for _, n := range k8sNeed {
		r.report("go build k8s.io/kubernetes/cmd/" + n)
		binOut := filepath.Join(work, n+".bin")
		if _, err := run(dir, "build", "-trimpath", "-ldflags="+ldflags, "-o", binOut, "k8s.io/kubernetes/cmd/"+n); err != nil {
			return err
		}
		if err := installBinary(binOut, filepath.Join(r.cacheDir(), n)); err != nil {
			return err
		}
		found[n] = filepath.Join(r.cacheDir(), n)
	}
	return nil
}

// lastLines returns the last n non-empty lines of b joined with " | ".
func lastLines(b []byte, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
