package main

import "github.com/spf13/cobra"

// Placeholder until the ssh command lands; delete this file when it does.
func newSSHCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "ssh", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("ssh") }}
}
