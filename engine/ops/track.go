package ops

import (
	"io/fs"
	"strings"
	"sync"
)

// ScenarioLabel marks every object setup (or a solution under validate)
// created, so reset can find it even if the lab state file is lost.
const ScenarioLabel = "ckslab.dev/scenario"

// LabelValue is a scenario id as a label value: pack ids are namespaced
// "<pack>/<id>" and '/' is not allowed in label values.
func LabelValue(scenarioID string) string { return strings.ReplaceAll(scenarioID, "/", ".") }

// ObjectRecord is one object an operation created.
type ObjectRecord struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// FileBackup is a node file as it was before the first operation touched it.
type FileBackup struct {
	Node    string      `json:"node,omitempty"`
	Path    string      `json:"path"`
	Absent  bool        `json:"absent,omitempty"`
	Content []byte      `json:"content,omitempty"`
	Mode    fs.FileMode `json:"mode,omitempty"`
}

// Tracked is what reset needs to undo operations exactly.
type Tracked struct {
	Objects []ObjectRecord `json:"objects,omitempty"`
	Files   []FileBackup   `json:"files,omitempty"`
}

// Tracker records created objects and node file backups. OnChange is
// called (under the lock) after every new record so the caller can persist
// state before the next step; a crash mid-setup still resets cleanly.
type Tracker struct {
	mu       sync.Mutex
	t        Tracked
	OnChange func(Tracked) error
}

// NewTracker starts from previous records (e.g. a lab state file).
func NewTracker(prev Tracked, onChange func(Tracked) error) *Tracker {
	return &Tracker{t: prev, OnChange: onChange}
}

// Snapshot returns a copy of the records.
func (t *Tracker) Snapshot() Tracked {
	if t == nil {
		return Tracked{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return Tracked{Objects: append([]ObjectRecord(nil), t.t.Objects...), Files: append([]FileBackup(nil), t.t.Files...)}
}

func (t *Tracker) addObject(o ObjectRecord) error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.t.Objects {
		if e == o {
			return nil
		}
	}
	t.t.Objects = append(t.t.Objects, o)
	return t.changed()
}

// hasFile reports whether path on node is already backed up (only the
// original content matters for reset).
func (t *Tracker) hasFile(node, path string) bool {
	if t == nil {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.t.Files {
		if f.Node == node && f.Path == path {
			return true
		}
	}
	return false
}

func (t *Tracker) addFile(b FileBackup) error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.t.Files = append(t.t.Files, b)
	return t.changed()
}

func (t *Tracker) changed() error {
	if t.OnChange == nil {
		return nil
	}
	return t.OnChange(Tracked{Objects: append([]ObjectRecord(nil), t.t.Objects...), Files: append([]FileBackup(nil), t.t.Files...)})
}
