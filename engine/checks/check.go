// Package checks judges a learner's work: one file per check type, each
// implementing Run(ctx, env) and returning a Result value. A check that
// cannot be evaluated reports Error with a one-sentence reason; it never
// panics and never passes.
package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/celx"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/kube"
)

// Env is what checks run against.
type Env struct {
	Cluster *cluster.Cluster
	Kube    *kube.Client
	// Trusted is false for pack scenarios: their command checks never run
	// on a node that is the user's own machine unless AllowHostExec.
	Trusted       bool
	AllowHostExec bool
	// Since is when the lab attempt began: evidence older than that (audit
	// events a previous attempt left in a log that outlives reset) does
	// not count. Zero means everything counts.
	Since time.Time
}

// Check is one compiled objective.
type Check interface {
	Run(ctx context.Context, env *Env) Result
}

// impl is what each check type provides: the outcome without bookkeeping.
type impl interface {
	run(ctx context.Context, env *Env) outcome
}

type outcome struct {
	status   Status
	msg      string
	evidence []string
	// settled: the cluster is not converging towards another answer (the
	// learner's file itself says so), so a check with a timeout stops
	// polling at once instead of waiting for a change that cannot come.
	settled bool
}

func passed(msg string, ev ...string) outcome { return outcome{status: Pass, msg: msg, evidence: ev} }
func failed(msg string, ev ...string) outcome { return outcome{status: Fail, msg: msg, evidence: ev} }

// settledFail is failed for a state only the learner can change.
func settledFail(msg string, ev ...string) outcome {
	o := failed(msg, ev...)
	o.settled = true
	return o
}
func errored(format string, args ...any) outcome {
	return outcome{status: Error, msg: fmt.Sprintf(format, args...)}
}
func skipped(msg string) outcome { return outcome{status: Skip, msg: msg} }

// fromErr turns an I/O error into an Error outcome with one clear sentence.
func fromErr(env *Env, what string, err error) outcome {
	host := ""
	if env.Kube != nil {
		host = env.Kube.Config.Host
	}
	err = kube.Explain(host, err)
	if what == "" {
		return errored("%s", sentence(err.Error()))
	}
	return errored("%s: %s", what, sentence(err.Error()))
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// compiled is a Check with its spec metadata and polling.
type compiled struct {
	spec    v1alpha1.Check
	impl    impl
	timeout time.Duration
}

// PollInterval is how often a check with a timeout re-evaluates.
const PollInterval = 500 * time.Millisecond

// Run evaluates the check, polling until it passes or its timeout elapses.
func (c *compiled) Run(ctx context.Context, env *Env) Result { return c.run(ctx, env, c.timeout) }

func (c *compiled) run(ctx context.Context, env *Env, timeout time.Duration) Result {
	start := time.Now()
	r := Result{ID: c.spec.ID, Objective: c.spec.Objective, Weight: c.spec.Weight, Guard: c.spec.Guard, Protects: c.spec.Protects}
	if r.Weight <= 0 {
		r.Weight = 1
	}
	if r.Guard {
		r.Weight = 0
	}
	deadline := start.Add(timeout)
	var o outcome
	for {
		if why := notJudgedHere(env, c.spec); why != "" {
			o = skipped(why)
			break
		}
		o = safeRun(ctx, env, c.impl)
		if o.status == Pass || o.status == Skip || o.settled || timeout == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			o = errored("interrupted while waiting for the objective to converge; last result: %s", o.msg)
		case <-time.After(PollInterval):
			continue
		}
		break
	}
	if timeout > 0 && o.status != Pass && o.status != Skip && !o.settled {
		o.msg = fmt.Sprintf("%s (still so after waiting %s)", o.msg, timeout)
	}
	r.Status, r.Message, r.Evidence = o.status, o.msg, o.evidence
	r.Duration = time.Since(start)
	return r
}

func safeRun(ctx context.Context, env *Env, i impl) (o outcome) {
	defer func() {
		if p := recover(); p != nil {
			o = errored("internal error while checking: %v (please report it)", p)
		}
	}()
	if err := ctx.Err(); err != nil {
		return errored("check cancelled: %v", err)
	}
	return i.run(ctx, env)
}

// broken is a check that could not be compiled: it always errors.
type broken struct{ msg string }

func (b broken) run(context.Context, *Env) outcome { return errored("%s", b.msg) }

// Suite is a scenario's checks, compiled once.
type Suite struct {
	checks []*compiled
	// Concurrency bounds parallel checks (default 8).
	Concurrency int
	// NoPolling evaluates each check once, ignoring timeouts (validate's
	// seeded state: nothing is converging, waiting would only cost time);
	// guards still poll, since they must pass there.
	NoPolling bool
}

