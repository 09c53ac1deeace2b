package ops

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
)

type waitComponents struct {
	cluster.Components
	waited []string
	err    error
}

func (c *waitComponents) WaitHealthy(_ context.Context, name string, _ time.Duration) error {
	c.waited = append(c.waited, name)
	return c.err
}

// A declarative step that found the API server down runs once more after
// kube-apiserver is healthy again; a command (which may have acted), another
// error, or a server that does not come back does not.
func TestRetryAfterRestart(t *testing.T) {
	refused := fmt.Errorf("apply Namespace build: %w", syscall.ECONNREFUSED)
	apply := v1alpha1.Operation{Apply: &v1alpha1.ApplyOp{Manifest: "x"}}
	kubectl := v1alpha1.Operation{Kubectl: "create ns x"}
	ctx := context.Background()

	comps := &waitComponents{}
	env := &Env{Cluster: &cluster.Cluster{Components: comps}}
	if !retryAfterRestart(ctx, env, apply, refused) || len(comps.waited) != 1 || comps.waited[0] != "kube-apiserver" {
		t.Fatalf("apply after connection refused: want one wait for kube-apiserver then a retry, waited %v", comps.waited)
	}
	if retryAfterRestart(ctx, env, kubectl, refused) {
		t.Error("a kubectl command was rerun: it may have acted before the server went away")
	}
	if retryAfterRestart(ctx, env, apply, errors.New(`namespaces "x" is forbidden`)) {
		t.Error("an error from a server that answered was retried")
	}
	down := &waitComponents{err: errors.New("did not become healthy")}
	if retryAfterRestart(ctx, &Env{Cluster: &cluster.Cluster{Components: down}}, apply, refused) {
		t.Error("retried although kube-apiserver never became healthy")
	}
	if retryAfterRestart(ctx, &Env{Cluster: &cluster.Cluster{}}, apply, refused) {
		t.Error("retried on a cluster that cannot say when its API server is healthy")
	}
}
