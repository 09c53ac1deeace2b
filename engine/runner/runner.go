// Package runner orchestrates labs: start (ensure a cluster, undo any
// previous lab, seed the scenario), check, hints, solution, reset and the
// CI validation that proves every scenario fails when seeded and passes
// when solved. Progress is reported as Events for the UI.
package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/kube"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/ops"
)

// EventKind says what an Event reports.
type EventKind string

const (
	// StepStarted reports that a step (setup, solution, reset...) began.
	StepStarted EventKind = "started"
	// StepLine carries one line of a running step's output.
	StepLine EventKind = "line"
	// StepDone reports that the step finished (Err says how).
	StepDone EventKind = "done"
)

// Event is one progress report.
type Event struct {
	Kind  EventKind
	Step  string // stable id: cluster, reset, setup, check, solution, ...
	Title string
	Line  string
	Err   error
	At    time.Time
}

// Runner runs labs on one cluster of one backend.
type Runner struct {
	Catalog *load.Catalog
	Backend cluster.Backend
	// StateDir is the app's state root; lab state goes to <StateDir>/labs/<cluster>.json.
	StateDir string
	// ClusterName defaults to "ckslab".
	ClusterName string
	// Out receives progress events (may be nil). It is called synchronously.
	Out func(Event)
	// AllowHostExec lets pack scenarios run node commands on a backend
	// whose node is this machine.
	AllowHostExec bool
	// ConvergeTimeout bounds how long Validate polls for a solution to pass (default 90s).
	ConvergeTimeout time.Duration
	// SharedCluster says other labs run on the same cluster at the same time
	// (an exam's tasks): setup then records no baseline, so a reset deletes
	// only what this lab's setup and fixes created, not what the learner made
	// for another task.
	SharedCluster bool
}

// Lab is a started lab.
type Lab struct {
	Scenario *load.Scenario
	Cluster  *cluster.Cluster
	State    LabState
}

func (r *Runner) clusterName() string {
	if r.ClusterName == "" {
		return "ckslab"
	}
	return r.ClusterName
}

func (r *Runner) emit(e Event) {
	if r.Out != nil {
		if e.At.IsZero() {
			e.At = time.Now()
		}
		r.Out(e)
	}
}

// step runs f as a reported step.
func (r *Runner) step(id, title string, f func() error) error {
	r.emit(Event{Kind: StepStarted, Step: id, Title: title})
	err := f()
	r.emit(Event{Kind: StepDone, Step: id, Title: title, Err: err})
	return err
}

func (r *Runner) line(id string) func(string) {
	return func(l string) { r.emit(Event{Kind: StepLine, Step: id, Line: l}) }
}

// MissingCapabilities explains what backend b lacks for s, or "": caps is
// what it provides here (b.Capabilities or a cluster's), and b's facts say
// whether the host lacks something the backend could use or another
// backend is needed.
func MissingCapabilities(s *load.Scenario, b cluster.Backend, caps cluster.Capabilities) string {
	missing := caps.Missing(s.Spec.Requires)
	if len(missing) == 0 {
		return ""
	}
	f := b.Facts()
	var names, needs []string
	possible := true
	for _, m := range missing {
		names = append(names, string(m))
		possible = possible && f.Provides.Has(m)
		if n := f.Needs[m]; n != "" {
			needs = append(needs, string(m)+" needs "+n)
		}
	}
	how := "this host cannot provide it (see `ckslab doctor`)"
	switch {
	case possible && len(needs) > 0:
		how = "this host cannot provide it: " + strings.Join(needs, "; ") + " (see `ckslab doctor`)"
	case !possible && f.Elsewhere != "":
		how = f.Elsewhere
	case !possible:
		how = "no backend provides it"
	}
	return fmt.Sprintf("%s needs %s, which the %s backend cannot provide: %s", s.ID, strings.Join(names, " and "), b.Name(), how)
}

func (r *Runner) clusterSpec(s *load.Scenario) cluster.Spec {
	sp := cluster.Spec{Name: r.clusterName()}
	if c := s.Spec.Cluster; c != nil {
		sp.Variant, sp.NodeImage, sp.Addons = c.KindConfig, c.NodeImage, c.Addons
	}
	return sp
}

