package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/ckslab/ckslab/engine/fsutil"
	"github.com/ckslab/ckslab/engine/ops"
)

// LabState is the current lab of one cluster, kept on disk so every
// command (check, hint, reset) and a crash in the middle of setup see it.
type LabState struct {
	Scenario   string `json:"scenario"`
	Cluster    string `json:"cluster"`
	Backend    string `json:"backend"`
	Kubeconfig string `json:"kubeconfig"`
	// ClusterID fingerprints the cluster's CA: a lab recorded on a cluster
	// that was since deleted and recreated must not have its node-file
	// backups (ports, certificates of the old cluster) restored.
	ClusterID string    `json:"clusterID,omitempty"`
	Started   time.Time `json:"started"`
	// SetupDone is false while setup is still running (or crashed).
	SetupDone bool `json:"setupDone"`
	// HintsUsed are the hint indexes revealed; Penalty their total penalty.
	HintsUsed    []int `json:"hintsUsed,omitempty"`
	Penalty      int   `json:"penalty,omitempty"`
	SolutionSeen bool  `json:"solutionSeen,omitempty"`
	// Tracked is what reset undoes.
	Tracked ops.Tracked `json:"tracked"`
	// Baseline lists the objects that existed before setup (nil on a shared
	// cluster): reset also deletes what appeared since.
	Baseline *ops.Baseline `json:"baseline,omitempty"`
}

// ErrNoLab means no lab is running on the cluster.
var ErrNoLab = errors.New("no lab is running: start one with `ckslab start <id>` (`ckslab list` shows them)")

func (r *Runner) statePath() string {
	return filepath.Join(r.StateDir, "labs", r.clusterName()+".json")
}

// LoadState reads the current lab of the runner's cluster.
func (r *Runner) LoadState() (*LabState, error) {
	b, err := os.ReadFile(r.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoLab
	}
	if err != nil {
		return nil, fmt.Errorf("read lab state: %w", err)
	}
	var s LabState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("lab state %s is corrupt (%v); delete it and run `ckslab reset`", r.statePath(), err)
	}
	return &s, nil
}

// saveState writes atomically (temp file + rename, mode 0600): a crash never
// leaves half a state file.
func (r *Runner) saveState(s *LabState) error {
	p := r.statePath()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("save lab state: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save lab state: %w", err)
	}
	if err := fsutil.WriteFileAtomic(p, b, 0o600); err != nil {
		return fmt.Errorf("save lab state: %w", err)
	}
	return nil
}

func (r *Runner) removeState() error {
	if err := os.Remove(r.statePath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove lab state: %w", err)
	}
	return nil
}

// clusterID fingerprints the CA in a kubeconfig; it changes whenever the
// cluster is recreated and needs no API server (the learner may have broken
// it), so reset can tell "my cluster" from "a new cluster with that name".
func clusterID(kubeconfig string) string {
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return ""
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return ""
	}
	c, ok := cfg.Clusters[ctx.Cluster]
	if !ok {
		return ""
	}
	ca := c.CertificateAuthorityData
	if len(ca) == 0 && c.CertificateAuthority != "" {
		if ca, err = os.ReadFile(c.CertificateAuthority); err != nil {
			return ""
		}
	}
	if len(ca) == 0 {
		return ""
	}
	sum := sha256.Sum256(ca)
	return hex.EncodeToString(sum[:8])
}
