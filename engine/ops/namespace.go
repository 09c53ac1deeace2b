package ops

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ckslab/ckslab/engine/kube"
)

// purgeNamespace finishes deleting a terminating namespace the way the
// namespace controller would, without its fixed 5 s grace delay: delete
// every namespaced collection in it (pods without grace: a lab reset must
// not wait for kubelets), check nothing is left, then remove the
// "kubernetes" finalizer. If anything remains (objects with their own
// finalizers) it returns false and the controller finishes the job.
func purgeNamespace(ctx context.Context, k *kube.Client, ns string) (bool, error) {
	lists, err := k.Typed.Discovery().ServerPreferredNamespacedResources()
	if err != nil && len(lists) == 0 {
		return false, err
	}
	var gvrs []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			verbs := map[string]bool{}
			for _, v := range r.Verbs {
				verbs[v] = true
			}
			if verbs["deletecollection"] && verbs["list"] {
				gvrs = append(gvrs, gv.WithResource(r.Name))
			}
		}
	}
	zero := int64(0)
	bg := metav1.DeletePropagationBackground
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		leftover bool
		firstErr error
	)
	sem := make(chan struct{}, 16)
	for _, gvr := range gvrs {
		wg.Add(1)
		sem <- struct{}{}
		go func(gvr schema.GroupVersionResource) {
			defer wg.Done()
			defer func() { <-sem }()
			ri := k.Dynamic.Resource(gvr).Namespace(ns)
			opts := metav1.DeleteOptions{PropagationPolicy: &bg}
			if gvr.Group == "" && gvr.Resource == "pods" {
				opts.GracePeriodSeconds = &zero
			}
			err := ri.DeleteCollection(ctx, opts, metav1.ListOptions{})
			if err == nil || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) || apierrors.IsForbidden(err) {
				err = nil
				l, lerr := ri.List(ctx, metav1.ListOptions{Limit: 1})
				if lerr == nil && len(l.Items) > 0 {
					mu.Lock()
					leftover = true
					mu.Unlock()
				}
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("delete %s in namespace %s: %w", gvr.Resource, ns, kube.Explain(k.Config.Host, err))
				}
				mu.Unlock()
			}
		}(gvr)
	}
	wg.Wait()
	if firstErr != nil || leftover {
		return false, firstErr
	}
	n, err := k.Typed.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if n.DeletionTimestamp == nil {
		return false, nil
	}
	var keep []corev1.FinalizerName
	for _, f := range n.Spec.Finalizers {
		if f != corev1.FinalizerKubernetes {
			keep = append(keep, f)
		}
	}
	n.Spec.Finalizers = keep
	if _, err := k.Typed.CoreV1().Namespaces().Finalize(ctx, n, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return false, err
	}
	return true, nil
}
