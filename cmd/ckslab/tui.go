package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/fsutil"
	"github.com/ckslab/ckslab/engine/kube"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/ops"
	"github.com/ckslab/ckslab/engine/progress"
	"github.com/ckslab/ckslab/engine/runner"
	"github.com/ckslab/ckslab/ui"
	"github.com/ckslab/ckslab/ui/common"
)

func errNotBuilt(what string) error { return fmt.Errorf("%s is not available in this build", what) }

// runCatalogTUI opens the catalog (ckslab with no arguments on a terminal).
func runCatalogTUI(ctx context.Context, a *app) error {
	return a.runTUI(ctx, ui.Options{})
}

// runLabTUI provisions and seeds scenario id, then opens its lab view
// (ckslab start ID on a terminal). Leaving the lab view quits; the lab keeps
// running for `ckslab check` and friends.
func runLabTUI(ctx context.Context, a *app, id string) error {
	if _, err := a.scenario(id); err != nil {
		return err
	}
	return a.runTUI(ctx, ui.Options{StartID: id})
}

// runTUI builds the engine adapter and runs the bubbletea program.
func (a *app) runTUI(ctx context.Context, o ui.Options) error {
	eng, err := a.tuiEngine(ctx)
	if err != nil {
		return err
	}
	defer eng.cleanup()
	cat, _ := a.loadCatalog()
	o.Common = common.New(common.Options{Output: a.Out, NoColor: a.noColor})
	o.Engine = eng
	o.Catalog = cat.All()
	o.Store = progress.Open(a.stateRoot())
	m := ui.New(ctx, o)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(a.In), tea.WithOutput(a.Out), tea.WithAltScreen())
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return m.Err
}

// tuiEngine adapts engine/runner to ui.Engine. Backend capabilities are
// probed once, here, so Supports is cheap inside the UI.
func (a *app) tuiEngine(ctx context.Context) (*runnerEngine, error) {
	cat, err := a.loadCatalog()
	if err != nil {
		return nil, err
	}
	b, err := a.resolveBackend(ctx)
	if err != nil {
		return nil, err
	}
	r := &runner.Runner{Catalog: cat, Backend: b, StateDir: a.stateRoot(), ClusterName: a.clusterName}
	return &runnerEngine{r: r, caps: b.Capabilities(ctx)}, nil
}

type runnerEngine struct {
	r    *runner.Runner
	caps cluster.Capabilities

	// exam: the first task is started by the runner; the others are seeded
	// next to it and undone by cleanup.
	exam   bool
	mu     sync.Mutex
	extras []*examExtra
}

type examExtra struct {
	s  *load.Scenario
	cl *cluster.Cluster
	tr *ops.Tracker
}

func (e *runnerEngine) Supports(s *load.Scenario) error {
	if why := runner.MissingCapabilities(s, e.r.Backend, e.caps); why != "" {
		return errors.New(why)
	}
	return nil
}

// with returns a copy of the runner reporting to progress.
func (e *runnerEngine) with(progress func(ui.ProgressEvent)) *runner.Runner {
	rr := *e.r
	rr.Out = func(ev runner.Event) {
		if progress == nil {
			return
		}
		progress(ui.ProgressEvent{ID: ev.Step, Title: ev.Title, Line: ev.Line, Done: ev.Kind == runner.StepDone, Err: ev.Err, At: ev.At})
	}
	return &rr
}

func (e *runnerEngine) Start(ctx context.Context, id string, progress func(ui.ProgressEvent)) (ui.Lab, error) {
	e.mu.Lock()
	first := len(e.extras) == 0
	e.mu.Unlock()
	rr := e.with(progress)
	if e.exam && !first {
		return e.seedExtra(ctx, rr, id, progress)
	}
	lab, err := rr.Start(ctx, id)
	if err != nil {
		if ctx.Err() != nil {
			// Undo whatever setup got done; the cluster itself is kept for the next start.
			tctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if _, lerr := rr.LoadState(); lerr == nil {
				_ = rr.Reset(tctx)
			}
			return nil, ctx.Err()
		}
		return nil, err
	}
	if e.exam {
		e.mu.Lock()
		e.extras = append(e.extras, &examExtra{s: lab.Scenario, cl: lab.Cluster}) // placeholder: undone by the runner's reset
		e.mu.Unlock()
	}
	return &runnerLab{e: e, s: lab.Scenario, cl: lab.Cluster, started: lab.State.Started, current: true}, nil
}

