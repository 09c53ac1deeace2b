package local

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNodeResolve(t *testing.T) {
	root := t.TempDir()
	n := newNode(root)
	mk := func(p, content string) {
		hp := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(hp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(hp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mk("etc/kubernetes/pki/ca.crt", "ca")
	if err := os.Symlink("/etc/kubernetes/pki/ca.crt", filepath.Join(root, "etc", "kubernetes", "abs-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("pki/ca.crt", filepath.Join(root, "etc", "kubernetes", "rel-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../../../etc/passwd", filepath.Join(root, "etc", "kubernetes", "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "etc", "kubernetes", "hostpasswd")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		path    string
		want    string // content, or "" for an error
		errLike string
	}{
		{path: "/etc/kubernetes/pki/ca.crt", want: "ca"},
		{path: "/etc/kubernetes/abs-link", want: "ca"},
		{path: "/etc/kubernetes/rel-link", want: "ca"},
		{path: "/etc/kubernetes/escape", errLike: "escapes"},
		// An absolute link means a node path: the host's /etc/passwd is
		// never read.
		{path: "/etc/kubernetes/hostpasswd", errLike: "no such file"},
		{path: "/etc/../etc/kubernetes/pki/ca.crt", errLike: "'..'"},
		{path: "etc/kubernetes/pki/ca.crt", errLike: "absolute"},
		{path: "/.ckslab/node.json", errLike: "not part of the node"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			b, err := n.ReadFile(ctx, tt.path)
			if tt.errLike != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errLike) {
					t.Fatalf("ReadFile(%s) = %q, %v; want error like %q", tt.path, b, err, tt.errLike)
				}
				return
			}
			if err != nil || string(b) != tt.want {
				t.Fatalf("ReadFile(%s) = %q, %v; want %q", tt.path, b, err, tt.want)
			}
		})
	}
	if err := n.WriteFile(ctx, "/etc/ckslab-lab/x.yaml", []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	if m, err := n.Stat(ctx, "/etc/ckslab-lab/x.yaml"); err != nil || m.Perm() != 0o640 {
		t.Fatalf("Stat = %v, %v", m, err)
	}
	if err := n.Remove(ctx, "/etc/ckslab-lab/x.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := n.Remove(ctx, "/etc/ckslab-lab/x.yaml"); err != nil {
		t.Fatalf("removing a missing file: %v", err)
	}
	if _, err := n.Stat(ctx, "/etc/ckslab-lab/x.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat of removed file: %v, want fs.ErrNotExist", err)
	}
}

