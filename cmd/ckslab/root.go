package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ckslab/ckslab/engine/cluster/backend"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/scenarios"
)

// streams are the command's IO, injected so commands are testable.
type streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// TTY is true when In and Out are terminals (the TUI may be used).
	TTY bool
}

func newStreams() streams {
	return streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		TTY: term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))}
}

// exitError carries a specific exit code (e.g. check: 1 when objectives fail).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// app is what every command shares: streams, global flags and lazily built
// dependencies. No package globals: tests build their own app.
type app struct {
	streams
	// flags
	scenarioDirs []string
	// packDirs are pack directories named on the command line (validate
	// PATH): loaded as untrusted packs, ids namespaced on collision.
	packDirs    []string
	backendName string
	clusterName string
	stateDir    string
	noColor     bool
	yes         bool
	// cluster backend (an existing cluster)
	kubeconfig        string
	kubeContext       string
	allowControlPlane bool
	// closers are backends holding resources on a cluster for this
	// process (the cluster backend's node-access pods): closed when the
	// verb ends, interrupted or not.
	closers []interface{ Close(context.Context) error }

	catalogOnce sync.Once
	catalog     *load.Catalog
	catalogErr  error
	catalogWarn load.Problems
	// catalogQuiet: the caller reports catalogWarn itself (lint).
	catalogQuiet bool
	// catalogStrict: parse and lint every scenario now (lint, validate)
	// instead of serving summaries from the catalog index and parsing a
	// scenario when a verb asks for it.
	catalogStrict bool
}

// loadCatalog builds the catalog from the built-in scenarios, extra
// directories (--scenarios / CKSLAB_SCENARIOS) and installed packs.
func (a *app) loadCatalog() (*load.Catalog, error) {
	return a.loadCatalogFor("")
}

// loadCatalogFor is loadCatalog for a verb about scenario id: through the
// index, only the sources up to the one defining id are scanned (see
// load.OpenCatalogFor), so the verb's cost does not grow with the packs and
// directories after it; the rest is scanned if the catalog is listed.
func (a *app) loadCatalogFor(id string) (*load.Catalog, error) {
	a.catalogOnce.Do(func() {
		sources := []load.Source{{Name: "builtin", Kind: "builtin", FS: scenarios.FS, Display: "builtin:scenarios", Trusted: true}}
		for _, d := range a.scenarioDirs {
			sources = append(sources, load.DirSource(d))
		}
		for _, d := range a.packDirs {
			src := load.DirSource(d)
			src.Kind, src.Trusted = "pack", false
			src.Name = filepath.Base(filepath.Clean(d))
			if abs, err := filepath.Abs(d); err == nil {
				src.Name = filepath.Base(abs)
			}
			sources = append(sources, src)
		}
		packSources, err := a.packSources()
		if err != nil {
			fmt.Fprintf(a.ErrOut, "warning: %v\n", err)
		}
		sources = append(sources, packSources...)
		if a.catalogStrict {
			a.catalog, a.catalogWarn = load.NewCatalog(sources...)
		} else if id != "" {
			a.catalog, a.catalogWarn = load.OpenCatalogFor(a.catalogIndexDir(), id, sources...)
		} else {
			a.catalog, a.catalogWarn = load.OpenCatalog(a.catalogIndexDir(), sources...)
		}
		for _, p := range a.catalogWarn {
			if a.catalogQuiet {
				break
			}
			fmt.Fprintf(a.ErrOut, "warning: skipped invalid scenario: %s\n", p)
		}
	})
	return a.catalog, a.catalogErr
}

func (a *app) scenario(id string) (*load.Scenario, error) {
	c, err := a.loadCatalogFor(id)
	if err != nil {
		return nil, err
	}
	return c.Get(id)
}

// catalogIndexDir holds the catalog index (one file per source), with the
// packs under the state root, never in a scenario directory.
func (a *app) catalogIndexDir() string {
	return filepath.Join(a.stateRoot(), "index")
}

