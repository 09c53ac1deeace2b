package main

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/progress"
)

func newSolutionCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "solution",
		Short: "Show the reference solution of the current lab (asks first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := a.newRunner(cmd.Context(), runnerOptions{Catalog: true})
			if err != nil {
				return err
			}
			st, err := r.LoadState()
			if err != nil {
				return labError(err)
			}
			if !yes && !a.yes {
				if !a.TTY {
					return fmt.Errorf("showing the solution of %s needs confirmation: rerun with --yes", st.Scenario)
				}
				fmt.Fprintf(a.ErrOut, "Reveal the solution of %s? It is recorded in your progress. [y/N] ", st.Scenario)
				line, _ := bufio.NewReader(a.In).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return nil
				}
			}
			text, err := r.Solution()
			if err != nil {
				return labError(err)
			}
			a.recordProgress(func(s *progress.Store) error { return s.RecordSolution(st.Scenario, time.Now()) })
			fmt.Fprintf(a.Out, "Solution of %s:\n\n%s", st.Scenario, text)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
