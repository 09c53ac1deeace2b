package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/progress"
	"github.com/ckslab/ckslab/engine/runner"
)

// runnerOptions say what a verb needs of its runner.
type runnerOptions struct {
	// Backend resolves the backend; false for verbs that only read the
	// lab's state (hint, solution, env).
	Backend bool
	// Catalog loads the catalog (implied by Backend).
	Catalog bool
	// Scenario is the id the verb is about; "" means the running lab's.
	Scenario string
	// AllowHostExec is --allow-host-commands.
	AllowHostExec bool
	// Events receives progress; nil prints it as text on stderr.
	Events func(runner.Event)
}

// newRunner is the one place cmd builds an engine runner: every verb and
// the TUI (lab and exam) get theirs here, so options such as AllowHostExec
// reach every path. With --backend auto and a lab already running, the
// lab's own backend is used, so `check` after `start --backend kind` talks
// to the same cluster.
func (a *app) newRunner(ctx context.Context, o runnerOptions) (*runner.Runner, error) {
	r := &runner.Runner{StateDir: a.stateRoot(), ClusterName: a.clusterName, AllowHostExec: o.AllowHostExec, Out: o.Events}
	if r.Out == nil {
		r.Out = a.textEvents()
	}
	if o.Catalog || o.Backend {
		// The verbs of a lab are about its scenario: the catalog is opened
		// for it (a wrong guess, e.g. start of another id, only costs the
		// scan of the remaining sources on its lookup).
		id := o.Scenario
		if id == "" {
			if st, err := r.LoadState(); err == nil {
				id = st.Scenario
			}
		}
		c, err := a.loadCatalogFor(id)
		if err != nil {
			return nil, err
		}
		r.Catalog = c
	}
	if o.Backend {
		b, err := a.resolveBackend(ctx)
		if err != nil {
			return nil, err
		}
		r.Backend = b
	}
	return r, nil
}

// labRunner is newRunner for the lab verbs that talk to the cluster.
func (a *app) labRunner(ctx context.Context, allowHost bool) (*runner.Runner, error) {
	return a.newRunner(ctx, runnerOptions{Backend: true, AllowHostExec: allowHost})
}

// textEvents prints runner progress as plain lines on stderr (non-TTY).
func (a *app) textEvents() func(runner.Event) {
	started := map[string]time.Time{}
	return func(e runner.Event) {
		switch e.Kind {
		case runner.StepStarted:
			started[e.Step] = e.At
			fmt.Fprintf(a.ErrOut, "  • %s ...\n", e.Title)
		case runner.StepDone:
			if e.Err != nil {
				fmt.Fprintf(a.ErrOut, "  ✘ %s: %v\n", e.Title, e.Err)
				return
			}
			d := ""
			if t, ok := started[e.Step]; ok {
				d = fmt.Sprintf(" (%.1fs)", e.At.Sub(t).Seconds())
			}
			if !strings.Contains(e.Step, "/") || e.Title != "" {
				fmt.Fprintf(a.ErrOut, "  ✔ %s%s\n", e.Title, d)
			}
		case runner.StepLine:
			if e.Step == "setup" || e.Step == "solution" || e.Step == "reset" {
				fmt.Fprintf(a.ErrOut, "      %s\n", e.Line)
			}
		}
	}
}

func addAllowHostFlag(cmd *cobra.Command, target *bool) {
	cmd.Flags().BoolVar(target, "allow-host-commands", false, "let pack scenarios run node commands on this machine (local backend)")
}

func newStartCmd(a *app) *cobra.Command {
	var allowHost, plain bool
	cmd := &cobra.Command{
		Use:   "start ID",
		Short: "Provision the cluster, seed a scenario and show its task",
		Long: `start makes sure the lab cluster runs, undoes any previous lab on it and seeds the
scenario's misconfiguration. Fix it with kubectl (run the printed export first), then
run ckslab check.`,
		Example:           "  ckslab start psp-01\n  eval \"$(ckslab env)\" && kubectl get ns",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeScenarioIDs(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if a.TTY && !plain {
				// On a terminal the lab opens in the UI: provisioning
				// progress, task, timer, objectives and hints.
				return runLabTUI(ctx, a, args[0], allowHost)
			}
			r, err := a.labRunner(ctx, allowHost)
			if err != nil {
				return err
			}
			lab, err := r.Start(ctx, args[0])
			if err != nil {
				return err
			}
			a.recordProgress(func(s *progress.Store) error { return s.StartAttempt(lab.Scenario.ID, time.Now()) })
			// Plain text is the contract for scripts and non-TTY use.
			printLab(a, lab)
			return nil
		},
	}
	addAllowHostFlag(cmd, &allowHost)
	cmd.Flags().BoolVar(&plain, "no-tui", false, "print the task as text even on a terminal")
	return cmd
}

func printLab(a *app, lab *runner.Lab) {
	s := lab.Scenario
	w := a.Out
	fmt.Fprintf(w, "\n%s — %s (%s, ~%d min)\n\n", s.ID, s.Spec.Title, s.Spec.Difficulty, s.Spec.Minutes)
	fmt.Fprintln(w, strings.TrimSpace(s.Spec.Task))
	fmt.Fprintln(w, "\nObjectives:")
	for _, c := range s.Spec.Checks {
		fmt.Fprintf(w, "  - %s\n", c.Objective)
	}
	fmt.Fprintf(w, "\nUse the lab cluster:\n  export KUBECONFIG=%s\n\nThen: ckslab check · ckslab hint · ckslab reset\n", lab.Cluster.Kubeconfig)
}

// labError maps "no lab" to a friendly message.
func labError(err error) error {
	if errors.Is(err, runner.ErrNoLab) {
		return &exitError{code: 2, msg: runner.ErrNoLab.Error()}
	}
	return err
}
