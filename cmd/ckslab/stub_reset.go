package main

import "github.com/spf13/cobra"

// Placeholder until the reset command lands; delete this file when it does.
func newResetCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "reset", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("reset") }}
}
