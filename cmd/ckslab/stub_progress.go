package main

import "github.com/spf13/cobra"

// Placeholder until the progress command lands; delete this file when it does.
func newProgressCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "progress", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("progress") }}
}
