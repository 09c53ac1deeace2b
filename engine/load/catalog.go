package load

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

// ScenarioFile is the file name a scenario directory holds.
const ScenarioFile = "scenario.yaml"

// Source is a place scenarios come from.
type Source struct {
	// Name is "builtin", a directory path, or a pack name; it prefixes ids
	// that collide with an earlier source.
	Name string
	// Kind is "builtin", "dir" or "pack".
	Kind string
	FS   fs.FS
	// Display prefixes file names in messages (e.g. the directory path).
	Display string
	Trusted bool
}

// DirSource is a directory on disk; its scenarios are trusted (the user put them there).
func DirSource(dir string) Source {
	return Source{Name: dir, Kind: "dir", FS: os.DirFS(dir), Display: dir, Trusted: true}
}

// Summary is what the catalog knows of a scenario without parsing it: what
// list, completion and id lookup need. The index keeps it per file.
type Summary struct {
	// ID is what learners type (see Scenario.ID); Name is metadata.name.
	ID         string                `json:"id"`
	Name       string                `json:"name"`
	Title      string                `json:"title"`
	Domain     v1alpha1.Domain       `json:"domain"`
	Competency string                `json:"competency"`
	Difficulty string                `json:"difficulty"`
	Minutes    int                   `json:"minutes"`
	Requires   []v1alpha1.Capability `json:"requires,omitempty"`
	// Source is "builtin", "dir:<path>" or "pack:<name>"; File the
	// scenario file as shown in messages.
	Source  string `json:"source"`
	File    string `json:"file"`
	Trusted bool   `json:"trusted"`
}

func summaryOf(s *Scenario) Summary {
	return Summary{ID: s.ID, Name: s.Metadata.Name, Title: s.Spec.Title, Domain: s.Spec.Domain, Competency: s.Spec.Competency,
		Difficulty: s.Spec.Difficulty, Minutes: s.Spec.Minutes, Requires: s.Spec.Requires, Source: s.Source, File: s.File, Trusted: s.Trusted}
}

// Catalog is the set of scenarios a learner can start. A catalog from
// NewCatalog holds every scenario parsed; one from OpenCatalog holds the
// index's summaries and parses a scenario when it is first asked for.
type Catalog struct {
	list []*entry
	byID map[string]*entry
	mu   sync.Mutex // guards entry.loaded

	// pending is set on a catalog from OpenCatalogFor whose later sources
	// are not scanned yet; scanMu guards it, list and byID while they are.
	scanMu  sync.Mutex
	pending *pendingScan
}

// pendingScan is what OpenCatalogFor left for later: the sources after the
// one that answered its id.
type pendingScan struct {
	indexDir, loader string
	sources          []Source
	per              [][]candidate // candidates of sources[:len(per)]
}

type entry struct {
	Summary
	src    Source
	path   string    // scenario file inside src.FS
	loaded *Scenario // nil until Get (OpenCatalog)
}

// candidate is one scenario file of a source, valid (sum set) or not.
type candidate struct {
	sum      Summary
	path     string
	loaded   *Scenario
	problems Problems
}

// NewCatalog loads every scenario of every source in order, strictly (CEL
// compiled, referenced files read): the path lint and validate take.
// Invalid scenarios are left out and reported; the rest still load, so one
// broken file in an extra directory does not hide the built-in catalog.
func NewCatalog(sources ...Source) (*Catalog, Problems) {
	per := make([][]candidate, len(sources))
	for i, src := range sources {
		files, err := findScenarioFiles(src.FS)
		if err != nil {
			per[i] = []candidate{listProblem(src, err)}
			continue
		}
		for _, f := range files {
			per[i] = append(per[i], parseCandidate(src, f))
		}
	}
	return assemble(sources, per)
}

func listProblem(src Source, err error) candidate {
	return candidate{problems: Problems{{File: src.Display, Message: fmt.Sprintf("cannot list scenarios: %v", err)}}}
}

// sourceID is what Scenario.Source says for scenarios of src.
func sourceID(src Source) string {
	if src.Kind == "builtin" {
		return "builtin"
	}
	return src.Kind + ":" + src.Name
}

func displayName(src Source, f string) string {
	if src.Display != "" {
		return filepath.Join(src.Display, filepath.FromSlash(f))
	}
	return f
}

// parseCandidate loads one file strictly.
func parseCandidate(src Source, f string) candidate {
	s, ps := LoadFile(src.FS, f, displayName(src, f), src.Kind+":"+src.Name, src.Trusted)
	if len(ps) > 0 {
		return candidate{path: f, problems: ps}
	}
	s.Source = sourceID(src)
	return candidate{path: f, sum: summaryOf(s), loaded: s}
}

// assemble assigns ids across sources (a pack's id that collides with an
// earlier source becomes <pack>/<id>; any other collision is a problem)
// and sorts the catalog in curriculum order.
func assemble(sources []Source, per [][]candidate) (*Catalog, Problems) {
	c := &Catalog{byID: map[string]*entry{}}
	var all Problems
	for i, src := range sources {
		for _, cand := range per[i] {
			if len(cand.problems) > 0 {
				all = append(all, cand.problems...)
				continue
			}
			e := &entry{Summary: cand.sum, src: src, path: cand.path, loaded: cand.loaded}
			e.ID = e.Name
			if prev, dup := c.byID[e.ID]; dup {
				if src.Kind == "pack" {
					e.ID = src.Name + "/" + e.ID
				}
				if _, dup2 := c.byID[e.ID]; dup2 || src.Kind != "pack" {
					all = append(all, Problem{File: e.File, Line: 1, Column: 1, Field: "metadata.name", Message: fmt.Sprintf("scenario id %q is already defined by %s", e.Name, prev.File)})
					continue
				}
			}
			if e.loaded != nil {
				e.loaded.ID = e.ID
			}
			c.byID[e.ID] = e
			c.list = append(c.list, e)
		}
	}
	sort.SliceStable(c.list, func(i, j int) bool {
		a, b := c.list[i], c.list[j]
		if da, db := domainIndex(a.Domain), domainIndex(b.Domain); da != db {
			return da < db
		}
		return a.ID < b.ID
	})
	return c, all
}

