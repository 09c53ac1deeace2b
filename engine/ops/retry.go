package ops

import (
	"context"
	"strings"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/kube"
)

// retryAfterRestart says whether a declarative operation (apply, patch,
// delete, wait: the same effect when run twice) that found the API server
// unreachable may run once more, after waiting until kube-apiserver is
// healthy again: a server restarted under it (its supervisor or kubelet
// restarts it when a probe fails on a loaded machine) is not the step's
// fault. A server that does not come back fails the step with the reason.
// Commands (kubectl, node exec) are not rerun: they may have acted.
func retryAfterRestart(ctx context.Context, env *Env, op v1alpha1.Operation, err error) bool {
	declarative := op.Apply != nil || op.Patch != nil || op.Delete != nil || op.Wait != nil
	if !declarative || !kube.IsUnreachable(err) || ctx.Err() != nil || env.Cluster == nil || env.Cluster.Components == nil {
		return false
	}
	env.logf("the API server did not answer (%s); waiting for kube-apiserver to be healthy, then once more", firstLineOf(err.Error()))
	return waitHealthy(ctx, env, "kube-apiserver") == nil
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
