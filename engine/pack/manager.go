package pack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/ckslab/ckslab/engine/load"
)

// Manager installs packs under <StateRoot>/packs/<name>/ and records them
// in <StateRoot>/packs.lock.json. The zero value is not usable; use New.
type Manager struct {
	StateRoot string
	// CkslabVersion is compared with a pack's minCkslabVersion.
	CkslabVersion string
	Limits        Limits
	// HTTPClient fetches archives; nil uses a client with a timeout.
	HTTPClient *http.Client
	// GitTimeout bounds each git command (default 5 minutes).
	GitTimeout time.Duration
	// Now is the clock for lock timestamps.
	Now func() time.Time
}

// New returns a Manager with default limits.
func New(stateRoot, ckslabVersion string) *Manager {
	return &Manager{StateRoot: stateRoot, CkslabVersion: ckslabVersion, Limits: DefaultLimits(), Now: time.Now}
}

func (m *Manager) limits() Limits {
	l, d := m.Limits, DefaultLimits()
	if l.TotalBytes <= 0 {
		l.TotalBytes = d.TotalBytes
	}
	if l.Files <= 0 {
		l.Files = d.Files
	}
	if l.ScenarioBytes <= 0 {
		l.ScenarioBytes = d.ScenarioBytes
	}
	return l
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// PacksDir holds one directory per installed pack.
func (m *Manager) PacksDir() string { return filepath.Join(m.StateRoot, "packs") }

// Dir is where an installed pack lives.
func (m *Manager) Dir(name string) string { return filepath.Join(m.PacksDir(), name) }

// ConfirmFunc shows a pack's summary to the learner and returns nil to
// go ahead, or an error (a refusal) to stop. by is recorded in the lock.
type ConfirmFunc func(ctx context.Context, s Summary) (by string, err error)

// AddOptions are the inputs of Add.
type AddOptions struct {
	Source string
	// Name overrides the manifest's name as the install name.
	Name string
	// Checksum pins an archive ("sha256:<hex>") or, for git and directory
	// sources, the content tree hash that pack list prints.
	Checksum string
	// Confirm is asked before anything is installed; nil refuses.
	Confirm ConfirmFunc
}

// UpdateOptions are the inputs of Update.
type UpdateOptions struct {
	// Checksum replaces the recorded pin (needed when a pinned archive changes).
	Checksum string
	// Confirm is asked when the summary differs from the acknowledged one.
	Confirm ConfirmFunc
}

// Result is what Add or Update did.
type Result struct {
	Pack LockedPack
	// Summary is the pack's summary as installed.
	Summary Summary
	// Changed is false when Update found nothing new.
	Changed bool
}

// staged is a fetched, verified and linted pack waiting to be moved into place.
type staged struct {
	root     string // the pack root inside the staging directory
	manifest *Manifest
	src      source
	fetched  fetched
	tree     string
	summary  Summary
}

// lock serialises pack changes between ckslab processes.
func (m *Manager) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(m.PacksDir(), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", m.PacksDir(), err)
	}
	fl := flock.New(filepath.Join(m.PacksDir(), ".lock"))
	ok, err := fl.TryLockContext(ctx, 100*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", m.PacksDir(), err)
	}
	if !ok {
		return nil, fmt.Errorf("another ckslab is changing packs; try again when it is done")
	}
	// Staging directories left by a process that died are garbage now.
	if entries, err := os.ReadDir(m.PacksDir()); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".staging-") {
				_ = os.RemoveAll(filepath.Join(m.PacksDir(), e.Name()))
			}
		}
	}
	return func() { _ = fl.Unlock() }, nil
}