// ensureCluster refuses scenarios the backend cannot honestly run, then
// brings the cluster up (or reuses it).
func (r *Runner) ensureCluster(ctx context.Context, s *load.Scenario) (*cluster.Cluster, error) {
	if why := MissingCapabilities(s, r.Backend, r.Backend.Capabilities(ctx)); why != "" {
		return nil, errors.New(why)
	}
	var cl *cluster.Cluster
	err := r.step("cluster", "Cluster "+r.clusterName()+" ("+r.Backend.Name()+")", func() error {
		var err error
		cl, err = r.Backend.Up(ctx, r.clusterSpec(s), func(st cluster.Step) {
			kind := StepLine
			if st.Done {
				kind = StepDone
			}
			line := st.Line
			if line == "" {
				line = st.Title
			}
			r.emit(Event{Kind: kind, Step: "cluster/" + st.ID, Title: st.Title, Line: line, Err: st.Err, At: st.At})
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if why := MissingCapabilities(s, r.Backend, cl.Capabilities); why != "" && cl.Capabilities != nil {
		return nil, errors.New(why)
	}
	return cl, nil
}

// Start provisions the cluster if needed, undoes any previous lab and seeds
// scenario id.
func (r *Runner) Start(ctx context.Context, id string) (*Lab, error) {
	s, err := r.Catalog.Get(id)
	if err != nil {
		return nil, err
	}
	cl, err := r.ensureCluster(ctx, s)
	if err != nil {
		return nil, err
	}
	return r.seedOn(ctx, s, cl)
}

// seedOn undoes this runner's previous lab on cluster cl and seeds s there.
func (r *Runner) seedOn(ctx context.Context, s *load.Scenario, cl *cluster.Cluster) (*Lab, error) {
	k, err := kube.New(cl.Kubeconfig)
	if err != nil {
		return nil, err
	}
	if err := r.resetPrevious(ctx, cl, k, s); err != nil {
		return nil, err
	}
	st, err := r.setup(ctx, s, cl, k)
	if err != nil {
		return nil, err
	}
	return &Lab{Scenario: s, Cluster: cl, State: *st}, nil
}

// setup runs the scenario's setup, persisting the tracker after every
// created object or backed-up file.
func (r *Runner) setup(ctx context.Context, s *load.Scenario, cl *cluster.Cluster, k *kube.Client) (*LabState, error) {
	st := &LabState{Scenario: s.ID, Cluster: cl.Name, Backend: cl.Backend, Kubeconfig: cl.Kubeconfig,
		ClusterID: clusterID(cl.Kubeconfig), Started: time.Now().UTC()}
	if err := r.saveState(st); err != nil {
		return nil, err
	}
	tr := ops.NewTracker(ops.Tracked{}, func(t ops.Tracked) error {
		st.Tracked = t
		return r.saveState(st)
	})
	err := r.step("setup", "Seeding "+s.ID, func() error {
		if !r.SharedCluster {
			// Without a baseline, reset still undoes everything setup and
			// fixes tracked; a cluster whose API cannot be listed now fails
			// the setup steps that need it with their own reason.
			if b, err := ops.TakeBaseline(ctx, k); err != nil {
				r.emit(Event{Kind: StepLine, Step: "setup", Line: "reset will undo only what setup tracks: " + firstLine(err.Error())})
			} else {
				st.Baseline = b
				if err := r.saveState(st); err != nil {
					return err
				}
			}
		}
		if err := clearAnswerFiles(ctx, s, cl); err != nil {
			return err
		}
		if err := r.installCRDs(ctx, s, k); err != nil {
			return err
		}
		return ops.Setup(ctx, r.opsEnv(s, cl, k, tr, "setup"), &s.Spec)
	})
	if err != nil {
		return nil, fmt.Errorf("set up %s: %w (run `ckslab reset` to undo the partial setup)", s.ID, err)
	}
	st.Tracked = tr.Snapshot()
	st.SetupDone = true
	if err := r.saveState(st); err != nil {
		return nil, err
	}
	return st, nil
}

func (r *Runner) opsEnv(s *load.Scenario, cl *cluster.Cluster, k *kube.Client, tr *ops.Tracker, step string) *ops.Env {
	return &ops.Env{ScenarioID: s.ID, ReadFile: s.ReadFile, Trusted: s.Trusted, AllowHostExec: r.AllowHostExec,
		Cluster: cl, Kube: k, Tracker: tr, Log: r.line(step)}
}

// current loads the lab state, its scenario and the running cluster.
func (r *Runner) current(ctx context.Context) (*LabState, *load.Scenario, *cluster.Cluster, error) {
	st, err := r.LoadState()
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := r.Catalog.Get(st.Scenario)
	if err != nil {
		return st, nil, nil, fmt.Errorf("the current lab's scenario is no longer in the catalog: %w", err)
	}
	cl, err := r.Backend.Get(ctx, r.clusterName())
	if err != nil {
		return st, s, nil, fmt.Errorf("cluster %s (%s backend): %w", r.clusterName(), r.Backend.Name(), err)
	}
	return st, s, cl, nil
}

// Current returns the running lab.
func (r *Runner) Current(ctx context.Context) (*Lab, error) {
	st, s, cl, err := r.current(ctx)
	if err != nil {
		return nil, err
	}
	return &Lab{Scenario: s, Cluster: cl, State: *st}, nil
}

// Check runs the current lab's checks.
func (r *Runner) Check(ctx context.Context) ([]checks.Result, error) {
	st, s, cl, err := r.current(ctx)
	if err != nil {
		return nil, err
	}
	return r.runChecks(ctx, s, cl, nil, st.Started)
}

// CheckLab runs a scenario's checks against a cluster (used by Check and Validate).
// runChecks evaluates s; evidence from before since (the lab's start)
// does not count.
func (r *Runner) runChecks(ctx context.Context, s *load.Scenario, cl *cluster.Cluster, suite *checks.Suite, since time.Time) ([]checks.Result, error) {
	if suite == nil {
		var err error
		if suite, err = checks.Compile(s.Spec.Checks); err != nil {
			return nil, err
		}
	}
	k, err := kube.New(cl.Kubeconfig)
	if err != nil {
		return nil, err
	}
	env := &checks.Env{Cluster: cl, Kube: k, Trusted: s.Trusted, AllowHostExec: r.AllowHostExec, Since: since}
	var out []checks.Result
	_ = r.step("check", "Checking "+s.ID, func() error {
		out = suite.Run(ctx, env, nil)
		return nil
	})
	return out, nil
}

// Reset undoes the current lab: tracked objects deleted, node files
// restored (reverse order), control plane healthy again, spec.cleanup run.
func (r *Runner) Reset(ctx context.Context) error {
	st, err := r.LoadState()
	if err != nil {
		return err
	}
	cl, err := r.Backend.Get(ctx, r.clusterName())
	if err != nil {
		return fmt.Errorf("cluster %s (%s backend): %w", r.clusterName(), r.Backend.Name(), err)
	}
	k, err := kube.New(cl.Kubeconfig)
	if err != nil {
		return err
	}
	return r.undo(ctx, st, cl, k, nil)
}

// resetPrevious undoes a previous lab on this cluster, if any, before next
// is seeded: add-ons next asks for too stay installed (validate's trials of
// one scenario, a restart of the same lab), the others are removed.
func (r *Runner) resetPrevious(ctx context.Context, cl *cluster.Cluster, k *kube.Client, next *load.Scenario) error {
	st, err := r.LoadState()
	if errors.Is(err, ErrNoLab) {
		return nil
	}
	if err != nil {
		return err
	}
	return r.undo(ctx, st, cl, k, addonsOf(next))
}

// undo resets the lab of st; keep lists add-ons not to remove.
func (r *Runner) undo(ctx context.Context, st *LabState, cl *cluster.Cluster, k *kube.Client, keep []string) error {
	if st.ClusterID != "" && st.ClusterID != clusterID(cl.Kubeconfig) {
		// The cluster was recreated since this lab started: its objects died
		// with the old cluster, and restoring its node-file backups would
		// write the old cluster's ports and certificates into the new one.
		r.emit(Event{Kind: StepLine, Step: "reset", Line: "the previous lab (" + st.Scenario + ") ran on an earlier cluster of this name; discarding its state"})
		return r.removeState()
	}
	return r.step("reset", "Resetting "+st.Scenario, func() error {
		// Objects first while the API server still runs the lab's config
		// (it may be the only one able to read them); if it is down (the
		// learner broke its manifest), they are deleted after the restore.
		early := deleteLab(ctx, k, st, false)
		if early != nil && !kube.IsUnreachable(early) {
			return early
		}
		if early == nil {
			if err := r.decryptBeforeRestore(ctx, cl, k, st.Tracked.Files); err != nil {
				return err
			}
		}
		manifests, ferr := ops.RestoreFiles(ctx, cl, st.Tracked.Files)
		if ferr != nil {
			return ferr
		}
		if len(manifests) > 0 && cl.Components != nil {
			for _, m := range manifests {
				r.emit(Event{Kind: StepLine, Step: "reset", Line: "waiting for " + m + " to be healthy"})
				if err := cl.Components.WaitHealthy(ctx, m, ops.HealthyTimeout); err != nil {
					return fmt.Errorf("wait for %s after restoring its manifest: %w", m, err)
				}
			}
		}
		if early != nil {
			if err := deleteLab(ctx, k, st, true); err != nil {
				return err
			}
		}
		s, serr := r.Catalog.Get(st.Scenario)
		if serr == nil && len(s.Spec.Cleanup) > 0 {
			if err := ops.Run(ctx, r.opsEnv(s, cl, k, nil, "reset"), s.Spec.Cleanup); err != nil {
				return fmt.Errorf("cleanup of %s: %w", s.ID, err)
			}
		}
		if serr == nil {
			if err := r.removeAddons(ctx, s, cl, keep); err != nil {
				return err
			}
		}
		return r.removeState()
	})
}

// deleteLab deletes what the lab's setup and fixes created (tracked and
// labelled objects) and what else appeared since its baseline: objects the
// learner made with kubectl outside the scenario's namespaces. After node
// files were restored (restored), the API server may still be reconnecting
// to a restarted etcd: the listing is then retried while the server does
// not answer, for as long as a component may take to become healthy.
// Before the restore it is not (an API server the learner broke answers
// only after the restore).
func deleteLab(ctx context.Context, k *kube.Client, st *LabState, restored bool) error {
	objs := st.Tracked.Objects
	if st.Baseline != nil {
		deadline := time.Now().Add(ops.HealthyTimeout)
		for {
			extra, err := ops.SinceBaseline(ctx, k, st.Scenario, st.Baseline)
			if err == nil {
				objs = append(append([]ops.ObjectRecord(nil), objs...), extra...)
				break
			}
			if !restored || !kube.IsUnreachable(err) || time.Now().After(deadline) {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
	return ops.DeleteTracked(ctx, k, st.Scenario, objs)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
