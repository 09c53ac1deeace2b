package exam

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/curriculum"
	"github.com/ckslab/ckslab/engine/load"
)

// MockTasks is how many tasks a mock exam has (the real exam has 15-20).
const MockTasks = 16

// plannedMinutes is the budget assumed for a planned task's weight until
// its scenario exists.
const plannedMinutes = 10

// Mock is a curated mock exam, scenarios/exams/<name>.yaml.
type Mock struct {
	// Name is the file's base name: mock-1 is `ckslab exam --mock 1`.
	Name    string     `yaml:"name"`
	Title   string     `yaml:"title"`
	Minutes int        `yaml:"minutes"`
	Tasks   []MockTask `yaml:"tasks"`
	// File is where the definition was read from (for messages).
	File string `yaml:"-"`
	// lines maps a field path (tasks[3].scenario) to its line:column.
	pos map[string][2]int
}

// MockTask is one task of a mock exam.
type MockTask struct {
	// Scenario is the id of a catalog scenario.
	Scenario string `yaml:"scenario"`
	// Planned marks a slot for a scenario not in the catalog yet: it is
	// shown as not available, and is not scored, until the scenario exists.
	Planned bool `yaml:"planned,omitempty"`
	// Domain is required for a planned task (the domain it will cover)
	// and, when set on another, must be the scenario's.
	Domain v1alpha1.Domain `yaml:"domain,omitempty"`
}

// ParseMock decodes one mock exam definition strictly (unknown fields are
// errors, with their line).
func ParseMock(file string, data []byte) (*Mock, error) {
	var m Mock
	if err := yaml.UnmarshalWithOptions(data, &m, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %s", file, yaml.FormatError(err, false, false))
	}
	m.File = file
	m.pos = map[string][2]int{}
	if f, err := parser.ParseBytes(data, 0); err == nil {
		for i := range m.Tasks {
			for _, field := range []string{"scenario", "domain"} {
				key := fmt.Sprintf("tasks[%d].%s", i, field)
				if p, err := yaml.PathString("$." + key); err == nil {
					if n, err := p.FilterFile(f); err == nil && n != nil {
						t := n.GetToken()
						m.pos[key] = [2]int{t.Position.Line, t.Position.Column}
					}
				}
			}
		}
	}
	return &m, nil
}

// LoadMocks reads every *.yaml of fsys as a mock exam, sorted by name.
func LoadMocks(fsys fs.FS) ([]*Mock, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*Mock
	var errs []error
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m, err := ParseMock(path.Join("scenarios/exams", n), b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, m)
	}
	return out, errors.Join(errs...)
}

// FindMock returns mock exam n (1 for mock-1).
func FindMock(mocks []*Mock, n int) (*Mock, error) {
	want := fmt.Sprintf("mock-%d", n)
	var names []string
	for _, m := range mocks {
		if m.Name == want {
			return m, nil
		}
		names = append(names, strings.TrimPrefix(m.Name, "mock-"))
	}
	return nil, fmt.Errorf("no mock exam %d; there are: %s", n, strings.Join(names, ", "))
}

func (m *Mock) problem(field, format string, args ...any) load.Problem {
	p := load.Problem{File: m.File, Field: field, Message: fmt.Sprintf(format, args...)}
	if pos, ok := m.pos[field]; ok {
		p.Line, p.Column = pos[0], pos[1]
	} else {
		p.Line, p.Column = 1, 1
	}
	return p
}

// taskDomain is the domain a task covers: its scenario's, or the planned
// domain.
func taskDomain(t MockTask, cat *load.Catalog) v1alpha1.Domain {
	if s, err := cat.Get(t.Scenario); err == nil {
		return s.Spec.Domain
	}
	return t.Domain
}

