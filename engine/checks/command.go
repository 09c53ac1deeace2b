package checks

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
)

type command struct {
	spec  *v1alpha1.CommandCheck
	match *regexp.Regexp
}

func newCommand(c *v1alpha1.CommandCheck) (impl, error) {
	if len(c.Command) == 0 {
		return nil, fmt.Errorf("command is empty")
	}
	cc := &command{spec: c}
	if c.Matches != "" {
		re, err := regexp.Compile(c.Matches)
		if err != nil {
			return nil, fmt.Errorf("matches: %w", err)
		}
		cc.match = re
	}
	return cc, nil
}

// CommandTimeout bounds a command check.
const CommandTimeout = 30 * time.Second

func (c *command) run(ctx context.Context, env *Env) outcome {
	if err := cluster.CheckHostExec(env.Cluster, env.Trusted, env.AllowHostExec); err != nil {
		return skipped(err.Error())
	}
	node, o := nodeOf(env, c.spec.Node)
	if o != nil {
		return *o
	}
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	line := strings.Join(c.spec.Command, " ")
	out, err := node.Exec(ctx, nil, c.spec.Command...)
	code := 0
	var ee *cluster.ExitError
	switch {
	case errors.As(err, &ee):
		code, out = ee.Code, ee.Output
	case ctx.Err() != nil:
		return errored("%s on %s did not finish within %s", line, node.Name(), CommandTimeout)
	case err != nil:
		return errored("run %s on %s: %s", line, node.Name(), sentence(err.Error()))
	}
	want := 0
	if c.spec.ExitCode != nil {
		want = *c.spec.ExitCode
	}
	tail := truncate(strings.TrimSpace(string(out)), 300)
	if code != want {
		return failed(fmt.Sprintf("%s exited %d, expected %d", line, code, want), "output: "+tail)
	}
	if c.match != nil && !c.match.Match(out) {
		return failed(fmt.Sprintf("the output of %s does not match %s", line, c.spec.Matches), "output: "+tail, "expected: "+c.spec.Matches)
	}
	return passed(fmt.Sprintf("%s exited %d as expected", line, code), "output: "+tail)
}
