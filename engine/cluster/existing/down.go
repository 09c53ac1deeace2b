package existing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/cluster/kubeadm"
)

// Down deletes what ckslab made on the cluster (everything labelled
// app.kubernetes.io/managed-by=ckslab: the node-access and probe pods and
// their namespaces) and forgets the cluster (its kubeconfig copy, detected
// capabilities and opt-in). Labs are undone by the caller first (`ckslab
// cluster down` resets a running lab). The cluster itself is untouched.
func (b *Backend) Down(ctx context.Context, name string) error {
	name = defaultName(name)
	if _, err := os.Stat(b.KubeconfigPath(name)); err != nil {
		if _, lerr := b.load(name); lerr != nil {
			return lerr
		}
	}
	cs, _, err := clients(b.KubeconfigPath(name))
	if err != nil {
		return err
	}
	_ = b.Close(ctx)
	if err := deleteManaged(ctx, cs); err != nil {
		return err
	}
	if err := os.RemoveAll(b.dir(name)); err != nil {
		return fmt.Errorf("remove state of cluster %s: %w", name, err)
	}
	return nil
}

// deleteManaged deletes ckslab's own namespaces (their pods with them) and
// waits until they are gone.
func deleteManaged(ctx context.Context, cs kubernetes.Interface) error {
	sel := cluster.ManagedByLabel + "=" + cluster.ManagedByValue
	zero := int64(0)
	for _, ns := range []string{HelperNamespace, ProbeNamespace} {
		err := cs.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{LabelSelector: sel})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete ckslab's pods in %s: %w", ns, err)
		}
	}
	l, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("list ckslab's namespaces: %w", err)
	}
	for _, ns := range l.Items {
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete namespace %s: %w", ns.Name, err)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		l, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return fmt.Errorf("list ckslab's namespaces: %w", err)
		}
		if len(l.Items) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			var names []string
			for _, n := range l.Items {
				names = append(names, n.Name+" ("+string(n.Status.Phase)+")")
			}
			return fmt.Errorf("ckslab's namespaces are still being deleted after 2m: %s (kubectl get ns -l %s)", strings.Join(names, ", "), sel)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Status reports the cluster's control-plane components (when reachable)
// and every detected capability with its reason.
func (b *Backend) Status(ctx context.Context, name string) (*cluster.Status, error) {
	name = defaultName(name)
	rec, err := b.load(name)
	if errors.Is(err, cluster.ErrNotFound) {
		return &cluster.Status{Name: name, Backend: Name, Notes: []string{"not set up: run `ckslab cluster up --backend cluster --kubeconfig FILE`"}}, nil
	}
	if err != nil {
		return nil, err
	}
	st := &cluster.Status{Name: name, Backend: Name, Kubeconfig: b.KubeconfigPath(name)}
	st.Notes = append(st.Notes, fmt.Sprintf("your kubeconfig %s, context %s, server %s (ckslab uses its own copy, never writes yours)", rec.Source, rec.Context, rec.Server))
	c, err := b.Get(ctx, name)
	if err != nil {
		st.Notes = append(st.Notes, "API server does not answer: "+err.Error())
		return st, nil
	}
	st.Running = true
	if c.Components != nil {
		for _, comp := range kubeadm.ComponentNames() {
			cs, err := c.Components.Component(ctx, comp)
			if err != nil {
				st.Notes = append(st.Notes, "component "+comp+": "+err.Error())
				continue
			}
			st.Components = append(st.Components, cs)
		}
	}
	st.Notes = append(st.Notes, "capabilities detected "+rec.DetectedAt.Format(time.RFC3339)+" (cluster down + up detects again):\n  "+strings.Join(b.gated(rec).Lines(), "\n  "))
	for _, n := range c.Nodes {
		st.Notes = append(st.Notes, fmt.Sprintf("node %s (%s)", n.Name(), n.Role()))
	}
	return st, nil
}

// Findings returns the detected capabilities of cluster name with reasons
// (for doctor), or an error wrapping cluster.ErrNotFound.
func (b *Backend) Findings(name string) (Findings, error) {
	rec, err := b.load(name)
	if err != nil {
		return nil, err
	}
	return b.gated(rec), nil
}
