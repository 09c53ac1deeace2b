package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// outputFlag adds -o/--output with the given formats (first is default).
func outputFlag(cmd *cobra.Command, target *string, formats ...string) {
	cmd.Flags().StringVarP(target, "output", "o", formats[0], fmt.Sprintf("output format: %v", formats))
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(formats...))
}

func checkFormat(got string, formats ...string) error {
	for _, f := range formats {
		if f == got {
			return nil
		}
	}
	return fmt.Errorf("unknown output format %q; use one of %v", got, formats)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }
