package ops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/ckslab/ckslab/engine/kube"
)

// DeleteTimeout bounds how long reset waits for deleted objects to vanish
// (namespaces are finalized by the namespace controller).
const DeleteTimeout = 90 * time.Second

type target struct {
	rec ObjectRecord
	ri  dynamic.ResourceInterface
}

// DeleteTracked deletes tracked objects and anything else of the same kinds
// labelled with the scenario id, then waits until they are all gone.
func DeleteTracked(ctx context.Context, k *kube.Client, scenarioID string, objs []ObjectRecord) error {
	var (
		targets []target
		errs    []error
		seen    = map[ObjectRecord]bool{}
		kinds   = map[[2]string]bool{}
	)
	add := func(r ObjectRecord) {
		if seen[r] {
			return
		}
		seen[r] = true
		ri, _, err := k.Resource(r.APIVersion, r.Kind, r.Namespace)
		if err != nil {
			if kube.IsUnreachable(err) {
				errs = append(errs, err)
			}
			return // a kind the server no longer serves has nothing to delete
		}
		targets = append(targets, target{rec: r, ri: ri})
	}
	for i := len(objs) - 1; i >= 0; i-- {
		add(objs[i])
		kinds[[2]string{objs[i].APIVersion, objs[i].Kind}] = true
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if scenarioID != "" {
		kinds[[2]string{"v1", "Namespace"}] = true
		for gk := range kinds {
			_, m, err := k.Resource(gk[0], gk[1], "")
			if err != nil {
				continue
			}
			lister := k.Dynamic.Resource(m.Resource)
			l, err := lister.List(ctx, metav1.ListOptions{LabelSelector: ScenarioLabel + "=" + LabelValue(scenarioID)})
			if err != nil {
				if kube.IsUnreachable(err) {
					return kube.Explain(k.Config.Host, err)
				}
				continue
			}
			for _, o := range l.Items {
				add(ObjectRecord{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()})
			}
		}
	}
	if err := waitNamespaceControllerSettled(ctx, k, targets); err != nil {
		return err
	}
	bg := metav1.DeletePropagationBackground
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, t := range targets {
		wg.Add(1)
		go func(t target) {
			defer wg.Done()
			err := t.ri.Delete(ctx, t.rec.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
			if err != nil && !apierrors.IsNotFound(err) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("delete %s: %w", kube.Ref(t.rec.Kind, t.rec.Namespace, t.rec.Name), kube.Explain(k.Config.Host, err)))
				mu.Unlock()
			}
		}(t)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Namespaces: do the namespace controller's work now instead of after
	// its 5 s grace delay; on any doubt the controller still finishes it.
	for _, t := range targets {
		if t.rec.Kind == "Namespace" && t.rec.APIVersion == "v1" {
			wg.Add(1)
			go func(name string) {
				defer wg.Done()
				_, _ = purgeNamespace(ctx, k, name)
			}(t.rec.Name)
		}
	}
	wg.Wait()
	return waitGone(ctx, k, targets)
}

func waitGone(ctx context.Context, k *kube.Client, targets []target) error {
	deadline := time.Now().Add(DeleteTimeout)
	pending := targets
	for {
		var still []target
		for _, t := range pending {
			_, err := t.ri.Get(ctx, t.rec.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil && kube.IsUnreachable(err) {
				return kube.Explain(k.Config.Host, err)
			}
			still = append(still, t)
		}
		if len(still) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			t := still[0]
			return fmt.Errorf("waited %s for %d deleted object(s) to disappear, e.g. %s (a finalizer may be stuck)", DeleteTimeout, len(still), kube.Ref(t.rec.Kind, t.rec.Namespace, t.rec.Name))
		}
		pending = still
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// namespaceControllerDelay is kube-controller-manager's namespace deletion
// grace period (namespaceDeletionGracePeriod, 5 s: it handles a terminating
// namespace that long after the event) plus a margin for the one-second
// granularity of creationTimestamp and a busy work queue.
const namespaceControllerDelay = 6500 * time.Millisecond

// waitNamespaceControllerSettled holds back the deletion of a namespace that
// was created moments ago. A reset purges a terminating namespace itself
// instead of waiting for the namespace controller, and setup re-creates it at
// once; the controller still handles the old deletion 5 s after it saw it.
// If by then the namespace is terminating again (a second reset within those
// 5 s), the controller's pass deletes the namespace's collections by name
// and can run on into the next setup, wiping the objects just created (seen:
// netpol-02's Deployment gone right after setup when alternatives ran back to
// back). A namespace older than the controller's delay has no such pending
// pass, so the wait only costs anything when reset and setup cycle faster
// than that.
func waitNamespaceControllerSettled(ctx context.Context, k *kube.Client, targets []target) error {
	var until time.Time
	for _, t := range targets {
		if t.rec.Kind != "Namespace" || t.rec.APIVersion != "v1" {
			continue
		}
		ns, err := k.Typed.CoreV1().Namespaces().Get(ctx, t.rec.Name, metav1.GetOptions{})
		if err != nil || ns.DeletionTimestamp != nil {
			continue
		}
		if u := ns.CreationTimestamp.Add(namespaceControllerDelay); u.After(until) {
			until = u
		}
	}
	d := time.Until(until)
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
