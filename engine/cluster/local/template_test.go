package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ckslab/ckslab/engine/cluster"
)

// upRecording runs Up and returns the finished steps' IDs and their lines.
func upRecording(t *testing.T, ctx context.Context, b *Backend, name string) (*cluster.Cluster, []string, map[string]string) {
	t.Helper()
	var mu sync.Mutex
	var ids []string
	lines := map[string]string{}
	start := time.Now()
	c, err := b.Up(ctx, cluster.Spec{Name: name}, func(s cluster.Step) {
		mu.Lock()
		defer mu.Unlock()
		if s.Done {
			ids = append(ids, s.ID)
			lines[s.ID] = s.Line
		}
	})
	if err != nil {
		t.Fatalf("up %s: %v", name, err)
	}
	t.Logf("up %s: %s, steps %v", name, time.Since(start).Round(time.Millisecond), ids)
	t.Cleanup(func() { _ = b.Down(context.Background(), name) })
	return c, ids, lines
}

func TestBootstrapTemplate(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test starts real control planes")
	}
	tdir := t.TempDir()
	b := integrationBackend(t, WithBootstrapTemplates(true, tdir))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	// 1. No template yet: a cold bootstrap, which then saves one.
	a, ids, _ := upRecording(t, ctx, b, "tmpl-a")
	if !slices.Contains(ids, "template-save") {
		t.Fatalf("first Up did not save a template: steps %v", ids)
	}
	cfgA, err := readNodeConfig(b.NodeDir("tmpl-a"))
	if err != nil {
		t.Fatal(err)
	}
	if cfgA.BootstrapTemplate != "" {
		t.Fatalf("first cluster claims template %q", cfgA.BootstrapTemplate)
	}
	key, err := templateKey(cfgA)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := readTemplateMeta(filepath.Join(tdir, key))
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyTemplate(filepath.Join(tdir, key), meta); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(tdir, key, "etcd.db")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("template db: %v, mode %v", err, fi.Mode())
	}
	csA := clientFor(t, a)
	if _, err := csA.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "only-in-a"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// 2. The next cluster restores it.
	bc, ids, _ := upRecording(t, ctx, b, "tmpl-b")
	if slices.Contains(ids, "template-save") {
		t.Errorf("second Up saved a template again: steps %v", ids)
	}
	cfgB, err := readNodeConfig(b.NodeDir("tmpl-b"))
	if err != nil {
		t.Fatal(err)
	}
	if cfgB.BootstrapTemplate != key {
		t.Fatalf("second cluster template = %q, want %q", cfgB.BootstrapTemplate, key)
	}
	st, err := b.Status(ctx, "tmpl-b")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(st.Notes, func(n string) bool { return strings.Contains(n, "bootstrap template "+key) }) {
		t.Errorf("status does not say the cluster came from a template: %q", st.Notes)
	}
	csB := clientFor(t, bc)
	if _, err := csB.CoreV1().Namespaces().Get(ctx, "only-in-a", metav1.GetOptions{}); err == nil {
		t.Error("namespace created in cluster a after its bootstrap leaked into cluster b")
	}
	// Its own CA, published by its own controller-manager.
	caA, _ := os.ReadFile(hostPathOf(b.NodeDir("tmpl-a"), pkiPath+"/ca.crt"))
	caB, _ := os.ReadFile(hostPathOf(b.NodeDir("tmpl-b"), pkiPath+"/ca.crt"))
	if len(caB) == 0 || string(caA) == string(caB) {
		t.Fatal("clusters a and b share a CA")
	}
	cm, err := csB.CoreV1().ConfigMaps("kube-system").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(cm.Data["ca.crt"]) != strings.TrimSpace(string(caB)) {
		t.Error("kube-system/kube-root-ca.crt still holds another cluster's CA")
	}
	// etcd is a new member with this node's peer URL, not the template's.
	tc, err := (&etcdReader{cfg: cfgB}).tlsConfig()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{fmt.Sprintf("127.0.0.1:%d", cfgB.EtcdClientPort)}, TLS: tc, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ml, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantPeer := fmt.Sprintf("https://127.0.0.1:%d", cfgB.EtcdPeerPort)
	if len(ml.Members) != 1 || ml.Members[0].Name != nodeName || !slices.Equal(ml.Members[0].PeerURLs, []string{wantPeer}) {
		t.Errorf("etcd members %+v, want one %q at %s", ml.Members, nodeName, wantPeer)
	}
	// Controllers run at once (the dead leader's lease was released): a
	// new namespace gets its ServiceAccount well inside a lease duration.
	start := time.Now()
	if _, err := csB.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fresh"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := csB.CoreV1().ServiceAccounts("fresh").Get(ctx, "default", metav1.GetOptions{}); err == nil {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("no default ServiceAccount in a new namespace after 10s: controllers are not running")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("default ServiceAccount in a new namespace after %s", time.Since(start).Round(time.Millisecond))

	// 3. A corrupt template is dropped, the Up still succeeds cold and
	// saves a good one.
	db := filepath.Join(tdir, key, "etcd.db")
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(db, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, ids, lines := upRecording(t, ctx, b, "tmpl-c")
	if !strings.Contains(lines["template"], "unusable") || !slices.Contains(ids, "template-save") {
		t.Errorf("corrupt template: steps %v, template line %q", ids, lines["template"])
	}
	cfgC, _ := readNodeConfig(b.NodeDir("tmpl-c"))
	if cfgC == nil || cfgC.BootstrapTemplate != "" {
		t.Errorf("cluster c claims a template: %+v", cfgC)
	}
	meta, err = readTemplateMeta(filepath.Join(tdir, key))
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyTemplate(filepath.Join(tdir, key), meta); err != nil {
		t.Errorf("template not replaced by a good one: %v", err)
	}
}

