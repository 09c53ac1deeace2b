//go:build e2e

package kind

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
)

// TestE2E creates a real kind cluster, validates kind-only scenarios with the
// built ckslab binary (CKSLAB_BIN) and deletes the cluster. Run through
// hack/e2e-kind.sh, which skips cleanly without a Docker daemon.
func TestE2E(t *testing.T) {
	bin := os.Getenv("CKSLAB_BIN")
	if bin == "" {
		t.Skip("CKSLAB_BIN is not set (run hack/e2e-kind.sh)")
	}
	scenarios := strings.Fields(os.Getenv("CKSLAB_E2E_SCENARIOS"))
	if len(scenarios) == 0 {
		scenarios = []string{"netpol-01", "runtimeclass-01", "audit-01"}
	}
	name := "ckslab-e2e"
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	stateDir := t.TempDir()
	b, err := New(WithStateDir(stateDir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Down(context.Background(), name); err != nil {
			t.Errorf("delete cluster: %v", err)
		}
	})
	c, err := b.Up(ctx, cluster.Spec{Name: name}, func(s cluster.Step) {
		if s.Done || s.Line == "" {
			t.Logf("[%s] %s done=%v err=%v", s.ID, s.Title, s.Done, s.Err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Components.Component(ctx, "kube-apiserver"); err != nil {
		t.Fatalf("inspect kube-apiserver: %v", err)
	}
	if _, err := c.Etcd.Get(ctx, "/registry/namespaces/default"); err != nil {
		t.Fatalf("read etcd: %v", err)
	}
	args := append([]string{"validate", "--backend", "kind", "--cluster", name, "--state-dir", stateDir}, scenarios...)
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s\n%s", bin, strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("ckslab validate failed: %v", err)
	}
}