// seedExtra seeds another exam task on the running cluster without undoing
// the previous ones (the runner keeps one lab per cluster).
func (e *runnerEngine) seedExtra(ctx context.Context, rr *runner.Runner, id string, progress func(ui.ProgressEvent)) (ui.Lab, error) {
	s, err := rr.Catalog.Get(id)
	if err != nil {
		return nil, err
	}
	cl, err := rr.Backend.Get(ctx, rr.ClusterName)
	if err != nil {
		return nil, err
	}
	k, err := kube.New(cl.Kubeconfig)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	tr := ops.NewTracker(ops.Tracked{}, nil)
	e.mu.Lock()
	e.extras = append(e.extras, &examExtra{s: s, cl: cl, tr: tr})
	e.mu.Unlock()
	report := func(ev ui.ProgressEvent) {
		if progress != nil {
			ev.At = time.Now()
			progress(ev)
		}
	}
	report(ui.ProgressEvent{ID: "setup", Title: "Seeding " + s.ID})
	env := &ops.Env{ScenarioID: s.ID, ReadFile: s.ReadFile, Trusted: s.Trusted, Cluster: cl, Kube: k, Tracker: tr,
		Log: func(l string) { report(ui.ProgressEvent{ID: "setup", Line: l}) }}
	err = ops.Setup(ctx, env, &s.Spec)
	report(ui.ProgressEvent{ID: "setup", Title: "Seeding " + s.ID, Done: true, Err: err})
	if err != nil {
		return nil, fmt.Errorf("set up %s: %w", s.ID, err)
	}
	return &runnerLab{e: e, s: s, cl: cl, started: started}, nil
}

// cleanup undoes the extra exam tasks (the first one is the runner's
// current lab: `ckslab reset` undoes it).
func (e *runnerEngine) cleanup() {
	e.mu.Lock()
	defer e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Newest first: a later task's backups hold what earlier ones seeded.
	for i := len(e.extras) - 1; i >= 0; i-- {
		x := e.extras[i]
		if x.tr == nil {
			continue
		}
		t := x.tr.Snapshot()
		_, _ = ops.RestoreFiles(ctx, x.cl, t.Files)
		if k, err := kube.New(x.cl.Kubeconfig); err == nil {
			_ = ops.DeleteTracked(ctx, k, x.s.ID, t.Objects)
		}
	}
	e.extras = nil
}

type runnerLab struct {
	e       *runnerEngine
	s       *load.Scenario
	cl      *cluster.Cluster
	started time.Time
	// current is true for the runner's current lab (hints, solution, reset go through it).
	current bool
}

func (l *runnerLab) Scenario() *load.Scenario { return l.s }
func (l *runnerLab) StartedAt() time.Time     { return l.started }

func (l *runnerLab) Check(ctx context.Context) ([]checks.Result, error) {
	if l.current {
		return l.e.with(nil).Check(ctx)
	}
	suite, err := checks.Compile(l.s.Spec.Checks)
	if err != nil {
		return nil, err
	}
	k, err := kube.New(l.cl.Kubeconfig)
	if err != nil {
		return nil, err
	}
	return suite.Run(ctx, &checks.Env{Cluster: l.cl, Kube: k, Trusted: l.s.Trusted, Since: l.started}, nil), nil
}