// stateRoot is where ckslab keeps per-user state (progress, current lab, packs).
func (a *app) stateRoot() string {
	if a.stateDir != "" {
		return a.stateDir
	}
	if d := os.Getenv("CKSLAB_STATE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ckslab")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "ckslab-state")
	}
	return filepath.Join(home, ".local", "state", "ckslab")
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "ckslab",
		Short: "Practise for the CKS exam on a real cluster",
		Long: `ckslab is a terminal training lab for the Certified Kubernetes Security Specialist exam.

It provisions a cluster (kind + Calico where Docker is available, otherwise a local
control plane of real processes), seeds a misconfiguration, shows you the task and
checks your fix with automated objectives that explain what is still wrong.`,
		Example: `  ckslab list                 # the catalog, by CKS domain
  ckslab start psp-01         # provision, seed and open the lab
  ckslab check                # judge your fix (exit 0 when every objective passes)
  ckslab lint scenarios/      # check scenario files`,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.TTY {
				return runCatalogTUI(cmd.Context(), a)
			}
			return cmd.Help()
		},
	}
	root.SetIn(a.In)
	root.SetOut(a.Out)
	root.SetErr(a.ErrOut)
	pf := root.PersistentFlags()
	pf.StringArrayVar(&a.scenarioDirs, "scenarios", splitList(os.Getenv("CKSLAB_SCENARIOS")), "extra scenario directory (repeatable; env CKSLAB_SCENARIOS, ':'-separated)")
	pf.StringVar(&a.backendName, "backend", envOr("CKSLAB_BACKEND", "auto"), "cluster backend: auto, kind, local or cluster (an existing cluster: --kubeconfig) (env CKSLAB_BACKEND)")
	pf.StringVar(&a.clusterName, "cluster", envOr("CKSLAB_CLUSTER", "ckslab"), "cluster name (env CKSLAB_CLUSTER)")
	pf.StringVar(&a.stateDir, "state-dir", "", "directory for ckslab state (default $XDG_STATE_HOME/ckslab; env CKSLAB_STATE_DIR)")
	pf.StringVar(&a.kubeconfig, "kubeconfig", os.Getenv("CKSLAB_KUBECONFIG"), "cluster backend: your kubeconfig, only read (default $KUBECONFIG or ~/.kube/config; env CKSLAB_KUBECONFIG)")
	pf.StringVar(&a.kubeContext, "context", os.Getenv("CKSLAB_CONTEXT"), "cluster backend: the kubeconfig context (default its current context; env CKSLAB_CONTEXT)")
	pf.BoolVar(&a.allowControlPlane, "allow-control-plane", false, "cluster backend: let control-plane scenarios edit this cluster's static pod manifests (recorded per cluster until cluster down)")
	pf.BoolVar(&a.noColor, "no-color", os.Getenv("NO_COLOR") != "", "disable colour (env NO_COLOR)")
	_ = root.RegisterFlagCompletionFunc("backend", fixedCompletion(backend.Names()...))

	root.AddGroup(&cobra.Group{ID: "lab", Title: "Labs:"}, &cobra.Group{ID: "catalog", Title: "Catalog and authoring:"}, &cobra.Group{ID: "cluster", Title: "Clusters:"})
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("lab", newStartCmd(a), newCheckCmd(a), newHintCmd(a), newSolutionCmd(a), newResetCmd(a), newEnvCmd(a), newExamCmd(a), newProgressCmd(a))
	add("catalog", newListCmd(a), newDescribeCmd(a), newLintCmd(a), newValidateCmd(a), newPackCmd(a), newSchemaCmd(a))
	add("cluster", newClusterCmd(a), newSSHCmd(a), newDoctorCmd(a))
	root.AddCommand(newVersionCmd(a), newSuperviseCmd())
	return root
}

func run(ctx context.Context, args []string, s streams) int {
	a := &app{streams: s}
	root := newRootCmd(a)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	a.closeBackends()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(a.ErrOut, ee.msg)
		}
		return ee.code
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(a.ErrOut, "interrupted")
		return 130
	}
	fmt.Fprintf(a.ErrOut, "error: %v\n", err)
	return 1
}

// closeBackends releases what backends hold on clusters for this process,
// with a fresh context: after Ctrl-C the verb's own context is cancelled.
func (a *app) closeBackends() {
	for _, c := range a.closers {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := c.Close(ctx); err != nil {
			fmt.Fprintf(a.ErrOut, "warning: %v\n", err)
		}
		cancel()
	}
	a.closers = nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, string(os.PathListSeparator)) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func fixedCompletion(vals ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return vals, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeScenarioIDs completes scenario ids from the catalog.
func completeScenarioIDs(a *app) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		c, err := a.loadCatalog()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []string
		for _, s := range c.Summaries() {
			if strings.HasPrefix(s.ID, prefix) {
				out = append(out, s.ID+"\t"+s.Title)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