// stage fetches src into a fresh directory under the packs directory and
// runs every check. The caller removes stagingDir.
func (m *Manager) stage(ctx context.Context, stagingDir string, src source, installName string) (*staged, error) {
	dl := filepath.Join(stagingDir, "fetch")
	f, err := m.fetch(ctx, src, dl)
	if err != nil {
		return nil, err
	}
	lim := m.limits()
	if _, err := verifyTree(ctx, dl, lim); err != nil {
		return nil, err
	}
	root := dl
	// Release tarballs wrap everything in one top directory (repo-v1.0/).
	if _, err := os.Stat(filepath.Join(root, ManifestFile)); errors.Is(err, fs.ErrNotExist) {
		if entries, err := os.ReadDir(root); err == nil && len(entries) == 1 && entries[0].IsDir() {
			if _, err := os.Stat(filepath.Join(root, entries[0].Name(), ManifestFile)); err == nil {
				root = filepath.Join(root, entries[0].Name())
			}
		}
	}
	tree, err := verifyTree(ctx, root, lim)
	if err != nil {
		return nil, err
	}
	if src.kind != KindArchive && src.checksum != "" && src.checksum != tree {
		return nil, refuse("the content tree hash is %s, not the pinned %s; check the pin with the pack author", tree, src.checksum)
	}
	man, scenarios, ps := lintPack(root, installName)
	if len(ps) > 0 {
		return nil, &Refusal{Reason: fmt.Sprintf("the pack has %d problem(s); fix them (ckslab lint shows the same report) and publish again", len(ps)), Report: ps}
	}
	if man.MinCkslabVersion != "" && !versionAtLeast(m.CkslabVersion, man.MinCkslabVersion) {
		return nil, refuse("pack %s needs ckslab %s or newer and this is %s; upgrade ckslab first", man.Name, man.MinCkslabVersion, m.CkslabVersion)
	}
	name := installName
	if name == "" {
		name = man.Name
	}
	return &staged{root: root, manifest: man, src: src, fetched: f, tree: tree, summary: summarize(man, name, scenarios)}, nil
}

// lintPack parses pack.yaml and lints every scenario the way ckslab lint
// does, plus the pack layout (<domain>/<id>/scenario.yaml). Problems name
// files as <name>/<path inside the pack>.
func lintPack(root, installName string) (*Manifest, []*load.Scenario, load.Problems) {
	display := installName
	var ps load.Problems
	data, err := os.ReadFile(filepath.Join(root, ManifestFile))
	var man *Manifest
	if err != nil {
		ps = append(ps, load.Problem{File: ManifestFile, Message: "missing: every pack needs a pack.yaml at its root (apiVersion, kind: Pack, name, version)"})
	} else {
		if display == "" {
			// Name problems after the pack when the manifest says who it is.
			if m, mps := ParseManifest(ManifestFile, data); len(mps) == 0 {
				display = m.Name
			}
		}
		if display == "" {
			display = "pack"
		}
		var mps load.Problems
		man, mps = ParseManifest(display+"/"+ManifestFile, data)
		ps = append(ps, mps...)
	}
	if display == "" {
		display = "pack"
	}
	rename := func(p load.Problem) load.Problem {
		if rel, err := filepath.Rel(root, p.File); err == nil && !strings.HasPrefix(rel, "..") {
			p.File = display + "/" + filepath.ToSlash(rel)
		} else if p.File == root {
			p.File = display
		}
		return p
	}
	_, lps := load.LintPaths([]string{root})
	for _, p := range lps {
		ps = append(ps, rename(p))
	}
	var scenarios []*load.Scenario
	fsys := os.DirFS(root)
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p != "." && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if d.IsDir() || d.Name() != load.ScenarioFile {
			return nil
		}
		file := display + "/" + p
		parts := strings.Split(p, "/")
		if len(parts) != 3 {
			ps = append(ps, load.Problem{File: file, Line: 1, Column: 1, Message: "scenarios must live at <domain>/<id>/scenario.yaml inside the pack, like the built-in catalog"})
			return nil
		}
		s, sps := load.LoadFile(fsys, p, file, "pack:"+display, false)
		if len(sps) > 0 || s == nil {
			return nil // already in the LintPaths report
		}
		if string(s.Spec.Domain) != parts[0] {
			ps = append(ps, load.Problem{File: file, Line: 1, Column: 1, Field: "spec.domain", Message: fmt.Sprintf("domain %q should match its directory %q", s.Spec.Domain, parts[0])})
		}
		scenarios = append(scenarios, s)
		return nil
	})
	ps.Sort()
	return man, scenarios, ps
}