func (l *runnerLab) Hint(ctx context.Context) (ui.Hint, error) {
	r := l.e.r
	st, err := r.LoadState()
	if err != nil {
		return ui.Hint{}, err
	}
	total := len(l.s.Spec.Hints)
	if total == 0 || len(st.HintsUsed) >= total {
		return ui.Hint{}, ui.ErrNoMoreHints
	}
	h, n, err := r.Hint(0)
	if err != nil {
		return ui.Hint{}, err
	}
	return ui.Hint{Text: h.Text, Penalty: h.Penalty, Index: n, Total: total}, nil
}

func (l *runnerLab) Solution(ctx context.Context) (string, error) {
	if !l.current {
		return runner.SolutionText(l.s), nil
	}
	text, err := l.e.r.Solution()
	if err != nil {
		return "", err
	}
	return "```\n" + strings.TrimRight(text, "\n") + "\n```", nil
}

func (l *runnerLab) Reset(ctx context.Context, progress func(ui.ProgressEvent)) error {
	if !l.current {
		return errors.New("exam tasks cannot be reset")
	}
	rr := l.e.with(progress)
	if err := rr.Reset(ctx); err != nil {
		return err
	}
	_, err := rr.Start(ctx, l.s.ID)
	return err
}

func (l *runnerLab) ShellCommand() (*exec.Cmd, error) {
	sh := os.Getenv("SHELL")
	if sh == "" {
		sh = "/bin/sh"
		if _, err := os.Stat("/bin/bash"); err == nil {
			sh = "/bin/bash"
		}
	}
	cmd := exec.Command(sh)
	env := append(os.Environ(), "KUBECONFIG="+l.cl.Kubeconfig, "CKSLAB_LAB="+l.s.ID)
	path := os.Getenv("PATH")
	if _, err := exec.LookPath("kubectl"); err != nil {
		if dir := kubectlDir(); dir != "" {
			path = dir + string(os.PathListSeparator) + path
		}
	}
	var names []string
	for _, n := range l.cl.Nodes {
		names = append(names, n.Name())
	}
	r := l.e.r
	if dir, err := writeSSHShim(r.StateDir, r.ClusterName, r.Backend.Name(), names); err == nil {
		path = dir + string(os.PathListSeparator) + path
	}
	cmd.Env = append(env, "PATH="+path)
	return cmd, nil
}

// writeSSHShim writes <state>/shims/<cluster>/ssh: `ssh NODE [COMMAND]` for
// a node of the lab cluster becomes `ckslab ssh NODE [COMMAND]`, as on the
// exam's terminal; any other destination goes to the real ssh. It returns
// the directory to put first in PATH.
func writeSSHShim(stateRoot, clusterName, backendName string, nodes []string) (string, error) {
	if len(nodes) == 0 {
		return "", errors.New("no nodes")
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(stateRoot, "shims", clusterName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	realSSH, _ := exec.LookPath("ssh")
	var quoted []string
	for _, n := range nodes {
		quoted = append(quoted, shellQuote(n))
	}
	script := "#!/bin/sh\n# Written by ckslab for the lab shell: ssh to a lab node opens `ckslab ssh`.\n" +
		"case \"$1\" in\n" + strings.Join(quoted, "|") + ")\n" +
		"\texec " + shellQuote(self) + " --state-dir " + shellQuote(stateRoot) + " --cluster " + shellQuote(clusterName) +
		" --backend " + shellQuote(backendName) + " ssh \"$@\" ;;\nesac\n"
	if realSSH != "" {
		script += "exec " + shellQuote(realSSH) + " \"$@\"\n"
	} else {
		script += "echo \"ssh: no ssh client here; lab nodes: " + strings.Join(nodes, ", ") + "\" >&2\nexit 255\n"
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, "ssh"), []byte(script), 0o700); err != nil {
		return "", err
	}
	return dir, nil
}

// kubectlDir finds a kubectl ckslab downloaded, for hosts without one in PATH.
func kubectlDir() string {
	cache, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	m, _ := filepath.Glob(filepath.Join(cache, "ckslab", "bin", "*", "kubectl"))
	if len(m) == 0 {
		return ""
	}
	return filepath.Dir(m[len(m)-1])
}