func TestParseStaticPod(t *testing.T) {
	nodeDir := "/n"
	bins := Binaries{binAPIServer: "/bin/kube-apiserver"}
	cfg := &nodeConfig{NodeDir: nodeDir, APIServerPort: 6443, EtcdClientPort: 2379, EtcdPeerPort: 2380, EtcdMetricsPort: 2381, ControllerPort: 10257, KubernetesVersion: "v1.37.2", EtcdVersion: "v3.6.16"}
	api, err := marshalPod(manifests(cfg)[compAPI])
	if err != nil {
		t.Fatal(err)
	}
	spec, err := parseStaticPod(nodeDir, compAPI, bins, api)
	if err != nil {
		t.Fatal(err)
	}
	if spec.binary != "/bin/kube-apiserver" {
		t.Errorf("binary %s", spec.binary)
	}
	if v, _ := flagValue(spec.argv, "client-ca-file"); v != "/etc/kubernetes/pki/ca.crt" {
		t.Errorf("container view arg %q", v)
	}
	if v, _ := flagValue(spec.hostArgs, "client-ca-file"); v != "/n/etc/kubernetes/pki/ca.crt" {
		t.Errorf("host arg %q", v)
	}

	// A flag pointing at an unmounted path lands in the empty rootfs, as it
	// would in a real container; a mounted one maps via its hostPath.
	edited := strings.Replace(string(api), "    - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key\n",
		"    - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key\n    - --audit-policy-file=/etc/kubernetes/audit/policy.yaml\n    - --audit-log-path=/var/log/kubernetes/audit/audit.log\n", 1)
	edited = strings.Replace(edited, "    volumeMounts:\n", "    volumeMounts:\n    - mountPath: /var/log/kubernetes/audit/\n      name: audit-log\n", 1)
	edited = strings.Replace(edited, "  volumes:\n", "  volumes:\n  - hostPath:\n      path: /var/log/kubernetes/audit/\n      type: DirectoryOrCreate\n    name: audit-log\n", 1)
	spec, err = parseStaticPod(nodeDir, compAPI, bins, []byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := flagValue(spec.hostArgs, "audit-policy-file"); v != "/n/.ckslab/pods/kube-apiserver/rootfs/etc/kubernetes/audit/policy.yaml" {
		t.Errorf("unmounted path mapped to %q", v)
	}
	if v, _ := flagValue(spec.hostArgs, "audit-log-path"); v != "/n/var/log/kubernetes/audit/audit.log" {
		t.Errorf("mounted path mapped to %q", v)
	}
	if got := spec.mapper.unmap("open /n/.ckslab/pods/kube-apiserver/rootfs/etc/kubernetes/audit/policy.yaml: no such file"); got != "open /etc/kubernetes/audit/policy.yaml: no such file" {
		t.Errorf("unmap = %q", got)
	}

	// In the node's mount namespace, paths the node view resolves to the
	// same file keep their exam spelling; the rest stay mapped.
	nsArgs := spec.nodeViewArgs([]string{"/etc/kubernetes", "/var/lib/etcd", "/var/log"})
	for flag, want := range map[string]string{
		"client-ca-file":    "/etc/kubernetes/pki/ca.crt",
		"audit-log-path":    "/var/log/kubernetes/audit/audit.log",
		"audit-policy-file": "/n/.ckslab/pods/kube-apiserver/rootfs/etc/kubernetes/audit/policy.yaml",
		"secure-port":       "6443",
	} {
		if v, _ := flagValue(nsArgs, flag); v != want {
			t.Errorf("node-view --%s = %q, want %q", flag, v, want)
		}
	}
	if len(nsArgs) != len(spec.hostArgs) {
		t.Errorf("node-view args %d, host args %d", len(nsArgs), len(spec.hostArgs))
	}
	// A volume mounted somewhere else than its hostPath: the node view
	// would resolve the container path to another file, so it is mapped.
	moved := strings.Replace(edited, "    - mountPath: /var/log/kubernetes/audit/\n", "    - mountPath: /audit/\n", 1)
	moved = strings.Replace(moved, "--audit-log-path=/var/log/kubernetes/audit/audit.log", "--audit-log-path=/audit/audit.log", 1)
	spec, err = parseStaticPod(nodeDir, compAPI, bins, []byte(moved))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := flagValue(spec.nodeViewArgs([]string{"/etc/kubernetes", "/var/log"}), "audit-log-path"); v != "/n/var/log/kubernetes/audit/audit.log" {
		t.Errorf("moved mount: node-view --audit-log-path = %q", v)
	}
	// Outside the node view's roots (host CA bundles stay the host's).
	if got := spec.nodeViewArgs(nil); !slices.Equal(got, spec.hostArgs) {
		t.Errorf("no roots: node-view args differ from host args")
	}

	bad := []struct{ name, manifest, errLike string }{
		{"yaml", "apiVersion: v1\nkind: Pod\nspec: [", "could not parse"},
		{"kind", "apiVersion: v1\nkind: Deployment\nmetadata: {name: x}\n", "want v1 Pod"},
		{"missing volume", strings.Replace(string(api), "name: k8s-certs\n", "name: k8s-certz\n", 1), "Not found"},
		{"unknown binary", strings.Replace(string(api), "- kube-apiserver\n", "- kube-apiserverr\n", 1), "executable file not found"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			_, err := parseStaticPod(nodeDir, compAPI, bins, []byte(b.manifest))
			if err == nil || !strings.Contains(err.Error(), b.errLike) {
				t.Fatalf("got %v, want error like %q", err, b.errLike)
			}
		})
	}
}

func TestGeneratePKIPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := generatePKI(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "apiserver-kubelet-client.key", "front-proxy-ca.crt", "front-proxy-client.key", "sa.key", "sa.pub", "etcd/ca.crt", "etcd/server.key", "etcd/peer.key", "etcd/healthcheck-client.key", "apiserver-etcd-client.key"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("pki dir mode %v", fi.Mode().Perm())
	}
}
