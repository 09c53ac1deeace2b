package main

import "github.com/spf13/cobra"

// Placeholder until the hint command lands; delete this file when it does.
func newHintCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "hint", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("hint") }}
}
