package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/scenarios/exams"
	"github.com/ckslab/ckslab/ui"
)

func newExamCmd(a *app) *cobra.Command {
	var minutes, count, mock int
	var seed int64
	var allowHost bool
	cmd := &cobra.Command{
		Use:   "exam",
		Short: "A timed, killer.sh-style session of tasks drawn across the CKS domains, or a mock exam",
		Long: `exam seeds several scenarios on one cluster and gives you one global countdown.
Move freely between tasks (n/p, l for the list, 1-9), flag tasks for review (f), check any
task at any time (c). When you end the exam (E) or time runs out, every task is checked and
scored with the guard rule of ckslab check, the result is saved to your progress, and every
task is undone.

Without --mock the tasks are drawn with a seed across the domains and weighted by their
suggested minutes. --mock N runs curated mock exam N (scenarios/exams/mock-N.yaml): 16 tasks
in 120 minutes covering every domain, weighted as the curriculum weighs the domains. A mock
task the backend cannot run (or whose scenario is still to be written) is not seeded: it is
listed as not available and left out of the maximum, so the percentage is over what this
backend can judge. Mock 1 runs entirely on the local backend.`,
		Example: `  ckslab exam                       # 16 tasks, 120 minutes
  ckslab exam --count 4 --minutes 30 --seed 7
  ckslab exam --mock 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !a.TTY {
				return errors.New("ckslab exam is interactive and needs a terminal; run it in a terminal, not through a pipe or CI")
			}
			if minutes < 1 || count < 1 {
				return errors.New("--minutes and --count must be at least 1")
			}
			if cmd.Flags().Changed("mock") && (cmd.Flags().Changed("count") || cmd.Flags().Changed("seed")) {
				return errors.New("--mock runs a fixed set of tasks: it takes no --count or --seed")
			}
			if !cmd.Flags().Changed("seed") {
				seed = time.Now().UnixNano() % 1_000_000
			}
			ctx := cmd.Context()
			eng, err := a.tuiEngine(ctx, allowHost)
			if err != nil {
				return err
			}
			cat, err := a.loadCatalog()
			if err != nil {
				return err
			}
			var plan exam.Plan
			if cmd.Flags().Changed("mock") {
				mocks, err := exam.LoadMocks(exams.FS)
				if err != nil {
					return err
				}
				m, err := exam.FindMock(mocks, mock)
				if err != nil {
					return err
				}
				if plan, err = exam.PlanMock(m, cat, eng.Supports); err != nil {
					return err
				}
				if cmd.Flags().Changed("minutes") {
					plan.Minutes = minutes
				}
				printUnavailable(a, plan, eng.r.Backend.Name())
			} else {
				if plan, err = exam.Draw(cat.All(), eng.Supports, count, minutes, seed); err != nil {
					return err
				}
				if len(plan.Scenarios) < count {
					fmt.Fprintf(a.ErrOut, "only %d scenario(s) can run on the %s backend; the exam has %d task(s)\n", len(plan.Scenarios), eng.r.Backend.Name(), len(plan.Scenarios))
				}
			}
			eng.startExam()
			runErr := a.runProgram(ctx, eng, ui.Options{Exam: &plan})
			// Undo every task whatever happened; a failure is reported,
			// never swallowed: the cluster may still hold a task's seed.
			if err := eng.closeExam(); err != nil {
				err = fmt.Errorf("undoing the exam's tasks failed; the cluster may still hold their setup (ckslab reset, or ckslab cluster down): %w", err)
				if runErr != nil {
					return errors.Join(runErr, err)
				}
				return err
			}
			if runErr != nil {
				return runErr
			}
			if plan.Mock != "" {
				fmt.Fprintf(a.ErrOut, "%s done, every task undone; results: ckslab progress\n", plan.Mock)
			} else {
				fmt.Fprintf(a.ErrOut, "exam seed %d (ckslab exam --seed %d repeats it), every task undone; results: ckslab progress\n", seed, seed)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&minutes, "minutes", 120, "time limit of the whole exam")
	cmd.Flags().IntVar(&count, "count", 16, "number of tasks (fewer when the backend cannot run enough scenarios)")
	cmd.Flags().Int64Var(&seed, "seed", 0, "seed of the task draw (default: random)")
	cmd.Flags().IntVar(&mock, "mock", 0, "run curated mock exam N (1 or 2) instead of a drawn one")
	addAllowHostFlag(cmd, &allowHost)
	return cmd
}

// printUnavailable says which tasks of a mock exam this session leaves out.
func printUnavailable(a *app, plan exam.Plan, backendName string) {
	if len(plan.Unavailable) == 0 {
		return
	}
	left := 0.0
	for _, u := range plan.Unavailable {
		left += u.Weight
	}
	fmt.Fprintf(a.ErrOut, "%s: %d of %d tasks are not available on the %s backend and are not scored (%.1f of 100 points; the score is out of %.1f):\n",
		plan.Mock, len(plan.Unavailable), len(plan.Unavailable)+len(plan.Scenarios), backendName, left, 100-left)
	for _, u := range plan.Unavailable {
		fmt.Fprintf(a.ErrOut, "  - %s (%s): %s\n", u.ID, u.Domain, strings.TrimSpace(u.Reason))
	}
}
