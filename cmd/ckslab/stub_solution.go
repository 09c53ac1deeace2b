package main

import "github.com/spf13/cobra"

// Placeholder until the solution command lands; delete this file when it does.
func newSolutionCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "solution", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("solution") }}
}
