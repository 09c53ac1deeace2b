package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/progress"
	"github.com/ckslab/ckslab/ui"
	"github.com/ckslab/ckslab/ui/common"

	tea "github.com/charmbracelet/bubbletea"
)

func newExamCmd(a *app) *cobra.Command {
	var minutes, count int
	var seed int64
	cmd := &cobra.Command{
		Use:   "exam",
		Short: "A timed, killer.sh-style session of tasks drawn across the CKS domains",
		Long: `exam seeds several scenarios on one cluster and gives you one global countdown.
Move freely between tasks (n/p, l for the list, 1-9), flag tasks for review (f), check any
task at any time (c). When you end the exam (E) or time runs out, every task is checked and
scored: tasks are weighted by their suggested minutes and the result is saved to your progress.`,
		Example: `  ckslab exam                       # 16 tasks, 120 minutes
  ckslab exam --count 4 --minutes 30 --seed 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !a.TTY {
				return errors.New("ckslab exam is interactive and needs a terminal; run it in a terminal, not through a pipe or CI")
			}
			if minutes < 1 || count < 1 {
				return errors.New("--minutes and --count must be at least 1")
			}
			if !cmd.Flags().Changed("seed") {
				seed = time.Now().UnixNano() % 1_000_000
			}
			ctx := cmd.Context()
			eng, err := a.tuiEngine(ctx)
			if err != nil {
				return err
			}
			eng.exam = true
			defer eng.cleanup()
			cat, _ := a.loadCatalog()
			picked, err := ui.PlanExam(cat.All(), eng.Supports, count, seed)
			if err != nil {
				return err
			}
			if len(picked) < count {
				fmt.Fprintf(a.ErrOut, "only %d scenario(s) can run on the %s backend; the exam has %d task(s)\n", len(picked), eng.r.Backend.Name(), len(picked))
			}
			plan := ui.ExamPlan{Scenarios: picked, Minutes: minutes, Seed: seed}
			m := ui.New(ctx, ui.Options{Common: common.New(common.Options{Output: a.Out, NoColor: a.noColor}), Engine: eng,
				Catalog: cat.All(), Store: progress.Open(a.stateRoot()), Exam: &plan})
			p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(a.In), tea.WithOutput(a.Out), tea.WithAltScreen())
			if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
				return fmt.Errorf("terminal UI: %w", err)
			}
			if m.Err != nil {
				return m.Err
			}
			fmt.Fprintf(a.ErrOut, "exam seed %d (ckslab exam --seed %d repeats it); results: ckslab progress\n", seed, seed)
			return nil
		},
	}
	cmd.Flags().IntVar(&minutes, "minutes", 120, "time limit of the whole exam")
	cmd.Flags().IntVar(&count, "count", 16, "number of tasks (fewer when the backend cannot run enough scenarios)")
	cmd.Flags().Int64Var(&seed, "seed", 0, "seed of the task draw (default: random)")
	return cmd
}
