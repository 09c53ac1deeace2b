package kind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/ckslab/ckslab/engine/cluster"
)

// Runner runs one host command and returns its combined output. Every
// external effect of this package except kind's own provisioning goes through
// it, so tests can record and assert the exact commands.
type Runner interface {
	Run(ctx context.Context, stdin io.Reader, name string, args ...string) ([]byte, error)
}

// OSRunner runs commands with os/exec. A command that ran and exited non-zero
// returns *cluster.ExitError; one that could not start returns a wrapped error.
type OSRunner struct{}

// Run implements Runner.
func (OSRunner) Run(ctx context.Context, stdin io.Reader, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err == nil {
		return out.Bytes(), nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return out.Bytes(), &cluster.ExitError{Code: ee.ExitCode(), Output: out.Bytes()}
	}
	if ctx.Err() != nil {
		return out.Bytes(), fmt.Errorf("run %s: %w", name, ctx.Err())
	}
	return out.Bytes(), fmt.Errorf("run %s: %w", name, err)
}

// commandLine renders argv for messages.
func commandLine(name string, args ...string) string {
	return strings.Join(append([]string{name}, args...), " ")
}

// execCmd adapts *exec.Cmd to cluster.Cmd.
type execCmd struct{ cmd *exec.Cmd }

func (c *execCmd) Run() error { return c.cmd.Run() }

func (c *execCmd) SetIO(stdin io.Reader, stdout, stderr io.Writer) {
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = stdin, stdout, stderr
}

// Args returns the argv the shell will run (for callers that print it and for tests).
func (c *execCmd) Args() []string { return c.cmd.Args }
