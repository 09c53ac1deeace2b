package runner_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestResetDeletesWhatTheLearnerMade: objects a learner creates with
// kubectl outside the scenario's namespaces (a ClusterRoleBinding, a
// RoleBinding and a ConfigMap in default) do not survive reset, so they
// cannot grant or break the next attempt; what existed before the lab
// started is kept.
func TestResetDeletesWhatTheLearnerMade(t *testing.T) {
	r := newRunner(t)
	ctx := context.Background()
	cs := lab.Kube.Typed
	crb := func(name string) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "someone"}}}
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb("before-the-lab"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), "before-the-lab", metav1.DeleteOptions{})
	})
	if _, err := r.Start(ctx, "psp-01"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb("learner-crb"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "learner-rb", Namespace: "default"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edit"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default", Namespace: "team-a"}}}
	if _, err := cs.RbacV1().RoleBindings("default").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "learner-cm", Namespace: "default"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "learner-crb", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the learner's ClusterRoleBinding survived reset: %v", err)
	}
	if _, err := cs.RbacV1().RoleBindings("default").Get(ctx, "learner-rb", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the learner's RoleBinding in default survived reset: %v", err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "learner-cm", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the learner's ConfigMap in default survived reset: %v", err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "before-the-lab", metav1.GetOptions{}); err != nil {
		t.Errorf("a ClusterRoleBinding that existed before the lab was deleted: %v", err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err != nil {
		t.Errorf("default/kube-root-ca.crt: %v", err)
	}
}