// Add fetches, verifies, lints and installs a pack. On any error nothing
// under the state root has changed.
func (m *Manager) Add(ctx context.Context, opts AddOptions) (*Result, error) {
	if opts.Name != "" {
		if err := ValidName(opts.Name); err != nil {
			return nil, refuse("%v", err)
		}
	}
	src, err := classify(opts.Source, opts.Checksum, m.limits())
	if err != nil {
		return nil, err
	}
	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	lk, err := m.readLock()
	if err != nil {
		return nil, err
	}
	if opts.Name != "" {
		if _, p := lk.find(opts.Name); p != nil {
			return nil, refuse("pack %s is already installed from %s; run ckslab pack update %s, or pass --name to install it under another name", opts.Name, p.Source, opts.Name)
		}
	}
	stagingDir, err := os.MkdirTemp(m.PacksDir(), ".staging-")
	if err != nil {
		return nil, fmt.Errorf("create staging directory: %w", err)
	}
	defer os.RemoveAll(stagingDir)

	st, err := m.stage(ctx, stagingDir, src, opts.Name)
	if err != nil {
		return nil, err
	}
	name := st.summary.Pack
	if _, p := lk.find(name); p != nil {
		return nil, refuse("pack %s is already installed from %s; run ckslab pack update %s, or pass --name to install it under another name", name, p.Source, name)
	}
	dst := m.Dir(name)
	if _, err := os.Lstat(dst); err == nil {
		return nil, refuse("%s exists but is not in the lock file; remove that directory first", dst)
	}
	by, err := confirm(ctx, opts.Confirm, st.summary)
	if err != nil {
		return nil, err
	}
	now := m.now()
	lp := LockedPack{
		Name: name, Source: opts.Source, Kind: st.src.kind, Checksum: st.src.checksum, Resolved: st.fetched.resolved,
		Tree: st.tree, Version: st.manifest.Version, Scenarios: st.summary.Scenarios, InstalledAt: now, UpdatedAt: now,
		Acknowledged: Acknowledgement{At: now, Summary: st.summary.Digest(), By: by},
	}
	if err := os.Rename(st.root, dst); err != nil {
		return nil, fmt.Errorf("install %s: %w", dst, err)
	}
	lk.Packs = append(lk.Packs, lp)
	if err := m.writeLock(lk); err != nil {
		_ = os.RemoveAll(dst)
		return nil, err
	}
	return &Result{Pack: lp, Summary: st.summary, Changed: true}, nil
}

func confirm(ctx context.Context, f ConfirmFunc, s Summary) (string, error) {
	if f == nil {
		return "", refuse("pack %s was not acknowledged", s.Pack)
	}
	by, err := f(ctx, s)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		var r *Refusal
		if errors.As(err, &r) {
			return "", r
		}
		return "", &Refusal{Reason: err.Error()}
	}
	if by == "" {
		by = "prompt"
	}
	return by, nil
}

