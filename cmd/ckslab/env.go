package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/runner"
)

func newEnvCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "env",
		Short:   "Print the export line for the lab kubeconfig",
		Example: `  eval "$(ckslab env)"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := a.newRunner(cmd.Context(), runnerOptions{})
			if err != nil {
				return err
			}
			st, err := r.LoadState()
			if err == nil && st.Kubeconfig != "" {
				fmt.Fprintf(a.Out, "export KUBECONFIG=%s\n", shellQuote(st.Kubeconfig))
				return nil
			}
			// No lab: the cluster may still run (ckslab cluster up).
			b, err := a.resolveBackend(cmd.Context())
			if err != nil {
				return err
			}
			cl, err := b.Get(cmd.Context(), a.clusterName)
			if err != nil {
				return labError(runner.ErrNoLab)
			}
			fmt.Fprintf(a.Out, "export KUBECONFIG=%s\n", shellQuote(cl.Kubeconfig))
			return nil
		},
	}
}

// shellSafe reports whether r needs no quoting in a POSIX shell word.
func shellSafe(r rune) bool {
	return r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

func shellQuote(s string) string {
	for _, r := range s {
		if !shellSafe(r) {
			out := "'"
			for _, c := range s {
				if c == '\'' {
					out += `'\''`
				} else {
					out += string(c)
				}
			}
			return out + "'"
		}
	}
	return s
}