// TestTemplateKey: the key follows the versions and the generated flags,
// never the per-cluster ports or paths.
func TestTemplateKey(t *testing.T) {
	base := &nodeConfig{Name: "a", NodeDir: "/x", KubernetesVersion: "v1.37.2", EtcdVersion: "v3.6.16", APIServerPort: 1, EtcdClientPort: 2, EtcdPeerPort: 3, EtcdMetricsPort: 4, ControllerPort: 5}
	k1, err := templateKey(base)
	if err != nil {
		t.Fatal(err)
	}
	other := *base
	other.Name, other.NodeDir, other.APIServerPort, other.EtcdPeerPort = "b", "/y", 9, 8
	if k2, _ := templateKey(&other); k2 != k1 {
		t.Errorf("key depends on ports/paths: %s vs %s", k1, k2)
	}
	other = *base
	other.KubernetesVersion = "v1.37.3"
	if k2, _ := templateKey(&other); k2 == k1 || !strings.HasPrefix(k2, "v1.37.3-") {
		t.Errorf("key ignores the Kubernetes version: %s vs %s", k1, k2)
	}
	other = *base
	other.EtcdVersion = "v3.6.17"
	if k2, _ := templateKey(&other); k2 == k1 {
		t.Error("key ignores the etcd version")
	}
}

// TestRestoreTemplateRejects: a template whose files do not match its
// checksum is never restored, is removed, and leaves an empty data dir.
func TestRestoreTemplateRejects(t *testing.T) {
	tdir := t.TempDir()
	b, err := New(WithStateDir(t.TempDir()), WithCacheDir(t.TempDir()), WithBootstrapTemplates(true, tdir))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &nodeConfig{Name: "x", NodeDir: t.TempDir(), KubernetesVersion: "v1.37.2", EtcdVersion: "v3.6.16", EtcdPeerPort: 2380}
	dataDir := hostPathOf(cfg.NodeDir, "/var/lib/etcd")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, _ := templateKey(cfg)
	var note string
	if got := b.restoreTemplate(cfg, func(s string) { note = s }); got != "" || note != "" {
		t.Fatalf("no template: got %q, note %q", got, note)
	}
	for name, goodSum := range map[string]bool{
		"checksum mismatch": false,
		// Right checksum, not an etcd snapshot: restore itself refuses.
		"not a snapshot": true,
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(tdir, key)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			db := []byte("not a database")
			sum := strings.Repeat("0", 64)
			if goodSum {
				sum = sha256Hex(db)
			}
			if err := os.WriteFile(filepath.Join(dir, "etcd.db"), db, 0o600); err != nil {
				t.Fatal(err)
			}
			mb := fmt.Sprintf(`{"key":%q,"sha256":%q}`, key, sum)
			if err := os.WriteFile(filepath.Join(dir, "template.json"), []byte(mb), 0o600); err != nil {
				t.Fatal(err)
			}
			note = ""
			if got := b.restoreTemplate(cfg, func(s string) { note = s }); got != "" {
				t.Fatalf("restored %q from a bad template", got)
			}
			if !strings.Contains(note, "unusable") {
				t.Errorf("note %q", note)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("bad template not removed: %v", err)
			}
			if ents, err := os.ReadDir(dataDir); err != nil || len(ents) != 0 {
				t.Errorf("data dir not left empty: %v %v", ents, err)
			}
		})
	}
}
