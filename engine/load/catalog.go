package load

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

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

// Catalog is the set of scenarios a learner can start.
type Catalog struct {
	list []*Scenario
	byID map[string]*Scenario
}

// NewCatalog loads every scenario of every source in order. Invalid
// scenarios are left out and reported; the rest still load, so one broken
// file in an extra directory does not hide the built-in catalog.
func NewCatalog(sources ...Source) (*Catalog, Problems) {
	c := &Catalog{byID: map[string]*Scenario{}}
	var all Problems
	for _, src := range sources {
		files, err := findScenarioFiles(src.FS)
		if err != nil {
			all = append(all, Problem{File: src.Display, Message: fmt.Sprintf("cannot list scenarios: %v", err)})
			continue
		}
		for _, f := range files {
			display := f
			if src.Display != "" {
				display = filepath.Join(src.Display, filepath.FromSlash(f))
			}
			s, ps := LoadFile(src.FS, f, display, src.Kind+":"+src.Name, src.Trusted)
			if len(ps) > 0 {
				all = append(all, ps...)
				continue
			}
			if src.Kind == "builtin" {
				s.Source = "builtin"
			}
			if prev, dup := c.byID[s.ID]; dup {
				if src.Kind == "pack" {
					s.ID = src.Name + "/" + s.ID
				}
				if _, dup2 := c.byID[s.ID]; dup2 || src.Kind != "pack" {
					all = append(all, Problem{File: display, Line: 1, Column: 1, Field: "metadata.name", Message: fmt.Sprintf("scenario id %q is already defined by %s", s.Metadata.Name, prev.File)})
					continue
				}
			}
			c.byID[s.ID] = s
			c.list = append(c.list, s)
		}
	}
	sort.SliceStable(c.list, func(i, j int) bool {
		a, b := c.list[i], c.list[j]
		if da, db := domainIndex(a.Spec.Domain), domainIndex(b.Spec.Domain); da != db {
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

// All returns every scenario in curriculum order.
func (c *Catalog) All() []*Scenario { return c.list }

// Get returns a scenario by id.
func (c *Catalog) Get(id string) (*Scenario, error) {
	if s, ok := c.byID[id]; ok {
		return s, nil
	}
	var close []string
	for _, s := range c.list {
		if strings.Contains(s.ID, id) || levenshtein(s.ID, id) <= 2 {
			close = append(close, s.ID)
		}
	}
	if len(close) > 0 {
		return nil, fmt.Errorf("no scenario %q; did you mean %s? (ckslab list shows all)", id, strings.Join(close, ", "))
	}
	return nil, fmt.Errorf("no scenario %q (ckslab list shows all)", id)
}

// ByDomain filters by domain.
func (c *Catalog) ByDomain(d v1alpha1.Domain) []*Scenario {
	var out []*Scenario
	for _, s := range c.list {
		if s.Spec.Domain == d {
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