// Update re-fetches an installed pack from its recorded source and
// replaces it only after every check passed. The old pack stays in place
// on any error.
func (m *Manager) Update(ctx context.Context, name string, opts UpdateOptions) (*Result, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	lk, err := m.readLock()
	if err != nil {
		return nil, err
	}
	i, cur := lk.find(name)
	if cur == nil {
		return nil, fmt.Errorf("no pack %q is installed (ckslab pack list shows installed packs)", name)
	}
	checksum := cur.Checksum
	if opts.Checksum != "" {
		checksum = opts.Checksum
	}
	// A checksum inside the recorded URL is superseded by an explicit one.
	rawSource := cur.Source
	if opts.Checksum != "" {
		rawSource = stripChecksum(rawSource)
	}
	src, err := classify(rawSource, checksum, m.limits())
	if err != nil {
		return nil, err
	}
	stagingDir, err := os.MkdirTemp(m.PacksDir(), ".staging-")
	if err != nil {
		return nil, fmt.Errorf("create staging directory: %w", err)
	}
	defer os.RemoveAll(stagingDir)
	st, err := m.stage(ctx, stagingDir, src, name)
	if err != nil {
		return nil, err
	}
	if st.tree == cur.Tree && st.fetched.resolved == cur.Resolved {
		return &Result{Pack: *cur, Summary: st.summary, Changed: false}, nil
	}
	ack := cur.Acknowledged
	if d := st.summary.Digest(); d != ack.Summary {
		by, err := confirm(ctx, opts.Confirm, st.summary)
		if err != nil {
			return nil, err
		}
		ack = Acknowledgement{At: m.now(), Summary: d, By: by}
	}
	next := *cur
	next.Kind, next.Checksum, next.Resolved, next.Tree = st.src.kind, st.src.checksum, st.fetched.resolved, st.tree
	next.Version, next.Scenarios, next.UpdatedAt, next.Acknowledged = st.manifest.Version, st.summary.Scenarios, m.now(), ack

	dst, old := m.Dir(name), filepath.Join(stagingDir, "previous")
	if err := os.Rename(dst, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("move the installed %s aside: %w", name, err)
	}
	if err := os.Rename(st.root, dst); err != nil {
		_ = os.Rename(old, dst)
		return nil, fmt.Errorf("install %s: %w", dst, err)
	}
	lk.Packs[i] = next
	if err := m.writeLock(lk); err != nil {
		_ = os.RemoveAll(dst)
		_ = os.Rename(old, dst)
		return nil, err
	}
	return &Result{Pack: next, Summary: st.summary, Changed: true}, nil
}

func stripChecksum(s string) string {
	i := strings.Index(s, "?")
	if i < 0 {
		return s
	}
	parts := strings.Split(s[i+1:], "&")
	var keep []string
	for _, p := range parts {
		if !strings.HasPrefix(p, "checksum=") {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return s[:i]
	}
	return s[:i+1] + strings.Join(keep, "&")
}

// Remove uninstalls a pack: its directory and its lock entry.
func (m *Manager) Remove(ctx context.Context, name string) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	lk, err := m.readLock()
	if err != nil {
		return err
	}
	i, cur := lk.find(name)
	if cur == nil {
		return fmt.Errorf("no pack %q is installed (ckslab pack list shows installed packs)", name)
	}
	stagingDir, err := os.MkdirTemp(m.PacksDir(), ".staging-")
	if err != nil {
		return fmt.Errorf("create staging directory: %w", err)
	}
	defer os.RemoveAll(stagingDir)
	dst, old := m.Dir(name), filepath.Join(stagingDir, "removed")
	if err := os.Rename(dst, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", dst, err)
	}
	lk.Packs = append(lk.Packs[:i], lk.Packs[i+1:]...)
	if err := m.writeLock(lk); err != nil {
		_ = os.Rename(old, dst)
		return err
	}
	return nil
}

// Status is an installed pack and whether its files still match the lock.
type Status struct {
	LockedPack
	Dir string `json:"dir"`
	// State is "ok", "modified" (files changed since install) or "missing".
	State string `json:"state"`
}

// List returns the installed packs, re-hashing each to spot local edits.
func (m *Manager) List(ctx context.Context) ([]Status, error) {
	lk, err := m.readLock()
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(lk.Packs))
	for _, p := range lk.Packs {
		st := Status{LockedPack: p, Dir: m.Dir(p.Name), State: "ok"}
		tree, err := TreeHash(ctx, st.Dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			st.State = "missing"
		case err != nil || tree != p.Tree:
			st.State = "modified"
		}
		out = append(out, st)
	}
	return out, nil
}

// Sources returns the installed packs as untrusted catalog sources, in
// name order. A pack whose directory is missing is reported, the rest load.
func (m *Manager) Sources() ([]load.Source, error) {
	lk, err := m.readLock()
	if err != nil {
		return nil, err
	}
	var out []load.Source
	var missing []string
	for _, p := range lk.Packs {
		dir := m.Dir(p.Name)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			missing = append(missing, p.Name)
			continue
		}
		out = append(out, load.Source{Name: p.Name, Kind: "pack", FS: os.DirFS(dir), Display: dir, Trusted: false})
	}
	if len(missing) > 0 {
		return out, fmt.Errorf("pack(s) %s are in the lock file but not on disk; run ckslab pack remove and add them again", strings.Join(missing, ", "))
	}
	return out, nil
}
