package local

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
)

// Component phases, named like the pod statuses a learner knows from
// `kubectl get pods` / `crictl ps`.
const (
	phaseStarting         = "Starting"
	phaseRunning          = "Running"
	phaseCrashLoopBackOff = "CrashLoopBackOff"
	phaseInvalidManifest  = "InvalidManifest"
	phaseCreateError      = "CreateContainerError"
	phaseStopped          = "Stopped"
)

// componentStatus is the supervisor's report about one static pod.
type componentStatus struct {
	Name  string `json:"name"`
	Phase string `json:"phase"`
	// ManifestHash identifies the manifest content the process runs (or
	// failed to run); WaitHealthy compares it with the file on disk.
	ManifestHash string `json:"manifestHash"`
	Running      bool   `json:"running"`
	Ready        bool   `json:"ready"`
	PID          int    `json:"pid,omitempty"`
	// Args is the command line as the container sees it (exam paths);
	// HostArgs is what the binary actually got: node-dir paths on the host,
	// exam paths where it runs in the node's mount namespace.
	Args      []string  `json:"args,omitempty"`
	HostArgs  []string  `json:"hostArgs,omitempty"`
	Restarts  int       `json:"restarts"`
	LastError string    `json:"lastError,omitempty"`
	LogTail   []string  `json:"logTail,omitempty"`
	Since     time.Time `json:"since"`
}

// supervisorState is <nodeDir>/.ckslab/state.json.
type supervisorState struct {
	PID        int                         `json:"pid"`
	StartedAt  time.Time                   `json:"startedAt"`
	UpdatedAt  time.Time                   `json:"updatedAt"`
	Stopping   bool                        `json:"stopping,omitempty"`
	Components map[string]*componentStatus `json:"components"`
}

func readState(nodeDir string) (*supervisorState, error) {
	b, err := os.ReadFile(stateFile(nodeDir))
	if err != nil {
		return nil, err
	}
	var s supervisorState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", stateFile(nodeDir), err)
	}
	return &s, nil
}

func (c *componentStatus) public() cluster.ComponentState {
	return cluster.ComponentState{
		Name:      c.Name,
		Running:   c.Running,
		Ready:     c.Ready,
		Args:      append([]string(nil), c.Args...),
		Restarts:  c.Restarts,
		LastError: c.LastError,
		LogTail:   append([]string(nil), c.LogTail...),
		Since:     c.Since,
	}
}
