package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/cluster/backend"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/fsutil"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/progress"
	"github.com/ckslab/ckslab/engine/runner"
	"github.com/ckslab/ckslab/ui"
	"github.com/ckslab/ckslab/ui/common"
)

// runCatalogTUI opens the catalog (ckslab with no arguments on a terminal).
func runCatalogTUI(ctx context.Context, a *app) error {
	return a.runTUI(ctx, ui.Options{}, false)
}

// runLabTUI provisions and seeds scenario id, then opens its lab view
// (ckslab start ID on a terminal). Leaving the lab view quits; the lab keeps
// running for `ckslab check` and friends.
func runLabTUI(ctx context.Context, a *app, id string, allowHost bool) error {
	if _, err := a.scenario(id); err != nil {
		return err
	}
	return a.runTUI(ctx, ui.Options{StartID: id}, allowHost)
}

// runTUI builds the engine adapter and runs the bubbletea program.
func (a *app) runTUI(ctx context.Context, o ui.Options, allowHost bool) error {
	eng, err := a.tuiEngine(ctx, allowHost)
	if err != nil {
		return err
	}
	return a.runProgram(ctx, eng, o)
}

// runProgram runs the UI over eng.
func (a *app) runProgram(ctx context.Context, eng *runnerEngine, o ui.Options) error {
	cat, _ := a.loadCatalog()
	o.Common = common.New(common.Options{Output: a.Out, NoColor: a.noColor})
	o.Engine = eng
	o.OnlyBackend = backend.OnlyProvider
	o.Catalog = cat.All()
	o.Store = progress.Open(a.stateRoot())
	m := ui.New(ctx, o)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(a.In), tea.WithOutput(a.Out), tea.WithAltScreen())
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return m.Err
}

// tuiEngine adapts engine/runner to ui.Engine, with the runner every verb
// gets (newRunner). Backend capabilities are probed once, here, so
// Supports is cheap inside the UI.
func (a *app) tuiEngine(ctx context.Context, allowHost bool) (*runnerEngine, error) {
	r, err := a.newRunner(ctx, runnerOptions{Backend: true, AllowHostExec: allowHost, Events: func(runner.Event) {}})
	if err != nil {
		return nil, err
	}
	return newRunnerEngine(ctx, r), nil
}

type runnerEngine struct {
	r    *runner.Runner
	caps cluster.Capabilities
	// session runs an exam's tasks (nil outside an exam).
	session *exam.Session
}

func newRunnerEngine(ctx context.Context, r *runner.Runner) *runnerEngine {
	return &runnerEngine{r: r, caps: r.Backend.Capabilities(ctx)}
}

// startExam makes e run an exam: every Start seeds one more task.
func (e *runnerEngine) startExam() { e.session = exam.NewSession(e.r) }

func (e *runnerEngine) Supports(s *load.Scenario) error {
	if why := runner.MissingCapabilities(s, e.r.Backend, e.caps); why != "" {
		return errors.New(why)
	}
	return nil
}

// events turns runner events into UI progress events.
func events(progress func(ui.ProgressEvent)) func(runner.Event) {
	return func(ev runner.Event) {
		if progress != nil {
			progress(ui.ProgressEvent{ID: ev.Step, Title: ev.Title, Line: ev.Line, Done: ev.Kind == runner.StepDone, Err: ev.Err, At: ev.At})
		}
	}
}

// with returns a copy of the runner reporting to progress.
func (e *runnerEngine) with(progress func(ui.ProgressEvent)) *runner.Runner {
	rr := *e.r
	rr.Out = events(progress)
	return &rr
}

func (e *runnerEngine) Start(ctx context.Context, id string, progress func(ui.ProgressEvent)) (ui.Lab, error) {
	if e.session != nil {
		t, err := e.session.Start(ctx, id, events(progress))
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err() // the session's Close undoes the partial setup
			}
			return nil, err
		}
		return &runnerLab{e: e, s: t.Lab.Scenario, cl: t.Lab.Cluster, started: t.Lab.State.Started, task: t}, nil
	}
	rr := e.with(progress)
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
	return &runnerLab{e: e, s: lab.Scenario, cl: lab.Cluster, started: lab.State.Started}, nil
}

// closeExam undoes every exam task and returns what failed.
func (e *runnerEngine) closeExam() error {
	if e.session == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return e.session.Close(ctx)
}

type runnerLab struct {
	e       *runnerEngine
	s       *load.Scenario
	cl      *cluster.Cluster
	started time.Time
	// task is set for an exam task; otherwise the lab is the runner's
	// current lab (hints, solution, reset go through it).
	task *exam.Task
}

func (l *runnerLab) Scenario() *load.Scenario { return l.s }
func (l *runnerLab) StartedAt() time.Time     { return l.started }

func (l *runnerLab) Check(ctx context.Context) ([]checks.Result, error) {
	if l.task != nil {
		return l.task.Check(ctx)
	}
	return l.e.with(nil).Check(ctx)
}

func (l *runnerLab) Hint(ctx context.Context) (ui.Hint, error) {
	if l.task != nil {
		return ui.Hint{}, errors.New("an exam has no hints")
	}
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
	if l.task != nil {
		return runner.SolutionText(l.s), nil
	}
	text, err := l.e.r.Solution()
	if err != nil {
		return "", err
	}
	return "```\n" + strings.TrimRight(text, "\n") + "\n```", nil
}

func (l *runnerLab) Reset(ctx context.Context, progress func(ui.ProgressEvent)) error {
	if l.task != nil {
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
	env = append(env, "PATH="+path)
	cmd.Env = env
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
