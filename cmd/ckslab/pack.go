package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/pack"
)

func newPackCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pack",
		Short: "Add, update, list and remove scenario packs shared by instructors",
		Long: `A scenario pack is a directory with a pack.yaml and scenarios in the built-in
layout (<domain>/<id>/scenario.yaml). Packs come from a git repository, an https
archive (.tar.gz, .tgz, .zip) or a local directory and are untrusted: every pack is
checked for size, links and escaping paths, linted in full, and summarised for you
to accept before it is installed. Installed packs are pinned in packs.lock.json
and change only when you run ckslab pack update.`,
		// A mistyped subcommand must fail, not print help and exit 0.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPackAddCmd(a), newPackListCmd(a), newPackUpdateCmd(a), newPackRemoveCmd(a))
	return cmd
}

func newPackAddCmd(a *app) *cobra.Command {
	var name, checksum string
	cmd := &cobra.Command{
		Use:   "add SOURCE",
		Short: "Install a pack from a git repository, an https archive or a local directory",
		Example: `  ckslab pack add github.com/acme/cks-pack?ref=v1.2.0
  ckslab pack add git::https://git.example.com/acme/cks-pack.git
  ckslab pack add https://example.com/cks-pack-1.2.0.tar.gz --checksum sha256:<hex>
  ckslab pack add ./my-pack --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := a.packManager().Add(cmd.Context(), pack.AddOptions{
				Source: args[0], Name: name, Checksum: checksum, Confirm: a.confirmPack,
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.Out, "Installed pack %s %s (%s, %d scenario(s)); ckslab list shows them.\n",
				res.Pack.Name, res.Pack.Version, pinOf(res.Pack), len(res.Pack.Scenarios))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "install under this name instead of the name in pack.yaml")
	cmd.Flags().StringVar(&checksum, "checksum", "", "pin the source: sha256:<hex> of an archive, or the tree hash (pack list -o json) of a git or directory pack")
	cmd.Flags().BoolVarP(&a.yes, "yes", "y", false, "accept the pack's summary without asking (needed when not on a terminal)")
	return cmd
}

func newPackUpdateCmd(a *app) *cobra.Command {
	var checksum string
	cmd := &cobra.Command{
		Use:               "update NAME",
		Short:             "Re-fetch an installed pack from its recorded source",
		Long:              "Update fetches the pack again and replaces it only when every check passes; on any problem the installed pack stays as it was. You are asked again only when what the pack does on nodes or in the cluster changed.",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completePackNames(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := a.packManager().Update(cmd.Context(), args[0], pack.UpdateOptions{Checksum: checksum, Confirm: a.confirmPack})
			if err != nil {
				return err
			}
			if !res.Changed {
				fmt.Fprintf(a.Out, "Pack %s is up to date (%s).\n", res.Pack.Name, pinOf(res.Pack))
				return nil
			}
			fmt.Fprintf(a.Out, "Updated pack %s to %s (%s, %d scenario(s)).\n", res.Pack.Name, res.Pack.Version, pinOf(res.Pack), len(res.Pack.Scenarios))
			return nil
		},
	}
	cmd.Flags().StringVar(&checksum, "checksum", "", "new pin for the source (needed when a pinned archive changed)")
	cmd.Flags().BoolVarP(&a.yes, "yes", "y", false, "accept a changed summary without asking (needed when not on a terminal)")
	return cmd
}

func newPackRemoveCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:               "remove NAME",
		Aliases:           []string{"rm"},
		Short:             "Uninstall a pack",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completePackNames(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.packManager().Remove(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.Out, "Removed pack %s.\n", args[0])
			return nil
		},
	}
}

func newPackListCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List installed packs and whether their files still match the lock",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, "table", "json"); err != nil {
				return err
			}
			list, err := a.packManager().List(cmd.Context())
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(a.Out, list)
			}
			if len(list) == 0 {
				fmt.Fprintln(a.ErrOut, "No packs installed; add one with ckslab pack add SOURCE.")
				return nil
			}
			tw := newTable(a.Out)
			fmt.Fprintln(tw, "NAME\tVERSION\tSCENARIOS\tSTATE\tPIN\tSOURCE")
			for _, p := range list {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", p.Name, p.Version, len(p.Scenarios), p.State, shortPin(pinOf(p.LockedPack)), p.Source)
			}
			return tw.Flush()
		},
	}
	outputFlag(cmd, &output, "table", "json")
	return cmd
}

// pinOf is what pins an installed pack: the commit, the archive digest or
// (for directories) the tree hash.
func pinOf(p pack.LockedPack) string {
	if p.Resolved != "" {
		return p.Resolved
	}
	return "tree:" + p.Tree
}

func shortPin(s string) string {
	i := strings.LastIndex(s, ":")
	if i >= 0 && len(s)-i > 13 {
		return s[:i+13]
	}
	return s
}

// confirmPack shows a pack's summary and asks the learner to accept it.
// Off a terminal it refuses unless --yes was given.
func (a *app) confirmPack(ctx context.Context, s pack.Summary) (string, error) {
	s.Render(a.Out)
	if a.yes {
		fmt.Fprintln(a.Out, "Accepted with --yes.")
		return "--yes", nil
	}
	if !a.TTY {
		return "", fmt.Errorf("pack %s needs you to accept the summary above and this is not a terminal; re-run with --yes to accept it", s.Pack)
	}
	fmt.Fprintf(a.Out, "Install pack %s? [y/N] ", s.Pack)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(a.In).ReadString('\n')
		answer <- strings.ToLower(strings.TrimSpace(line))
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case line := <-answer:
		if line == "y" || line == "yes" {
			return "prompt", nil
		}
		return "", errors.New("you declined the pack")
	}
}

func completePackNames(a *app) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		list, err := a.packManager().List(context.Background())
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []string
		for _, p := range list {
			if strings.HasPrefix(p.Name, prefix) {
				out = append(out, p.Name+"\t"+p.Version)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
