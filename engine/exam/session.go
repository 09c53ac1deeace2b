package exam

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/runner"
)

// Session runs an exam's tasks on one cluster. The first task is the
// runner's current lab (starting it undoes any previous lab, as `ckslab
// start` does); every later task is a lab of its own, seeded next to the
// others by a copy of the runner whose lab state lives in TaskStateDir. So
// every task is set up, checked and undone by the runner itself (later
// tasks with StartOnRunning: the cluster is not brought up again), with the
// runner's options (AllowHostExec, add-ons, tracked backups) and its lab
// state on disk, and a crashed exam leaves state that the next exam undoes,
// all of it, before it seeds its first task.
type Session struct {
	r     *runner.Runner
	mu    sync.Mutex
	tasks []*Task
}

// Task is one seeded exam task.
type Task struct {
	// Runner is the runner of this task's lab (Check, Reset go through it).
	Runner *runner.Runner
	Lab    *runner.Lab
}

// Check runs the task's checks (evidence from before its start does not
// count).
func (t *Task) Check(ctx context.Context) ([]checks.Result, error) { return t.Runner.Check(ctx) }

// NewSession starts an exam session over r's cluster.
func NewSession(r *runner.Runner) *Session { return &Session{r: r} }

// TaskStateDir is where the lab state of exam task n (0-based; n > 0) is
// kept under the state root.
func TaskStateDir(stateRoot string, n int) string {
	return filepath.Join(stateRoot, "exam-tasks", strconv.Itoa(n+1))
}

// Start seeds scenario id as the session's next task; out receives the
// runner's progress events (nil: none). A task whose setup failed half-way
// is still undone by Close.
func (s *Session) Start(ctx context.Context, id string, out func(runner.Event)) (*Task, error) {
	s.mu.Lock()
	n := len(s.tasks)
	rr := *s.r
	rr.SharedCluster = true // the tasks' labs live side by side
	if n > 0 {
		rr.StateDir = TaskStateDir(s.r.StateDir, n)
	}
	t := &Task{Runner: &rr}
	// Registered before setup: Close undoes whatever setup did.
	s.tasks = append(s.tasks, t)
	s.mu.Unlock()
	rr.Out = out
	start := rr.Start
	if n > 0 {
		start = rr.StartOnRunning
	} else if err := s.undoStale(ctx); err != nil {
		return nil, err
	}
	lab, err := start(ctx, id)
	if err != nil {
		return nil, err
	}
	t.Lab = lab
	return t, nil
}

// undoStale undoes, newest first, the later tasks a previous exam left in
// TaskStateDir (it crashed or was killed before Close), before this exam
// seeds anything: left until their slot is reused, a stale lab would be
// undone after a new task had seeded the same objects (an audit-02 of the
// old exam in slot 12 deleted the new exam's audit-02 namespace, seeded in
// slot 11). The first task's slot is the runner's own lab, which Start
// undoes.
func (s *Session) undoStale(ctx context.Context) error {
	entries, err := os.ReadDir(filepath.Join(s.r.StateDir, "exam-tasks"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the state of a previous exam: %w", err)
	}
	var slots []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > 1 && e.IsDir() {
			slots = append(slots, n)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(slots)))
	for _, n := range slots {
		rr := *s.r
		rr.SharedCluster = true
		rr.StateDir = TaskStateDir(s.r.StateDir, n-1)
		st, err := rr.LoadState()
		switch {
		case errors.Is(err, runner.ErrNoLab):
		case err != nil:
			return fmt.Errorf("a previous exam's task %d: %w", n, err)
		default:
			if err := rr.Reset(ctx); err != nil {
				return fmt.Errorf("undo a previous exam's task %d (%s) before this exam: %w", n, st.Scenario, err)
			}
		}
		_ = os.RemoveAll(rr.StateDir)
	}
	return nil
}

// Tasks are the tasks started so far, in order.
func (s *Session) Tasks() []*Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Task(nil), s.tasks...)
}

// Close undoes every task, newest first (a later task's backups hold what
// earlier ones seeded), and returns every failure, naming its task. A task
// with no lab state (setup never began) is nothing to undo.
func (s *Session) Close(ctx context.Context) error {
	s.mu.Lock()
	tasks := s.tasks
	s.tasks = nil
	s.mu.Unlock()
	var errs []error
	for i := len(tasks) - 1; i >= 0; i-- {
		rr := *tasks[i].Runner
		st, err := rr.LoadState()
		if errors.Is(err, runner.ErrNoLab) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("exam task %d: %w", i+1, err))
			continue
		}
		if err := rr.Reset(ctx); err != nil {
			errs = append(errs, fmt.Errorf("undo exam task %d (%s): %w", i+1, st.Scenario, err))
			continue
		}
		if i > 0 {
			_ = os.RemoveAll(TaskStateDir(s.r.StateDir, i)) // only the emptied labs/ directory is left
		}
	}
	return errors.Join(errs...)
}
