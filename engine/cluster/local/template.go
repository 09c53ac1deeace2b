package local

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	etcdsnapshot "go.etcd.io/etcd/client/v3/snapshot"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// A bootstrap template is the etcd keyspace of a control plane of one
// Kubernetes version right after its first real cold start: the API
// server's bootstrap RBAC roles and bindings, priority classes, system
// namespaces, their ServiceAccounts. Creating those objects is most of a
// cold start (kube-apiserver's post-start hooks write ~150 objects one by
// one). A later Up restores the template into the new node's etcd data dir
// with `etcdutl snapshot restore` semantics (a new member name, peer URL and
// cluster ID) before etcd starts; everything else is new: certificates,
// keys, kubeconfigs, manifests, ports. Objects derived from the old
// certificates are rewritten by the components themselves on start
// (extension-apiserver-authentication by kube-apiserver, kube-root-ca.crt in
// every namespace by kube-controller-manager, the kubernetes Endpoints by
// the apiserver's endpoint reconciler), and Up waits for kube-root-ca.crt
// to hold the new CA before it reports the cluster ready.
//
// Templates hold no Secrets (nothing in a fresh cluster creates one) and no
// keys; they live in ckslab's cache dir, keyed by the component versions and
// a hash of the manifests ckslab generates, so a ckslab that changes its
// flags never restores a template made by another.

// templateFormat changes when what a template holds changes meaning.
const templateFormat = "1"

// templateMeta is <template dir>/template.json.
type templateMeta struct {
	Key               string    `json:"key"`
	KubernetesVersion string    `json:"kubernetesVersion"`
	EtcdVersion       string    `json:"etcdVersion"`
	CreatedAt         time.Time `json:"createdAt"`
	// SHA256 of etcd.db, checked before every restore.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// templateKey identifies the bootstrap a node config would produce: the
// component versions and the manifests' flags with ports and paths fixed.
func templateKey(cfg *nodeConfig) (string, error) {
	canon := &nodeConfig{
		Name: "template", NodeDir: "/",
		KubernetesVersion: cfg.KubernetesVersion, EtcdVersion: cfg.EtcdVersion,
		APIServerPort: 6443, EtcdClientPort: 2379, EtcdPeerPort: 2380, EtcdMetricsPort: 2381, ControllerPort: 10257,
	}
	h := sha256.New()
	fmt.Fprintf(h, "format=%s\nkubernetes=%s\netcd=%s\n", templateFormat, cfg.KubernetesVersion, cfg.EtcdVersion)
	ms := manifests(canon)
	names := make([]string, 0, len(ms))
	for n := range ms {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := marshalPod(ms[n])
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "manifest %s %d\n", n, len(data))
		h.Write(data)
	}
	return fmt.Sprintf("%s-%s", cfg.KubernetesVersion, hex.EncodeToString(h.Sum(nil))[:16]), nil
}

func (b *Backend) templateDir(key string) string {
	return filepath.Join(b.opts.templateRoot, key)
}

// restoreTemplate fills the node's empty etcd data dir from the template
// for cfg, if there is a valid one. It returns the template key used, or ""
// when there is none (the caller then bootstraps cold). An unusable
// template is reported through note and ignored: a cache must never stop
// a cluster from starting.
func (b *Backend) restoreTemplate(cfg *nodeConfig, note func(string)) string {
	if !b.opts.templates {
		return ""
	}
	key, err := templateKey(cfg)
	if err != nil {
		note("bootstrap template: " + err.Error())
		return ""
	}
	dir := b.templateDir(key)
	meta, err := readTemplateMeta(dir)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err == nil {
		err = verifyTemplate(dir, meta)
	}
	if err == nil {
		err = restoreSnapshot(filepath.Join(dir, "etcd.db"), cfg)
	}
	if err != nil {
		note(fmt.Sprintf("bootstrap template %s unusable, removed it and starting cold: %v", dir, err))
		// This Up saves a good one in its place.
		_ = os.RemoveAll(dir)
		dataDir := hostPathOf(cfg.NodeDir, "/var/lib/etcd")
		_ = os.RemoveAll(dataDir)
		_ = os.MkdirAll(dataDir, 0o700)
		return ""
	}
	return key
}

func readTemplateMeta(dir string) (*templateMeta, error) {
	data, err := os.ReadFile(filepath.Join(dir, "template.json"))
	if err != nil {
		return nil, err
	}
	var m templateMeta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse template.json: %w", err)
	}
	return &m, nil
}

func verifyTemplate(dir string, meta *templateMeta) error {
	if filepath.Base(dir) != meta.Key {
		return fmt.Errorf("template.json names key %q", meta.Key)
	}
	f, err := os.Open(filepath.Join(dir, "etcd.db"))
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != meta.SHA256 {
		return fmt.Errorf("etcd.db checksum %s does not match template.json (%s)", got, meta.SHA256)
	}
	return nil
}

// restoreSnapshot is `etcdutl snapshot restore` into the node's data dir,
// as the member the node's etcd manifest describes.
func restoreSnapshot(db string, cfg *nodeConfig) error {
	peer := fmt.Sprintf("https://127.0.0.1:%d", cfg.EtcdPeerPort)
	err := snapshot.NewV3(zap.NewNop()).Restore(snapshot.RestoreConfig{
		SnapshotPath:        db,
		Name:                nodeName,
		OutputDataDir:       hostPathOf(cfg.NodeDir, "/var/lib/etcd"),
		PeerURLs:            []string{peer},
		InitialCluster:      nodeName + "=" + peer,
		InitialClusterToken: "etcd-cluster", // etcd's default; kubeadm sets none
	})
	if err != nil {
		return fmt.Errorf("restore etcd snapshot: %w", err)
	}
	return nil
}

// saveTemplate snapshots the node's etcd (just bootstrapped cold) as the
// template for its key. Several Ups may race: each writes a private temp
// dir and the first rename wins.
func (b *Backend) saveTemplate(ctx context.Context, cfg *nodeConfig) error {
	key, err := templateKey(cfg)
	if err != nil {
		return err
	}
	dir := b.templateDir(key)
	if _, err := os.Stat(filepath.Join(dir, "template.json")); err == nil {
		return nil
	}
	if err := os.MkdirAll(b.opts.templateRoot, 0o700); err != nil {
		return err
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(b.opts.templateRoot, ".tmp-"+key+"-"+hex.EncodeToString(rnd[:]))
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tc, err := (&etcdReader{cfg: cfg}).tlsConfig()
	if err != nil {
		return err
	}
	db := filepath.Join(tmp, "etcd.db")
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := etcdsnapshot.SaveWithVersion(sctx, zap.NewNop(), clientv3.Config{
		Endpoints:   []string{fmt.Sprintf("127.0.0.1:%d", cfg.EtcdClientPort)},
		TLS:         tc,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	}, db); err != nil {
		return fmt.Errorf("snapshot etcd: %w", err)
	}
	data, err := os.ReadFile(db)
	if err != nil {
		return err
	}
	if err := os.Chmod(db, 0o600); err != nil {
		return err
	}
	meta := templateMeta{
		Key: key, KubernetesVersion: cfg.KubernetesVersion, EtcdVersion: cfg.EtcdVersion,
		CreatedAt: time.Now().UTC(), SHA256: sha256Hex(data), Size: int64(len(data)),
	}
	mb, err := json.MarshalIndent(&meta, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "template.json"), mb, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "template.json")); serr == nil {
			return nil // another Up saved it first
		}
		return fmt.Errorf("store template: %w", err)
	}
	return nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
