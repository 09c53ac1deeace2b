package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newResetCmd(a *app) *cobra.Command {
	var again, allowHost bool
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Undo the current lab: delete what it created, restore node files",
		Long: `reset deletes every object the lab's setup created, restores the node files it
changed (static pod manifests included, waiting for the control plane to be healthy)
and runs the scenario's cleanup. With --again the scenario is seeded afresh.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			r, err := a.labRunner(ctx, allowHost)
			if err != nil {
				return err
			}
			st, err := r.LoadState()
			if err != nil {
				return labError(err)
			}
			if err := r.Reset(ctx); err != nil {
				return err
			}
			if !again {
				fmt.Fprintf(a.Out, "Lab %s reset. Start again with: ckslab start %s\n", st.Scenario, st.Scenario)
				return nil
			}
			lab, err := r.Start(ctx, st.Scenario)
			if err != nil {
				return err
			}
			printLab(a, lab)
			return nil
		},
	}
	cmd.Flags().BoolVar(&again, "again", false, "seed the scenario again after resetting")
	addAllowHostFlag(cmd, &allowHost)
	return cmd
}
