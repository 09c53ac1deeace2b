package local

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ckslab/ckslab/engine/cluster"
)

// waitReady waits for etcd, kube-apiserver, kube-controller-manager, the
// kubeadm admin binding and the default ServiceAccount, reporting steps.
// Component status written by a supervisor started before since (one that
// was killed, whose state file still says "ready") does not count.
func (b *Backend) waitReady(ctx context.Context, cfg *nodeConfig, since time.Time, progress cluster.ProgressFunc) error {
	ctx, cancel := context.WithTimeout(ctx, b.opts.readyTimeout)
	defer cancel()
	steps := []struct{ id, title string }{
		{compEtcd, "Starting etcd"},
		{compAPI, "Starting kube-apiserver"},
		{compKCM, "Starting kube-controller-manager"},
	}
	var started time.Time
	for _, s := range steps {
		progress.Report(cluster.Step{ID: s.id, Title: s.title})
		for {
			st, _ := readState(cfg.NodeDir)
			var c *componentStatus
			if st != nil && !st.StartedAt.Before(since) {
				c = st.Components[s.id]
			}
			if c != nil && c.Ready {
				progress.Report(cluster.Step{ID: s.id, Title: s.title, Done: true})
				break
			}
			if started.IsZero() {
				started = time.Now()
			}
			if !supervisorRunning(cfg.NodeDir) && time.Since(started) > 3*time.Second {
				err := fmt.Errorf("the supervisor exited: %s", lastLinesOfFile(supervisorLog(cfg.NodeDir), 5))
				progress.Report(cluster.Step{ID: s.id, Title: s.title, Done: true, Err: err})
				return err
			}
			select {
			case <-ctx.Done():
				err := fmt.Errorf("waiting for %s: %w%s", s.id, ctx.Err(), describe(c))
				progress.Report(cluster.Step{ID: s.id, Title: s.title, Done: true, Err: err})
				return err
			case <-time.After(25 * time.Millisecond):
			}
		}
	}
	progress.Report(cluster.Step{ID: "ready", Title: readyTitle})
	err := waitAPIObjects(ctx, cfg.NodeDir)
	progress.Report(cluster.Step{ID: "ready", Title: readyTitle, Done: true, Err: err})
	return err
}

const readyTitle = "Waiting for the controllers (default ServiceAccount, kube-root-ca.crt in every namespace)"

func describe(c *componentStatus) string {
	if c == nil {
		return " (no status reported yet)"
	}
	s := fmt.Sprintf(" (%s", c.Phase)
	if c.LastError != "" {
		s += ": " + c.LastError
	}
	if n := len(c.LogTail); n > 0 {
		s += "; last log: " + strings.Join(c.LogTail[max(0, n-3):], " | ")
	}
	return s + ")"
}

// waitAPIObjects creates what kubeadm's init creates for admin.conf (the
// kubeadm:cluster-admins binding) and waits for the default ServiceAccount,
// the sign that controllers run and the cluster is usable.
func waitAPIObjects(ctx context.Context, nodeDir string) error {
	rc, err := clientcmd.BuildConfigFromFlags("", internalPath(nodeDir, "super-admin.kubeconfig"))
	if err != nil {
		return fmt.Errorf("load super-admin kubeconfig: %w", err)
	}
	caPEM, err := os.ReadFile(hostPathOf(nodeDir, pkiPath+"/ca.crt"))
	if err != nil {
		return fmt.Errorf("read cluster CA: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:cluster-admins"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "kubeadm:cluster-admins"}},
	}
	var lastErr error
	for {
		if crb != nil {
			_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
			if err == nil || apierrors.IsAlreadyExists(err) {
				crb = nil
			} else {
				lastErr = err
			}
		}
		if crb == nil {
			lastErr = controllersRunning(ctx, cs, caPEM)
			if lastErr == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for kube-controller-manager (default ServiceAccount, this cluster's CA in kube-root-ca.crt of every namespace): %w (last error: %v)", ctx.Err(), lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// controllersRunning reports whether kube-controller-manager has done its
// first work for this cluster: the default ServiceAccount exists and the
// root CA publisher has written this cluster's CA into kube-root-ca.crt in
// every namespace. A cluster restored from a bootstrap template starts with
// the template's CA in each of those ConfigMaps, and the publisher rewrites
// them namespace by namespace, so "default holds the new CA" alone would
// let a learner (or a pod mounting the ConfigMap) read a foreign CA in
// kube-system right after Up returns.
func controllersRunning(ctx context.Context, cs kubernetes.Interface, caPEM []byte) error {
	if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
		return err
	}
	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	cms, err := cs.CoreV1().ConfigMaps(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + rootCAConfigMap})
	if err != nil {
		return err
	}
	want := strings.TrimSpace(string(caPEM))
	current := make(map[string]bool, len(cms.Items))
	for _, cm := range cms.Items {
		if cm.Name != rootCAConfigMap {
			continue
		}
		current[cm.Namespace] = strings.TrimSpace(cm.Data["ca.crt"]) == want
	}
	var stale, missing []string
	for _, ns := range nss.Items {
		if ns.Status.Phase == corev1.NamespaceTerminating {
			continue
		}
		ok, found := current[ns.Name]
		switch {
		case !found:
			missing = append(missing, ns.Name)
		case !ok:
			stale = append(stale, ns.Name)
		}
	}
	switch {
	case len(stale) > 0:
		return fmt.Errorf("configmap %s does not hold this cluster's CA yet in namespaces %s", rootCAConfigMap, strings.Join(stale, ", "))
	case len(missing) > 0:
		return fmt.Errorf("configmap %s not published yet in namespaces %s", rootCAConfigMap, strings.Join(missing, ", "))
	}
	return nil
}

// rootCAConfigMap is what kube-controller-manager's root CA publisher
// writes into every namespace.
const rootCAConfigMap = "kube-root-ca.crt"

func lastLinesOfFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return lastLines(b, n)
}
