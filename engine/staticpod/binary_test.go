package staticpod_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/runner/labtest"
	"github.com/ckslab/ckslab/engine/staticpod"
)

// TestModelAgreesWithTheBinaries runs the real kube-apiserver and etcd
// (the local backend's cached binaries) on command lines the model says
// they refuse, and checks they refuse them for the reason the model gives;
// and that a list flag given twice keeps the first occurrence's items.
func TestModelAgreesWithTheBinaries(t *testing.T) {
	dir := labtest.BinDir()
	api, etcd := filepath.Join(dir, "kube-apiserver"), filepath.Join(dir, "etcd")
	for _, b := range []string{api, etcd} {
		if _, err := os.Stat(b); err != nil {
			if os.Getenv(labtest.RequireEnv) != "" {
				t.Fatalf("%s missing", b)
			}
			t.Skipf("%s missing: run hack/build-k8s-binaries.sh", b)
		}
	}
	run := func(argv ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		return strings.ReplaceAll(string(out), `\"`, `"`) // etcd logs JSON
	}
	for _, argv := range [][]string{
		{api, "--profiling", "false"},
		{api, "-profiling=false"},
		{api, "--profiling=nope"},
		{api, "--v=2", "--audit-log-path"},
		{etcd, "--client-cert-auth", "false", "--data-dir=/nonexistent"},
	} {
		p := staticpod.Parse(argv, staticpod.For(argv[0]))
		if len(p.Errors) == 0 {
			t.Fatalf("%q: the model sees no error", argv)
		}
		want := p.Errors[0]
		if i := strings.Index(want, ": "); i > 0 && strings.HasPrefix(want, "flag needs") {
			want = want[:i] // pflag: "flag needs an argument: --audit-log-path"
		}
		if out := run(argv...); !strings.Contains(out, want) {
			t.Errorf("%q: the binary says\n%s\nthe model says %q", argv[1:], lastLines(out, 3), p.Errors[0])
		}
	}

	// List flags append: the first occurrence's bogus items still count.
	key := filepath.Join(t.TempDir(), "sa.key")
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		t.Fatal(err)
	}
	argv := []string{api, "--etcd-servers=http://127.0.0.1:1", "--cert-dir=" + t.TempDir(),
		"--authorization-mode=BogusMode", "--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=BogusPlugin", "--enable-admission-plugins=NodeRestriction",
		"--service-account-issuer=https://x", "--service-account-key-file=" + key, "--service-account-signing-key-file=" + key}
	p := staticpod.Parse(argv, staticpod.KubeAPIServer())
	if got := p.List("authorization-mode"); strings.Join(got, ",") != "BogusMode,Node,RBAC" {
		t.Fatalf("model: authorization-mode %q", got)
	}
	out := run(argv...)
	for _, want := range []string{`authorization-mode "BogusMode" is not a valid mode`, `plugin "BogusPlugin" is unknown`} {
		if !strings.Contains(out, want) {
			t.Errorf("the binary did not keep the first occurrence (%s):\n%s", want, lastLines(out, 3))
		}
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