// LintMocks checks mock exam definitions against the catalog: the name
// matches the file, MockTasks tasks, known scenario ids (or planned slots
// with a domain), no scenario twice in one mock nor in two mocks, and
// every curriculum domain covered.
func LintMocks(mocks []*Mock, cat *load.Catalog) load.Problems {
	var ps load.Problems
	owner := map[string]string{} // scenario id -> "mock-1 tasks[3]"
	for _, m := range mocks {
		if want := strings.TrimSuffix(path.Base(m.File), ".yaml"); m.Name != want {
			ps = append(ps, m.problem("name", "%q must be the file's name, %q", m.Name, want))
		}
		if !strings.HasPrefix(m.Name, "mock-") {
			ps = append(ps, m.problem("name", "%q must be mock-<number> (ckslab exam --mock <number>)", m.Name))
		}
		if strings.TrimSpace(m.Title) == "" {
			ps = append(ps, m.problem("title", "is required"))
		}
		if m.Minutes < 1 || m.Minutes > 240 {
			ps = append(ps, m.problem("minutes", "must be 1 to 240, got %d", m.Minutes))
		}
		if len(m.Tasks) != MockTasks {
			ps = append(ps, m.problem("tasks", "has %d tasks; a mock exam has %d (mark slots for scenarios still to write with planned: true)", len(m.Tasks), MockTasks))
		}
		covered := map[v1alpha1.Domain]bool{}
		for i, t := range m.Tasks {
			field := fmt.Sprintf("tasks[%d].scenario", i)
			s, err := cat.Get(t.Scenario)
			switch {
			case t.Scenario == "":
				ps = append(ps, m.problem(field, "is required"))
				continue
			case err != nil && !t.Planned:
				ps = append(ps, m.problem(field, "no scenario %q in the catalog (a slot for one still to write needs planned: true and its domain)", t.Scenario))
			case err != nil && t.Domain == "":
				ps = append(ps, m.problem(fmt.Sprintf("tasks[%d].domain", i), "a planned task names the domain it will cover"))
			case err == nil && t.Domain != "" && t.Domain != s.Spec.Domain:
				ps = append(ps, m.problem(fmt.Sprintf("tasks[%d].domain", i), "%s is a %s scenario, not %s", t.Scenario, s.Spec.Domain, t.Domain))
			}
			if t.Domain != "" && curriculum.Weight(t.Domain) == 0 {
				ps = append(ps, m.problem(fmt.Sprintf("tasks[%d].domain", i), "%q is not a CKS domain", t.Domain))
			}
			where := fmt.Sprintf("%s %s", m.Name, field)
			if prev, ok := owner[t.Scenario]; ok {
				ps = append(ps, m.problem(field, "%s is already a task of %s: a scenario belongs to one mock exam", t.Scenario, prev))
			} else {
				owner[t.Scenario] = where
			}
			covered[taskDomain(t, cat)] = true
		}
		for _, d := range curriculum.Domains() {
			if !covered[d.ID] {
				ps = append(ps, m.problem("tasks", "no task of domain %s (%d%% of the exam)", d.ID, d.Weight))
			}
		}
	}
	ps.Sort()
	return ps
}

// PlanMock plans mock exam m: its tasks in the order written, weighted as
// the curriculum weighs their domains (CurriculumWeights over all its
// tasks). A task whose scenario is not in the catalog yet or that the
// backend cannot run honestly (supports) is not seeded: it goes to
// Unavailable with its reason and its weight is left out of the maximum,
// so the percentage is over what this backend can judge.
func PlanMock(m *Mock, cat *load.Catalog, supports func(*load.Scenario) error) (Plan, error) {
	domains := make([]v1alpha1.Domain, len(m.Tasks))
	minutes := make([]int, len(m.Tasks))
	found := make([]*load.Scenario, len(m.Tasks))
	for i, t := range m.Tasks {
		domains[i], minutes[i] = t.Domain, plannedMinutes
		if s, err := cat.Get(t.Scenario); err == nil {
			found[i], domains[i], minutes[i] = s, s.Spec.Domain, s.Spec.Minutes
		}
	}
	weights := CurriculumWeights(domains, minutes)
	p := Plan{Minutes: m.Minutes, Mock: m.Name}
	for i, t := range m.Tasks {
		s := found[i]
		switch {
		case s == nil:
			p.Unavailable = append(p.Unavailable, Unavailable{ID: t.Scenario, Domain: domains[i], Weight: weights[i], Reason: "not in the catalog yet (a planned task)"})
		case supports(s) != nil:
			p.Unavailable = append(p.Unavailable, Unavailable{ID: t.Scenario, Domain: domains[i], Weight: weights[i], Reason: supports(s).Error()})
		default:
			p.Scenarios = append(p.Scenarios, s)
			p.Weights = append(p.Weights, weights[i])
		}
	}
	if len(p.Scenarios) == 0 {
		return p, fmt.Errorf("no task of %s can run on this backend", m.Name)
	}
	return p, nil
}
