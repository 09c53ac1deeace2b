package runner

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/ops"
)

func writeKubeconfig(t *testing.T, dir, ca string) string {
	t.Helper()
	p := filepath.Join(dir, ca+".kubeconfig")
	data := "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nclusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority-data: " +
		base64.StdEncoding.EncodeToString([]byte(ca)) + "\nusers:\n- name: u\n  user: {token: x}\n"
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A lab recorded on a cluster that was deleted and recreated under the same
// name must be discarded, not "restored" into the new cluster (its node-file
// backups hold the old cluster's ports and certificates).
func TestUndoDiscardsLabOfRecreatedCluster(t *testing.T) {
	dir := t.TempDir()
	oldKC, newKC := writeKubeconfig(t, dir, "old-ca-pem"), writeKubeconfig(t, dir, "new-ca-pem")
	if clusterID(oldKC) == "" || clusterID(oldKC) == clusterID(newKC) {
		t.Fatalf("cluster ids must be set and differ: %q %q", clusterID(oldKC), clusterID(newKC))
	}
	r := &Runner{StateDir: dir, ClusterName: "c"}
	st := &LabState{Scenario: "psp-01", Cluster: "c", ClusterID: clusterID(oldKC)}
	st.Tracked.Files = append(st.Tracked.Files, ops.FileBackup{Node: "controlplane", Path: "/etc/kubernetes/manifests/kube-apiserver.yaml", Content: []byte("old")})
	if err := r.saveState(st); err != nil {
		t.Fatal(err)
	}
	// nil kube client and no nodes: touching either would panic or fail.
	if err := r.undo(context.Background(), st, &cluster.Cluster{Name: "c", Kubeconfig: newKC}, nil, nil); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if _, err := r.LoadState(); !errors.Is(err, ErrNoLab) {
		t.Fatalf("state should be gone, got %v", err)
	}
}
