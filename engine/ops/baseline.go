package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"

	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/kube"
)

// Baseline is the set of objects of the kinds a learner typically creates
// (RBAC, workloads, policies, admission configuration...) that existed
// before a lab's setup. Reset deletes every object of those kinds that is
// not in it, so what a learner made with `kubectl create` outside the
// scenario's namespaces (a ClusterRoleBinding, a RoleBinding in default)
// does not survive into the next attempt. Only these built-in kinds are
// considered, never custom resources: CNI and add-on controllers create
// their own objects (Calico's IPAM blocks) that must live on. Labs that
// share a cluster (an exam's tasks) record none: one task's reset must not
// delete what the learner made for another.
type Baseline struct {
	// UIDs of the objects that existed, sorted.
	UIDs []string `json:"uids"`
}

// baselineKinds are the resources a reset compares with the baseline.
var baselineKinds = []struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
}{
	{schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, "Namespace", false},
	{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}, "ClusterRole", false},
	{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}, "ClusterRoleBinding", false},
	{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"}, "ValidatingWebhookConfiguration", false},
	{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"}, "MutatingWebhookConfiguration", false},
	{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}, "ValidatingAdmissionPolicy", false},
	{schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicybindings"}, "ValidatingAdmissionPolicyBinding", false},
	{schema.GroupVersionResource{Group: "node.k8s.io", Version: "v1", Resource: "runtimeclasses"}, "RuntimeClass", false},
	{schema.GroupVersionResource{Group: "scheduling.k8s.io", Version: "v1", Resource: "priorityclasses"}, "PriorityClass", false},
	{schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"}, "IngressClass", false},
	{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}, "Role", true},
	{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}, "RoleBinding", true},
	{schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, "ServiceAccount", true},
	{schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "Secret", true},
	{schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "ConfigMap", true},
	{schema.GroupVersionResource{Version: "v1", Resource: "services"}, "Service", true},
	{schema.GroupVersionResource{Version: "v1", Resource: "pods"}, "Pod", true},
	{schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}, "ResourceQuota", true},
	{schema.GroupVersionResource{Version: "v1", Resource: "limitranges"}, "LimitRange", true},
	{schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, "PersistentVolumeClaim", true},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "Deployment", true},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}, "DaemonSet", true},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, "StatefulSet", true},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}, "ReplicaSet", true},
	{schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}, "Job", true},
	{schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}, "CronJob", true},
	{schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}, "NetworkPolicy", true},
	{schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}, "Ingress", true},
	{schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}, "PodDisruptionBudget", true},
}

// listed is one object's metadata as a reset sees it.
type listed struct {
	kind int // index into baselineKinds
	meta metav1.ObjectMeta
}

// listBaselineKinds lists the metadata of every object of baselineKinds,
// skipping kinds the server does not serve (an older cluster).
func listBaselineKinds(ctx context.Context, k *kube.Client) ([]listed, error) {
	mc, err := metadata.NewForConfig(k.Config)
	if err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		out  []listed
		errs []error
	)
	for i, bk := range baselineKinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := mc.Resource(bk.gvr).List(ctx, metav1.ListOptions{})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err):
				return // not served by this cluster's version
			case err != nil:
				errs = append(errs, fmt.Errorf("list %s: %w", bk.gvr.Resource, err)) // kube.IsUnreachable still sees a timeout
				return
			}
			for _, o := range l.Items {
				out = append(out, listed{kind: i, meta: o.ObjectMeta})
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// TakeBaseline records the objects that exist now.
func TakeBaseline(ctx context.Context, k *kube.Client) (*Baseline, error) {
	l, err := listBaselineKinds(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("record the cluster's objects before setup: %w", err)
	}
	b := &Baseline{UIDs: make([]string, 0, len(l))}
	for _, o := range l {
		b.UIDs = append(b.UIDs, string(o.meta.UID))
	}
	slices.Sort(b.UIDs)
	return b, nil
}

// SinceBaseline returns the objects of the baseline's kinds created after
// it was taken and not managed by something else: objects with an owner
// (the garbage collector follows their owner), mirror pods of static pods,
// what controllers put into every namespace (kube-root-ca.crt, the default
// ServiceAccount), and objects inside namespaces that are themselves new
// (deleting the namespace removes them), and objects labelled as another
// scenario's. The result lists namespaces first (DeleteTracked deletes in
// reverse order).
func SinceBaseline(ctx context.Context, k *kube.Client, scenarioID string, b *Baseline) ([]ObjectRecord, error) {
	if b == nil {
		return nil, nil
	}
	l, err := listBaselineKinds(ctx, k)
	if err != nil {
		return nil, err
	}
	newNS := map[string]bool{}
	for _, o := range l {
		if baselineKinds[o.kind].kind == "Namespace" {
			_, old := slices.BinarySearch(b.UIDs, string(o.meta.UID))
			newNS[o.meta.Name] = !old
		}
	}
	var objs, nss []ObjectRecord
	for _, o := range l {
		if _, old := slices.BinarySearch(b.UIDs, string(o.meta.UID)); old {
			continue
		}
		bk := baselineKinds[o.kind]
		if len(o.meta.OwnerReferences) > 0 || o.meta.DeletionTimestamp != nil {
			continue
		}
		if bk.namespaced && newNS[o.meta.Namespace] {
			continue
		}
		if controllerMade(bk.kind, o.meta) {
			continue
		}
		if o.meta.Labels[cluster.ManagedByLabel] == cluster.ManagedByValue {
			continue // ckslab's own machinery (the cluster backend's node-access pods)
		}
		if v, ok := o.meta.Labels[ScenarioLabel]; ok && v != LabelValue(scenarioID) {
			continue // another lab's seed on a shared cluster
		}
		rec := ObjectRecord{APIVersion: bk.gvr.GroupVersion().String(), Kind: bk.kind, Namespace: o.meta.Namespace, Name: o.meta.Name}
		if bk.kind == "Namespace" {
			nss = append(nss, rec)
		} else {
			objs = append(objs, rec)
		}
	}
	return append(nss, objs...), nil
}

// controllerMade reports objects Kubernetes itself creates without an owner
// reference, which come back by themselves when deleted.
func controllerMade(kind string, m metav1.ObjectMeta) bool {
	switch kind {
	case "ConfigMap":
		return m.Name == "kube-root-ca.crt"
	case "ServiceAccount":
		return m.Name == "default"
	case "Pod":
		_, mirror := m.Annotations["kubernetes.io/config.mirror"]
		return mirror
	case "Namespace":
		return m.Name == "default" || m.Name == "kube-system" || m.Name == "kube-public" || m.Name == "kube-node-lease"
	case "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
		// The API server reconciles its bootstrap policy at every start.
		return m.Labels["kubernetes.io/bootstrapping"] == "rbac-defaults"
	case "PriorityClass":
		return m.Name == "system-node-critical" || m.Name == "system-cluster-critical"
	case "Service":
		return m.Namespace == "default" && m.Name == "kubernetes"
	}
	return false
}
