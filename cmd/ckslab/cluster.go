package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/cluster/backend"
	"github.com/ckslab/ckslab/engine/cluster/existing"
	"github.com/ckslab/ckslab/engine/runner"
)

// backendOptions are what every verb resolves its backend with: with
// --backend auto, the running lab's backend (or a cluster of this name that
// already runs on one backend) wins over what auto would pick on this host.
// CKSLAB_KIND_NODE_IMAGE and CKSLAB_KIND_CNI configure the kind backend.
func (a *app) backendOptions() backend.Options {
	o := backend.Options{StateRoot: a.stateRoot(), Cluster: a.clusterName, Kind: backend.KindSettingsFromEnv(os.Getenv),
		Existing: existing.Options{Kubeconfig: a.kubeconfig, Context: a.kubeContext, AllowControlPlane: a.allowControlPlane,
			HelperImage: os.Getenv(existing.HelperImageEnv)}}
	if st, err := (&runner.Runner{StateDir: a.stateRoot(), ClusterName: a.clusterName}).LoadState(); err == nil {
		o.LabBackend = st.Backend
	}
	return o
}

// resolveBackend returns the backend chosen by --backend and says why on stderr.
func (a *app) resolveBackend(ctx context.Context) (cluster.Backend, error) {
	b, why, err := backend.Resolve(ctx, a.backendName, a.backendOptions())
	if err != nil {
		return nil, err
	}
	if c, ok := b.(interface{ Close(context.Context) error }); ok {
		a.closers = append(a.closers, c)
	}
	if a.backendName == "" || a.backendName == "auto" {
		fmt.Fprintf(a.ErrOut, "backend %s\n", why)
	}
	return b, nil
}

// textProgress prints provisioning steps as plain lines (non-TTY).
func (a *app) textProgress() cluster.ProgressFunc {
	started := map[string]time.Time{}
	return func(s cluster.Step) {
		switch {
		case s.Err != nil:
			fmt.Fprintf(a.ErrOut, "  ✘ %s: %v\n", s.Title, s.Err)
		case s.Done:
			d := ""
			if t, ok := started[s.ID]; ok {
				d = fmt.Sprintf(" (%.1fs)", time.Since(t).Seconds())
			}
			fmt.Fprintf(a.ErrOut, "  ✔ %s%s\n", s.Title, d)
			if s.Line != "" {
				fmt.Fprintf(a.ErrOut, "      %s\n", s.Line)
			}
		case s.Line != "":
			// step detail lines are noisy in plain output; keep the step titles
		default:
			started[s.ID] = time.Now()
			fmt.Fprintf(a.ErrOut, "  • %s ...\n", s.Title)
		}
	}
}

func newClusterCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Create, inspect and delete the lab cluster",
		// A mistyped subcommand must fail, not print help and exit 0.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var variant string
	up := &cobra.Command{
		Use:   "up",
		Short: "Create the cluster, or reuse a healthy one with that name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.resolveBackend(cmd.Context())
			if err != nil {
				return err
			}
			start := time.Now()
			c, err := b.Up(cmd.Context(), cluster.Spec{Name: a.clusterName, Variant: variant}, a.textProgress())
			if err != nil {
				return fmt.Errorf("cluster up (%s): %w", b.Name(), err)
			}
			fmt.Fprintf(a.Out, "cluster %s (%s) ready in %.1fs\ncapabilities: %s\nexport KUBECONFIG=%s\n",
				c.Name, c.Backend, time.Since(start).Seconds(), c.Capabilities, c.Kubeconfig)
			return nil
		},
	}
	up.Flags().StringVar(&variant, "variant", "", "kind config variant from kindconfigs/ (kind only)")
	down := &cobra.Command{
		Use:   "down",
		Short: "Delete the cluster and stop everything ckslab started for it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.resolveBackend(cmd.Context())
			if err != nil {
				return err
			}
			if b.Name() == existing.Name {
				// Not ckslab's cluster: it stays, so the running lab is
				// undone first (its objects and node-file backups).
				if err := a.resetLabBeforeDown(cmd.Context(), b); err != nil {
					return err
				}
			}
			// Down is idempotent (it also clears leftovers of a failed
			// Up); ask first only to say the right thing.
			_, serr := b.Status(cmd.Context(), a.clusterName)
			missing := errors.Is(serr, cluster.ErrNotFound)
			if err := b.Down(cmd.Context(), a.clusterName); err != nil {
				if errors.Is(err, cluster.ErrNotFound) {
					missing = true
				} else {
					return fmt.Errorf("cluster down (%s): %w", b.Name(), err)
				}
			}
			if missing {
				fmt.Fprintf(a.Out, "cluster %s (%s) does not exist\n", a.clusterName, b.Name())
				return nil
			}
			fmt.Fprintf(a.Out, "cluster %s (%s) deleted\n", a.clusterName, b.Name())
			return nil
		},
	}
	var output string
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster's components, with the last error of any that crash",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, "text", "json"); err != nil {
				return err
			}
			b, err := a.resolveBackend(cmd.Context())
			if err != nil {
				return err
			}
			st, err := b.Status(cmd.Context(), a.clusterName)
			if err != nil {
				if errors.Is(err, cluster.ErrNotFound) {
					return &exitError{code: 1, msg: fmt.Sprintf("cluster %s (%s) does not exist: ckslab cluster up creates it", a.clusterName, b.Name())}
				}
				return err
			}
			if output == "json" {
				return writeJSON(a.Out, st)
			}
			printStatus(a, st)
			if !st.Running {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	outputFlag(status, &output, "text", "json")
	cmd.AddCommand(up, down, status)
	return cmd
}

