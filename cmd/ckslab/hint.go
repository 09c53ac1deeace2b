package main

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/progress"
)

func newHintCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "hint [N]",
		Short: "Reveal the next hint (or hint N); hints cost points",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			if len(args) == 1 {
				v, err := strconv.Atoi(args[0])
				if err != nil || v < 1 {
					return fmt.Errorf("hint number %q must be a positive integer", args[0])
				}
				n = v
			}
			r, err := a.newRunner(cmd.Context(), runnerOptions{Catalog: true})
			if err != nil {
				return err
			}
			before, err := r.LoadState()
			if err != nil {
				return labError(err)
			}
			h, idx, err := r.Hint(n)
			if err != nil {
				return labError(err)
			}
			if !slices.Contains(before.HintsUsed, idx) {
				a.recordProgress(func(s *progress.Store) error { return s.RecordHint(before.Scenario, h.Penalty, time.Now()) })
			}
			st, _ := r.LoadState()
			s, _ := r.Catalog.Get(st.Scenario)
			fmt.Fprintf(a.Out, "Hint %d/%d (-%d): %s\n", idx, len(s.Spec.Hints), h.Penalty, h.Text)
			return nil
		},
	}
}
