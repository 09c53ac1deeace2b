package kind

import (
	"context"
	"io"
	"strings"
	"sync"

	"github.com/ckslab/ckslab/engine/cluster"
)

// call is one recorded command.
type call struct {
	argv  string
	stdin string
}

// fakeRunner records commands and answers with the first matching rule
// (a substring of the command line), or empty success.
type fakeRunner struct {
	mu    sync.Mutex
	calls []call
	rules []rule
}

type rule struct {
	contains string
	out      string
	code     int
}

func (f *fakeRunner) on(contains, out string, code int) *fakeRunner {
	f.rules = append(f.rules, rule{contains, out, code})
	return f
}

func (f *fakeRunner) Run(_ context.Context, stdin io.Reader, name string, args ...string) ([]byte, error) {
	line := commandLine(name, args...)
	c := call{argv: line}
	if stdin != nil {
		b, _ := io.ReadAll(stdin)
		c.stdin = string(b)
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	for _, r := range f.rules {
		if strings.Contains(line, r.contains) {
			if r.code != 0 {
				return []byte(r.out), &cluster.ExitError{Code: r.code, Output: []byte(r.out)}
			}
			return []byte(r.out), nil
		}
	}
	return nil, nil
}

func (f *fakeRunner) commands() []string {
	var out []string
	for _, c := range f.calls {
		out = append(out, c.argv)
	}
	return out
}

// nodeCalls are the recorded commands run in nodes (docker exec), in order.
func (f *fakeRunner) nodeCalls() []call {
	var out []call
	for _, c := range f.calls {
		if strings.HasPrefix(c.argv, "docker exec ") {
			out = append(out, c)
		}
	}
	return out
}

// fakeProvider is the Provider seam without a container engine. Its
// methods lock mu: an interrupted create deletes while Create still runs.
type fakeProvider struct {
	mu       sync.Mutex
	clusters map[string][]NodeInfo
	created  []CreateRequest
	deleted  []string
	exported []string
	// onCreate runs inside Create before the nodes exist (tests of interrupts).
	onCreate func()
}

func (p *fakeProvider) CLI() string { return "docker" }

func (p *fakeProvider) Create(_ context.Context, req CreateRequest) error {
	p.mu.Lock()
	p.created = append(p.created, req)
	p.mu.Unlock()
	if p.onCreate != nil {
		p.onCreate()
	}
	// Simulate kind's status lines through the real logger adapter.
	l := newStepLogger(req.Progress, 0)
	l.V(0).Infof(" • %s  ...\n", "Preparing nodes 📦 📦")
	l.V(0).Infof(" ✓ %s\n", "Preparing nodes 📦 📦")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clusters[req.Name] = []NodeInfo{{req.Name + "-worker", cluster.RoleWorker}, {req.Name + "-control-plane", cluster.RoleControlPlane}}
	return nil
}

func (p *fakeProvider) Delete(_ context.Context, name, _ string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deleted = append(p.deleted, name)
	delete(p.clusters, name)
	return nil
}

func (p *fakeProvider) List(context.Context) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for n := range p.clusters {
		out = append(out, n)
	}
	return out, nil
}

func (p *fakeProvider) Nodes(_ context.Context, name string) ([]NodeInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.clusters[name], nil
}

func (p *fakeProvider) ExportKubeconfig(_ context.Context, name, path string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exported = append(p.exported, name+"->"+path)
	return nil
}
