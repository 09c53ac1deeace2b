// Package labtest gives integration tests a real local control plane
// (etcd + kube-apiserver + kube-controller-manager as processes). Tests
// call Main from TestMain; the test binary doubles as the cluster's
// supervisor, so no ckslab binary is needed.
package labtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/cluster/local"
	"github.com/ckslab/ckslab/engine/kube"
)

const superviseEnv = "CKSLAB_LABTEST_SUPERVISE"

// Lab is a running test cluster, or the reason there is none.
type Lab struct {
	Backend *local.Backend
	Cluster *cluster.Cluster
	Kube    *kube.Client
	// Skip is why no cluster is available (binaries missing); tests skip with it.
	Skip string
	name string
}

// RequireEnv names the variable that, when set (hack/test.sh sets it), turns "no cluster" from a
// skip into a failure.
const RequireEnv = "CKSLAB_REQUIRE_CLUSTER"

// Need skips the test when there is no cluster (fails under RequireEnv).
func (l *Lab) Need(tb testing.TB) *cluster.Cluster {
	tb.Helper()
	if l == nil || l.Cluster == nil {
		reason := "no local cluster"
		if l != nil && l.Skip != "" {
			reason = l.Skip
		}
		if os.Getenv(RequireEnv) != "" {
			// make test guarantees the binaries: a cluster that does not
			// start is a failure there, never a silently skipped test.
			tb.Fatalf("%s (%s is set)", reason, RequireEnv)
		}
		tb.Skip(reason)
	}
	return l.Cluster
}

// BinDir is where hack/build-k8s-binaries.sh leaves the control-plane binaries.
func BinDir() string {
	if d := os.Getenv("CKSLAB_BIN_DIR"); d != "" {
		return d
	}
	home, _ := os.UserCacheDir()
	return filepath.Join(home, "ckslab", "bin", "k8s-"+local.DefaultKubernetesVersion+"-linux-amd64")
}

// Main runs m with a local cluster called name (one per test package, so
// packages can test in parallel). It supervises the cluster itself when
// re-executed as the supervisor. Set CKSLAB_TEST_KEEP=1 to keep the cluster
// running between runs (much faster iteration).
func Main(m *testing.M, name string, lab **Lab) int {
	if dir := os.Getenv(superviseEnv); dir != "" {
		if err := local.RunSupervisor(context.Background(), dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	l := &Lab{name: name}
	*lab = l
	bins := BinDir()
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
		if _, err := os.Stat(filepath.Join(bins, b)); err != nil {
			l.Skip = fmt.Sprintf("local control-plane binary %s missing in %s: run hack/build-k8s-binaries.sh (or set CKSLAB_BIN_DIR)", b, bins)
			return m.Run()
		}
	}
	exe, err := os.Executable()
	if err != nil {
		l.Skip = err.Error()
		return m.Run()
	}
	state := filepath.Join(os.TempDir(), "ckslab-labtest")
	b, err := local.New(local.WithStateDir(state), local.WithBinDir(bins), local.WithBuildFallback(false), local.WithDownloadURLs("", ""),
		local.WithReadyTimeout(2*time.Minute),
		local.WithSupervisorCommand(func(nodeDir string) *exec.Cmd {
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), superviseEnv+"="+nodeDir)
			if os.Getenv("CKSLAB_TEST_KEEP") == "" {
				// Killed, interrupted or timed out, the test binary takes its
				// cluster with it (the supervisor stops the components on
				// SIGTERM), so no control plane outlives a broken run.
				dieWithParent(cmd)
			}
			return cmd
		}))
	if err != nil {
		l.Skip = err.Error()
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	start := time.Now()
	if os.Getenv("CKSLAB_TEST_KEEP") == "" {
		// A fresh cluster per run: leftovers of a crashed run never leak in.
		_ = b.Down(ctx, name)
	}
	cl, err := b.Up(ctx, cluster.Spec{Name: name}, nil)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "labtest: cannot start local cluster %s: %v\n", name, err)
		l.Skip = "local cluster did not start: " + err.Error()
		return m.Run()
	}
	fmt.Fprintf(os.Stderr, "labtest: cluster %s ready in %s (%s)\n", name, time.Since(start).Round(time.Millisecond), cl.Kubeconfig)
	k, err := kube.New(cl.Kubeconfig)
	if err != nil {
		l.Skip = err.Error()
		return m.Run()
	}
	l.Backend, l.Cluster, l.Kube = b, cl, k
	code := m.Run()
	if os.Getenv("CKSLAB_TEST_KEEP") == "" {
		dctx, dcancel := context.WithTimeout(context.Background(), time.Minute)
		if err := b.Down(dctx, name); err != nil {
			fmt.Fprintf(os.Stderr, "labtest: delete cluster %s: %v\n", name, err)
		}
		dcancel()
	}
	return code
}
