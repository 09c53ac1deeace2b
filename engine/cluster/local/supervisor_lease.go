package local

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// releaseDeadLeaderLease deletes kube-controller-manager's leader lease
// before the supervisor starts it. No controller-manager of this node runs
// then (the supervisor owns the only one and has stopped it, or takes it
// down when it exits), so the lease can only name a process that is gone:
// the one before a manifest edit, a crash, a lost lease while the apiserver
// restarted, a reboot, or the one that bootstrapped the template this
// cluster was restored from. Left in place, the new controller-manager
// would sit out the old holder's 15 s lease before running any controller.
// Like holdForAPI this changes only timing. Errors (the API is down) are
// logged: the controller-manager then simply waits as on a kubeadm node.
func (s *supervisor) releaseDeadLeaderLease(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rc, err := clientcmd.BuildConfigFromFlags("", internalPath(s.nodeDir, "super-admin.kubeconfig"))
	if err != nil {
		s.logf("kube-controller-manager lease: %v", err)
		return
	}
	rc.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		s.logf("kube-controller-manager lease: %v", err)
		return
	}
	err = cs.CoordinationV1().Leases(metav1.NamespaceSystem).Delete(ctx, compKCM, metav1.DeleteOptions{})
	switch {
	case err == nil:
		s.logf("kube-controller-manager: released the leader lease of a controller-manager that no longer runs")
	case !apierrors.IsNotFound(err):
		s.logf("kube-controller-manager lease: %v", err)
	}
}

const exitRestartAfterAPI = "kube-apiserver restarted"

// restartControllerManager restarts a kube-controller-manager that has
// run since before the kube-apiserver that just became ready, when that
// apiserver is not the node's first. On a kubeadm node an apiserver
// restart takes longer than the controller-manager's 10 s leader renew
// deadline, so the controller-manager exits and the kubelet starts it
// again. Here the apiserver is back within seconds, the controller-manager
// survives, and its informers, refused with "forbidden" while the new
// apiserver's RBAC caches filled, sit in client-go's watch back-off (up to
// 30 s after a few restarts): a new namespace would wait that long for its
// ServiceAccount. Restarting it gives the kubeadm outcome without the wait.
func (s *supervisor) restartControllerManager() {
	s.mu.Lock()
	defer s.mu.Unlock()
	api, kcm, w := s.state.Components[compAPI], s.state.Components[compKCM], s.workers[compKCM]
	if s.apiStarts < 2 || api == nil || kcm == nil || w == nil || !kcm.Running || !kcm.Since.Before(api.Since) {
		return
	}
	select {
	case w.restart <- struct{}{}:
	default:
	}
}