func domainIndex(d v1alpha1.Domain) int {
	for i, k := range v1alpha1.Domains {
		if k == d {
			return i
		}
	}
	return len(v1alpha1.Domains)
}

func findScenarioFiles(fsys fs.FS) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if !d.IsDir() && d.Name() == ScenarioFile {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// Summaries returns every scenario's summary in curriculum order, parsing
// nothing.
func (c *Catalog) Summaries() []Summary {
	c.complete()
	out := make([]Summary, len(c.list))
	for i, e := range c.list {
		out[i] = e.Summary
	}
	return out
}

// Len is the number of scenarios.
func (c *Catalog) Len() int {
	c.complete()
	return len(c.list)
}

// All returns every scenario in curriculum order, parsing those not parsed
// yet. A scenario that no longer parses (edited since the index was
// checked) is left out; Get reports why.
func (c *Catalog) All() []*Scenario {
	c.complete()
	out := make([]*Scenario, 0, len(c.list))
	for _, e := range c.list {
		if s, err := c.load(e); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// Get returns a scenario by id, parsing only its file.
func (c *Catalog) Get(id string) (*Scenario, error) {
	c.scanMu.Lock()
	e, ok := c.byID[id]
	partial := c.pending != nil
	c.scanMu.Unlock()
	if !ok && partial {
		c.complete()
		e, ok = c.byID[id]
	}
	if ok {
		return c.load(e)
	}
	var near []string
	for _, e := range c.list {
		if strings.Contains(e.ID, id) || levenshtein(e.ID, id) <= 2 {
			near = append(near, e.ID)
		}
	}
	if len(near) > 0 {
		return nil, fmt.Errorf("no scenario %q; did you mean %s? (ckslab list shows all)", id, strings.Join(near, ", "))
	}
	return nil, fmt.Errorf("no scenario %q (ckslab list shows all)", id)
}

// load parses e's file on first use. The index linted this content
// (fingerprint unchanged), so CEL is not compiled again here; everything
// else (strict decode, Validate, referenced files) is, so what is served
// is always what is on disk now.
func (c *Catalog) load(e *entry) (*Scenario, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.loaded != nil {
		return e.loaded, nil
	}
	s, ps := loadFile(e.src.FS, e.path, e.File, e.src.Kind+":"+e.src.Name, e.src.Trusted, false)
	if len(ps) > 0 {
		return nil, fmt.Errorf("scenario %s changed on disk and no longer loads (ckslab lint %s):\n%w", e.ID, e.File, ps)
	}
	if s.Metadata.Name != e.Name {
		return nil, fmt.Errorf("scenario %s changed on disk while loading: %s now defines %q; run the command again", e.ID, e.File, s.Metadata.Name)
	}
	s.ID, s.Source = e.ID, sourceID(e.src)
	e.loaded = s
	return s, nil
}

// ByDomain filters by domain.
func (c *Catalog) ByDomain(d v1alpha1.Domain) []*Scenario {
	c.complete()
	var out []*Scenario
	for _, e := range c.list {
		if e.Domain != d {
			continue
		}
		if s, err := c.load(e); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// LintPaths lints files and directories on disk: a directory is searched
// for scenario.yaml files; a file is linted whatever its name. It returns
// the number of files linted and every problem.
func LintPaths(paths []string) (int, Problems) {
	var all Problems
	n := 0
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			all = append(all, Problem{File: p, Message: fmt.Sprintf("cannot read: %v", err)})
			continue
		}
		if !info.IsDir() {
			n++
			dir, base := filepath.Split(p)
			if dir == "" {
				dir = "."
			}
			_, ps := LoadFile(os.DirFS(dir), base, p, "dir:"+dir, true)
			all = append(all, ps...)
			continue
		}
		fsys := os.DirFS(p)
		files, err := findScenarioFiles(fsys)
		if err != nil {
			all = append(all, Problem{File: p, Message: fmt.Sprintf("cannot list scenarios: %v", err)})
			continue
		}
		if len(files) == 0 {
			all = append(all, Problem{File: p, Message: "no " + ScenarioFile + " files found"})
		}
		seen := map[string]string{}
		for _, f := range files {
			n++
			display := filepath.Join(p, filepath.FromSlash(f))
			s, ps := LoadFile(fsys, f, display, "dir:"+p, true)
			all = append(all, ps...)
			if s != nil {
				if prev, dup := seen[s.ID]; dup {
					all = append(all, Problem{File: display, Line: 1, Column: 1, Field: "metadata.name", Message: fmt.Sprintf("scenario id %q is already defined by %s", s.ID, prev)})
				}
				seen[s.ID] = display
				if want := path.Base(path.Dir(f)); want != "." && want != s.ID {
					all = append(all, Problem{File: display, Line: 1, Column: 1, Field: "metadata.name", Message: fmt.Sprintf("%q should match its directory name %q", s.ID, want)})
				}
			}
		}
	}
	return n, all
}