// compiler holds the CEL environments shared by a suite.
type compiler struct {
	object *celx.Env
	event  *celx.Env
}

func (c *compiler) expr(e string, t *cel.Type) (cel.Program, error) {
	return c.object.Compile(e, t)
}

// Compile builds every check of a scenario. CEL is compiled here, once; a
// check whose expression does not compile becomes an Error result rather
// than failing the whole suite.
func Compile(specs []v1alpha1.Check) (*Suite, error) {
	obj, err := celx.NewEnv(celx.ObjectVars...)
	if err != nil {
		return nil, err
	}
	ev, err := celx.NewEnv(celx.EventVars...)
	if err != nil {
		return nil, err
	}
	cc := &compiler{object: obj, event: ev}
	s := &Suite{Concurrency: 8}
	for _, sp := range specs {
		c := &compiled{spec: sp}
		if sp.Timeout != "" {
			d, err := time.ParseDuration(sp.Timeout)
			if err != nil {
				c.impl = broken{fmt.Sprintf("check %s: timeout %q is not a duration", sp.ID, sp.Timeout)}
			}
			c.timeout = d
		}
		if c.impl == nil {
			im, err := build(cc, sp)
			if err != nil {
				im = broken{fmt.Sprintf("check %s cannot be evaluated: %v", sp.ID, err)}
			}
			c.impl = im
		}
		s.checks = append(s.checks, c)
	}
	return s, nil
}

func build(cc *compiler, sp v1alpha1.Check) (impl, error) {
	switch {
	case sp.Assert != nil:
		return newAssert(cc, sp.Assert)
	case sp.Absent != nil:
		return newAbsent(cc, sp.Absent)
	case sp.CanI != nil:
		return newCanI(sp.CanI)
	case sp.Admission != nil:
		return newAdmission(sp.Admission)
	case sp.NodeFile != nil:
		return newNodeFile(cc, sp.NodeFile)
	case sp.StaticPodFlag != nil:
		return newStaticPodFlag(sp.StaticPodFlag)
	case sp.AuditLog != nil:
		return newAuditLog(cc, sp.AuditLog)
	case sp.EtcdValue != nil:
		return etcdValue{sp.EtcdValue}, nil
	case sp.Rego != nil:
		return newRego(sp.Rego)
	case sp.Dockerfile != nil:
		return newDockerfile(sp.Dockerfile)
	case sp.Connectivity != nil:
		return connectivity{sp.Connectivity}, nil
	case sp.Command != nil:
		return newCommand(sp.Command)
	case sp.AnswerFile != nil:
		return newAnswerFile(sp.AnswerFile)
	case sp.Access != nil:
		return newAccess(sp.Access)
	case sp.NetpolEffect != nil:
		return newNetpolEffect(sp.NetpolEffect)
	case sp.EndpointProbe != nil:
		return newEndpointProbe(sp.EndpointProbe)
	case sp.PodExec != nil:
		return newPodExec(sp.PodExec)
	case sp.RuntimeHandler != nil:
		return runtimeHandler{sp.RuntimeHandler}, nil
	}
	return nil, errors.New("no check type is set")
}

// Len is the number of checks.
func (s *Suite) Len() int { return len(s.checks) }

// Checks returns the compiled checks in spec order.
func (s *Suite) Checks() []Check {
	out := make([]Check, len(s.checks))
	for i, c := range s.checks {
		out[i] = c
	}
	return out
}

// Run evaluates every check concurrently (bounded) and returns results in
// spec order. onResult, if set, is called as each result arrives.
func (s *Suite) Run(ctx context.Context, env *Env, onResult func(int, Result)) []Result {
	out := make([]Result, len(s.checks))
	n := s.Concurrency
	if n <= 0 {
		n = 8
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, c := range s.checks {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, c *compiled) {
			defer wg.Done()
			defer func() { <-sem }()
			timeout := c.timeout
			if s.NoPolling && !c.spec.Guard {
				// A guard is expected to hold in the seeded state too:
				// polling it stops at its first pass.
				timeout = 0
			}
			r := c.run(ctx, env, timeout)
			out[i] = r
			if onResult != nil {
				mu.Lock()
				onResult(i, r)
				mu.Unlock()
			}
		}(i, c)
	}
	wg.Wait()
	return out
}

// nodeOf returns a node or an Error outcome.
func nodeOf(env *Env, name string) (cluster.Node, *outcome) {
	if env.Cluster == nil {
		o := errored("no cluster is running (ckslab start <id>)")
		return nil, &o
	}
	n, err := env.Cluster.Node(name)
	if err != nil {
		o := errored("%s", err.Error())
		return nil, &o
	}
	return n, nil
}
