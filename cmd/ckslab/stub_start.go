package main

import "github.com/spf13/cobra"

// Placeholder until the start command lands; delete this file when it does.
func newStartCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "start", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("start") }}
}
