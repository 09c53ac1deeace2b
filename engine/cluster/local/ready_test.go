package local

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

// TestControllersRunningNeedsEveryNamespace is the readiness rule after a
// bootstrap template restore: the controller-manager republishes
// kube-root-ca.crt namespace by namespace, so a cluster whose default
// namespace already has the new CA while kube-system still carries the
// template's is not ready yet (the CI flake of TestBootstrapTemplate: "up"
// returned and kube-system/kube-root-ca.crt held another cluster's CA).
func TestControllersRunningNeedsEveryNamespace(t *testing.T) {
	t.Parallel()
	const newCA, oldCA = "-----BEGIN CERTIFICATE-----\nnew\n-----END CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nold\n-----END CERTIFICATE-----\n"
	ns := func(name string, phase corev1.NamespacePhase) runtime.Object {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: phase}}
	}
	cm := func(namespace, name, ca string) runtime.Object {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: map[string]string{"ca.crt": ca}}
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "default"}}
	base := func(objs ...runtime.Object) []runtime.Object {
		return append([]runtime.Object{sa,
			ns("default", corev1.NamespaceActive), ns("kube-system", corev1.NamespaceActive), ns("kube-public", corev1.NamespaceActive)}, objs...)
	}
	for _, tc := range []struct {
		name    string
		objs    []runtime.Object
		wantErr string // "" means ready
	}{
		{"every namespace has the new CA", base(cm("default", rootCAConfigMap, newCA), cm("kube-system", rootCAConfigMap, newCA), cm("kube-public", rootCAConfigMap, newCA)), ""},
		{"kube-system still holds the template's CA", base(cm("default", rootCAConfigMap, newCA), cm("kube-system", rootCAConfigMap, oldCA), cm("kube-public", rootCAConfigMap, newCA)), "kube-system"},
		{"kube-public not published yet", base(cm("default", rootCAConfigMap, newCA), cm("kube-system", rootCAConfigMap, newCA)), "kube-public"},
		{"another ConfigMap with the new CA does not count", base(cm("default", rootCAConfigMap, newCA), cm("kube-system", "other", newCA), cm("kube-system", rootCAConfigMap, oldCA), cm("kube-public", rootCAConfigMap, newCA)), "kube-system"},
		{"a terminating namespace is not waited for", append(base(cm("default", rootCAConfigMap, newCA), cm("kube-system", rootCAConfigMap, newCA), cm("kube-public", rootCAConfigMap, newCA)), ns("going", corev1.NamespaceTerminating)), ""},
		{"no default ServiceAccount", []runtime.Object{ns("default", corev1.NamespaceActive), cm("default", rootCAConfigMap, newCA)}, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := controllersRunning(context.Background(), fake.NewClientset(tc.objs...), []byte(newCA))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("not ready: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("ready, want an error naming %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not name %q", err, tc.wantErr)
			}
		})
	}
}

func TestInotifyHint(t *testing.T) {
	t.Parallel()
	if h := inotifyHint(fmt.Errorf("couldn't initialize inotify: %w", syscall.EMFILE)); !strings.Contains(h, "fs.inotify.max_user_instances") {
		t.Errorf("EMFILE from inotify gets no hint: %q", h)
	}
	if h := inotifyHint(errors.New("permission denied")); h != "" {
		t.Errorf("another error got the inotify hint: %q", h)
	}
}