// resetLabBeforeDown undoes the lab running on cluster b, if any.
func (a *app) resetLabBeforeDown(ctx context.Context, b cluster.Backend) error {
	r, err := a.newRunner(ctx, runnerOptions{Catalog: true})
	if err != nil {
		return err
	}
	r.Backend = b
	if _, err := r.LoadState(); errors.Is(err, runner.ErrNoLab) {
		return nil
	}
	if err := r.Reset(ctx); err != nil && !errors.Is(err, cluster.ErrNotFound) {
		return fmt.Errorf("undo the running lab before cluster down: %w (ckslab reset, then cluster down again)", err)
	}
	return nil
}

func printStatus(a *app, st *cluster.Status) {
	state := "running"
	if !st.Running {
		state = "NOT running"
	}
	fmt.Fprintf(a.Out, "cluster %s (%s): %s\nkubeconfig: %s\n\n", st.Name, st.Backend, state, st.Kubeconfig)
	tw := newTable(a.Out)
	fmt.Fprintln(tw, "COMPONENT\tRUNNING\tREADY\tRESTARTS\tLAST ERROR")
	for _, c := range st.Components {
		fmt.Fprintf(tw, "%s\t%v\t%v\t%d\t%s\n", c.Name, c.Running, c.Ready, c.Restarts, oneLine(c.LastError))
	}
	_ = tw.Flush()
	for _, c := range st.Components {
		if c.LastError != "" && len(c.LogTail) > 0 {
			fmt.Fprintf(a.Out, "\n%s log (last %d lines):\n", c.Name, len(c.LogTail))
			for _, l := range c.LogTail {
				fmt.Fprintf(a.Out, "  %s\n", l)
			}
		}
	}
	for _, n := range st.Notes {
		fmt.Fprintf(a.Out, "\nnote: %s\n", n)
	}
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

func newSSHCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ssh [NODE [COMMAND...]]",
		Short: "Open a shell on a cluster node (default: the control-plane node)",
		Long: `Open an interactive shell on a node, as on the exam, or run one command there
(ckslab ssh controlplane cat /etc/kubernetes/manifests/kube-apiserver.yaml). On the local
backend the node sees its own /etc/kubernetes, /var/lib/etcd and /var/log at their usual
paths (a private mount namespace); on kind it is a shell inside the node container; on the
cluster backend (an existing cluster) a shell in the node's namespaces through a short-lived
privileged pod on that node (no SSH), deleted when the shell ends.
The lab shell of the terminal UI (!) makes plain "ssh controlplane" do the same.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.resolveBackend(cmd.Context())
			if err != nil {
				return err
			}
			c, err := b.Get(cmd.Context(), a.clusterName)
			if err != nil {
				return fmt.Errorf("no running cluster %s (%s): %w; start a lab first (ckslab start ID)", a.clusterName, b.Name(), err)
			}
			name := ""
			if len(args) >= 1 {
				name = args[0] // also with a command: `ckslab ssh NODE CMD...` runs CMD on NODE
			}
			n, err := c.Node(name)
			if err != nil {
				return err
			}
			if len(args) > 1 {
				// Like ssh: the words form one command line for the node's shell.
				out, err := n.Exec(cmd.Context(), a.In, "/bin/sh", "-c", strings.Join(args[1:], " "))
				_, _ = a.Out.Write(out)
				var ee *cluster.ExitError
				if errors.As(err, &ee) {
					return &exitError{code: ee.Code}
				}
				return err
			}
			sh, ok := n.(cluster.Shell)
			if !ok {
				return fmt.Errorf("node %s offers no interactive shell on the %s backend", n.Name(), b.Name())
			}
			env := []string{"KUBECONFIG=" + c.Kubeconfig}
			sc, err := sh.ShellCommand(cmd.Context(), env)
			if err != nil {
				return err
			}
			sc.SetIO(a.In, a.Out, a.ErrOut)
			return sc.Run()
		},
	}
}
