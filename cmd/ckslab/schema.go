package main

import (
	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/scenarios"
)

func newSchemaCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the scenario format (for editors)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := a.Out.Write(scenarios.Schema)
			return err
		},
	}
}
