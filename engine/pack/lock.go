package pack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/fsutil"
)

// LockKind is the kind of the lock file.
const LockKind = "PackLock"

// Lock is packs.lock.json: every installed pack, pinned to exactly what
// was fetched, so nothing changes until the learner runs pack update.
type Lock struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Packs      []LockedPack `json:"packs"`
}

// LockedPack is one installed pack.
type LockedPack struct {
	Name string `json:"name"`
	// Source is the source as the learner gave it (credentials included
	// only if they typed them).
	Source string `json:"source"`
	// Kind is git, archive or dir.
	Kind string `json:"kind"`
	// Checksum is the learner's pin (--checksum or ?checksum=), if any.
	Checksum string `json:"checksum,omitempty"`
	// Resolved pins what was fetched: git:<commit> or sha256:<archive>;
	// for directories the tree hash is the pin.
	Resolved string `json:"resolved,omitempty"`
	// Tree is the sha256 of the installed content (paths, exec bits, bytes).
	Tree        string    `json:"tree"`
	Version     string    `json:"version"`
	Scenarios   []string  `json:"scenarios"`
	InstalledAt time.Time `json:"installedAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	// Acknowledged records the learner accepting the pack's summary.
	Acknowledged Acknowledgement `json:"acknowledged"`
}

// Acknowledgement is the learner's yes to a pack summary.
type Acknowledgement struct {
	At time.Time `json:"at"`
	// Summary is the acknowledged summary's digest; an update whose
	// summary differs asks again.
	Summary string `json:"summary"`
	// By is "prompt" or "--yes".
	By string `json:"by"`
}

func (m *Manager) lockPath() string { return filepath.Join(m.StateRoot, "packs.lock.json") }

// readLock returns the lock file, or an empty one when none exists.
func (m *Manager) readLock() (*Lock, error) {
	data, err := os.ReadFile(m.lockPath())
	if errors.Is(err, fs.ErrNotExist) {
		return &Lock{APIVersion: v1alpha1.APIVersion, Kind: LockKind}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", m.lockPath(), err)
	}
	var l Lock
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("%s is corrupt (%v); restore it or remove it and reinstall your packs", m.lockPath(), err)
	}
	if l.Kind != LockKind {
		return nil, fmt.Errorf("%s is not a ckslab pack lock file (kind %q)", m.lockPath(), l.Kind)
	}
	return &l, nil
}

// writeLock replaces the lock file atomically (write, sync, rename).
func (m *Manager) writeLock(l *Lock) error {
	sort.Slice(l.Packs, func(i, j int) bool { return l.Packs[i].Name < l.Packs[j].Name })
	if l.Packs == nil {
		l.Packs = []LockedPack{}
	}
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := fsutil.WriteFileAtomic(m.lockPath(), data, 0o644); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	return nil
}

func (l *Lock) find(name string) (int, *LockedPack) {
	for i := range l.Packs {
		if l.Packs[i].Name == name {
			return i, &l.Packs[i]
		}
	}
	return -1, nil
}
