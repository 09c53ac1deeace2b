package ops

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ckslab/ckslab/engine/kube"
)

// defaultSATimeout bounds the wait for a new namespace's default
// ServiceAccount. The wait is best effort: a controller-manager that is
// itself restarting (it exits when it loses its lease while a reset restarts
// the API server) creates the ServiceAccount later, and scenarios that create
// no pods do not need it at all.
const defaultSATimeout = 20 * time.Second

// waitDefaultServiceAccount waits until the controller-manager has created
// the "default" ServiceAccount of a namespace setup just created: pods (and
// admission dry-runs of pod templates) are refused until it exists. When a
// namespace of the same name was deleted a moment earlier (a reset), the
// serviceaccounts controller can miss the new namespace until another event
// for it arrives, so the wait touches a namespace annotation every few
// seconds; the ServiceAccount is still created by the real controller.
func waitDefaultServiceAccount(ctx context.Context, k *kube.Client, ns string) error {
	ctx, cancel := context.WithTimeout(ctx, defaultSATimeout)
	defer cancel()
	nudge := time.Now().Add(3 * time.Second)
	for {
		_, err := k.Typed.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsNotFound(err) {
			if ctx.Err() != nil {
				return fmt.Errorf("wait for ServiceAccount %s/default: %w", ns, kube.Explain(k.Config.Host, err))
			}
		}
		if time.Now().After(nudge) {
			patch := fmt.Sprintf(`{"metadata":{"annotations":{"ckslab.dev/touched":%q}}}`, time.Now().UTC().Format(time.RFC3339Nano))
			_, _ = k.Typed.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "ckslab"})
			nudge = time.Now().Add(3 * time.Second)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waited %s for the controller-manager to create ServiceAccount %s/default (is kube-controller-manager running? ckslab cluster status)", defaultSATimeout, ns)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
