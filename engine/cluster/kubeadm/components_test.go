package kubeadm

import (
	"context"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
)

// fakeNode answers commands by their argv, joined with spaces.
type fakeNode struct{ out map[string]string }

func (f *fakeNode) Name() string { return "cp" }
func (f *fakeNode) Role() string { return cluster.RoleControlPlane }
func (f *fakeNode) Exec(_ context.Context, _ io.Reader, argv ...string) ([]byte, error) {
	o, ok := f.out[strings.Join(argv, " ")]
	if !ok {
		return nil, &cluster.ExitError{Code: 1, Output: []byte("unexpected: " + strings.Join(argv, " "))}
	}
	return []byte(o), nil
}
func (f *fakeNode) ReadFile(context.Context, string) ([]byte, error)             { return nil, fs.ErrNotExist }
func (f *fakeNode) WriteFile(context.Context, string, []byte, fs.FileMode) error { return nil }
func (f *fakeNode) Remove(context.Context, string) error                         { return nil }
func (f *fakeNode) Stat(context.Context, string) (fs.FileMode, error)            { return 0, nil }

func TestComponentOverAnyNode(t *testing.T) {
	created := time.Now().Add(-time.Minute).UnixNano()
	n := &fakeNode{out: map[string]string{
		"crictl ps -a --name ^kube-apiserver$ -o json": `{"containers":[` +
			`{"id":"old","metadata":{"name":"kube-apiserver","attempt":0},"state":"CONTAINER_EXITED","createdAt":"1"},` +
			`{"id":"new","metadata":{"name":"kube-apiserver","attempt":2},"state":"CONTAINER_RUNNING","createdAt":"` + strconv.FormatInt(created, 10) + `"}]}`,
		"crictl inspect -o go-template --template {{.info.pid}} new": "4242\n",
		"cat /proc/4242/cmdline":                                     "kube-apiserver\x00--anonymous-auth=false\x00",
		strings.Join(healthProbeArgs("kube-apiserver"), " "):         "200",
		"crictl logs --tail 20 new":                                  "I0101 started\n",
	}}
	st, err := NewComponents(n, time.Millisecond).Component(context.Background(), "kube-apiserver")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Running || !st.Ready || st.Restarts != 2 || strings.Join(st.Args, " ") != "kube-apiserver --anonymous-auth=false" {
		t.Fatalf("state %+v", st)
	}
	missing, err := NewComponents(n, time.Millisecond).Component(context.Background(), "etcd")
	if err == nil && missing.Running {
		t.Fatalf("etcd without containers reported running: %+v", missing)
	}
}

func TestEtcdGetTrimsTheNewline(t *testing.T) {
	n := &fakeNode{out: map[string]string{
		"crictl ps --name ^etcd$ -q": "e1\n",
		strings.Join(append([]string{"crictl", "exec", "e1"}, EtcdctlArgs("/registry/secrets/a/b")...), " "): "k8s:enc:aescbc:v1:key1:xyz\n",
	}}
	v, err := NewEtcd(n).Get(context.Background(), "/registry/secrets/a/b")
	if err != nil || string(v) != "k8s:enc:aescbc:v1:key1:xyz" {
		t.Fatalf("%q %v", v, err)
	}
}

// The API server's health is asked with a client certificate: anonymous
// requests get 401 whenever anonymous auth is off, however healthy it is.
func TestAPIServerHealthProbeAuthenticates(t *testing.T) {
	argv := strings.Join(healthProbeArgs("kube-apiserver"), " ")
	if !strings.Contains(argv, "--cert /etc/kubernetes/pki/apiserver-kubelet-client.crt") || !strings.HasSuffix(argv, "https://127.0.0.1:6443/readyz") {
		t.Fatalf("apiserver probe = %s", argv)
	}
	if strings.Contains(strings.Join(healthProbeArgs("etcd"), " "), "--cert") || healthProbeArgs("kube-proxy") != nil {
		t.Fatal("only the API server probe carries a client certificate")
	}
}
