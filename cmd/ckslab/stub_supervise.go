package main

import "github.com/spf13/cobra"

// Placeholder until the local backend's supervisor command lands; delete this file when it does.
func newSuperviseCmd() *cobra.Command {
	return &cobra.Command{Use: "__supervise", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("__supervise") }}
}
