package load

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/fsutil"
)

// indexFormat changes whenever what an index entry means changes.
const indexFormat = 1

// racyWindow: a file modified this close to (or after) the moment it was
// fingerprinted could change again without its size or mtime changing on
// a coarse-grained file system, so its entry is not trusted next time
// (git's "racily clean" rule).
const racyWindow = 2 * time.Second

// indexFile is one source's index: every scenario file with the
// fingerprint of its directory and what the strict load found.
type indexFile struct {
	Format int `json:"format"`
	// Loader identifies the ckslab binary that wrote the index: a
	// different loader may judge the same files differently.
	Loader  string       `json:"loader"`
	Source  string       `json:"source"`
	Entries []indexEntry `json:"entries"`
}

type indexEntry struct {
	// Path is the scenario file inside the source.
	Path string `json:"path"`
	// Fingerprint covers every file under the scenario's directory (path,
	// size, mtime; content where the file system has no mtimes).
	Fingerprint string `json:"fingerprint"`
	Racy        bool   `json:"racy,omitempty"`
	// Summary is set for a valid scenario, Problems for an invalid one.
	Summary  *Summary `json:"summary,omitempty"`
	Problems Problems `json:"problems,omitempty"`
}

// OpenCatalog is NewCatalog through an index kept in indexDir: a scenario
// file whose directory is unchanged since the index saw it is not parsed;
// only its summary (or its problems) is read from the index. Changed, new
// and racily-clean files are loaded strictly (as lint does) and the index
// rewritten atomically, so concurrent processes each see a complete index
// and every process checks it against the disk before trusting it. Get
// and All parse a scenario's file when it is asked for. An empty indexDir,
// or one that cannot be written, only costs the speed-up.
func OpenCatalog(indexDir string, sources ...Source) (*Catalog, Problems) {
	if indexDir == "" {
		return NewCatalog(sources...)
	}
	loader := loaderID()
	per := make([][]candidate, len(sources))
	for i, src := range sources {
		per[i] = scanSource(indexDir, loader, src)
	}
	return assemble(sources, per)
}

func scanSource(indexDir, loader string, src Source) []candidate {
	cands, err := indexSource(indexDir, loader, src)
	if err != nil {
		return []candidate{listProblem(src, err)}
	}
	return cands
}

// OpenCatalogFor is OpenCatalog for a verb about one scenario (describe,
// start, check, hint, ...): it scans the sources in order only until one
// defines id. That is enough to serve id exactly as the whole catalog
// would: ids are assigned source by source, and a later source can never
// change an earlier scenario's id (a collision renames or rejects the later
// one). So `describe psp-01` costs the same whatever packs and directories
// follow the built-in catalog. The sources left are scanned, with the same
// freshness checks, the first time the catalog is asked for anything else
// (Summaries, All, Len, ByDomain, or a Get of an id not found yet). The
// problems returned are those of the sources scanned here: invalid
// scenarios of later sources are reported by verbs that list the catalog
// (list, lint, validate), not by this one.
func OpenCatalogFor(indexDir, id string, sources ...Source) (*Catalog, Problems) {
	if indexDir == "" {
		return NewCatalog(sources...)
	}
	loader := loaderID()
	per := make([][]candidate, 0, len(sources))
	for i, src := range sources {
		per = append(per, scanSource(indexDir, loader, src))
		if i == len(sources)-1 {
			break
		}
		c, ps := assemble(sources[:i+1], per)
		if _, ok := c.byID[id]; ok {
			c.pending = &pendingScan{indexDir: indexDir, loader: loader, sources: sources, per: per}
			return c, ps
		}
	}
	return assemble(sources, per)
}

// complete scans the sources OpenCatalogFor left and rebuilds the catalog
// from all of them, keeping the scenarios already parsed.
func (c *Catalog) complete() {
	c.scanMu.Lock()
	defer c.scanMu.Unlock()
	p := c.pending
	if p == nil {
		return
	}
	for i := len(p.per); i < len(p.sources); i++ {
		p.per = append(p.per, scanSource(p.indexDir, p.loader, p.sources[i]))
	}
	full, _ := assemble(p.sources, p.per)
	c.mu.Lock()
	for _, e := range full.list {
		if old, ok := c.byID[e.ID]; ok && old.path == e.path && old.src.Display == e.src.Display && old.File == e.File {
			e.loaded = old.loaded
		}
	}
	c.mu.Unlock()
	c.list, c.byID, c.pending = full.list, full.byID, nil
}

// loaderID names this executable by path, size and mtime: rebuilding
// ckslab (new validation rules, new built-in scenarios) invalidates every
// index.
func loaderID() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	info, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s %d %d", exe, info.Size(), info.ModTime().UnixNano())
}

// indexPath names src's index for one loader: two ckslab binaries used in
// turn (an upgrade, a development build beside the installed one) each keep
// their own index instead of rebuilding the other's on every command.
func indexPath(dir, loader string, src Source) string {
	sum := sha256.Sum256([]byte(loader + "\x00" + src.Kind + "\x00" + src.Name + "\x00" + src.Display))
	return filepath.Join(dir, hex.EncodeToString(sum[:12])+".json")
}

// indexMaxAge: an index file no process has rewritten for this long is
// removed when another index is written (old binaries' indexes would
// otherwise pile up); a binary that comes back only rebuilds it.
const indexMaxAge = 14 * 24 * time.Hour

func pruneIndexes(dir string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > indexMaxAge {
			_ = os.Remove(filepath.Join(dir, e.Name())) // a cache: another process may have removed it
		}
	}
}

// indexSource returns src's scenario files as candidates, from the index
// where they are unchanged, and refreshes the index.
func indexSource(dir, loader string, src Source) ([]candidate, error) {
	files, scenarioFiles, err := walkSource(src.FS)
	if err != nil {
		return nil, err
	}
	file := indexPath(dir, loader, src)
	old := map[string]indexEntry{}
	if loader != "" {
		if b, err := os.ReadFile(file); err == nil {
			var idx indexFile
			if json.Unmarshal(b, &idx) == nil && idx.Format == indexFormat && idx.Loader == loader && idx.Source == src.Kind+"\x00"+src.Name+"\x00"+src.Display {
				for _, e := range idx.Entries {
					old[e.Path] = e
				}
			}
		}
	}
	fps := fingerprints(src.FS, files, scenarioFiles)
	now := time.Now()
	changed := len(old) != len(scenarioFiles)
	cands := make([]candidate, 0, len(scenarioFiles))
	entries := make([]indexEntry, 0, len(scenarioFiles))
	for _, f := range scenarioFiles {
		fp := fps[f]
		if e, ok := old[f]; ok && !e.Racy && e.Fingerprint == fp.sum && (e.Summary != nil) != (len(e.Problems) > 0) {
			entries = append(entries, e)
			if e.Summary != nil {
				cands = append(cands, candidate{path: f, sum: *e.Summary})
			} else {
				cands = append(cands, candidate{path: f, problems: e.Problems})
			}
			continue
		}
		changed = true
		cand := parseCandidate(src, f)
		cands = append(cands, cand)
		e := indexEntry{Path: f, Fingerprint: fp.sum, Racy: !fp.newest.Before(now.Add(-racyWindow))}
		if cand.loaded != nil {
			sum := cand.sum
			e.Summary = &sum
		} else {
			e.Problems = cand.problems
		}
		entries = append(entries, e)
	}
	if changed && loader != "" {
		if b, err := json.Marshal(indexFile{Format: indexFormat, Loader: loader, Source: src.Kind + "\x00" + src.Name + "\x00" + src.Display, Entries: entries}); err == nil {
			if os.MkdirAll(dir, 0o700) == nil {
				if fsutil.WriteFileAtomic(file, b, 0o600) == nil { // a cache: failing to write only costs time
					pruneIndexes(dir, now)
				}
			}
		}
	}
	return cands, nil
}

type fileStat struct {
	path  string
	size  int64
	mtime time.Time
	mode  fs.FileMode
}

// walkSource lists every file of fsys (dot directories skipped, as the
// catalog skips them) and the scenario files among them, sorted.
func walkSource(fsys fs.FS) ([]fileStat, []string, error) {
	var files []fileStat
	var scen []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, fileStat{path: p, size: info.Size(), mtime: info.ModTime(), mode: info.Mode()})
		if d.Name() == ScenarioFile {
			scen = append(scen, p)
		}
		return nil
	})
	return files, scen, err
}

type fingerprint struct {
	sum    string
	newest time.Time // the latest mtime among the files covered
}

// fingerprints hashes, for each scenario file, the stat of every file under
// its directory (a file under nested scenario directories counts for each).
// Files without an mtime (other than embedded ones) are hashed by content.
func fingerprints(fsys fs.FS, files []fileStat, scenarioFiles []string) map[string]fingerprint {
	// Embedded files are part of the executable, which the index's loader
	// id already names: their size is enough.
	_, embedded := fsys.(embed.FS)
	type acc struct {
		h      hash.Hash
		newest time.Time
	}
	byDir := map[string]*acc{} // scenario dir -> its accumulator
	for _, f := range scenarioFiles {
		byDir[path.Dir(f)] = &acc{h: sha256.New()}
	}
	for _, fi := range files {
		line := fmt.Sprintf("%s\x00%d\x00%d\x00%o\n", fi.path, fi.size, fi.mtime.UnixNano(), fi.mode)
		if fi.mtime.IsZero() && !embedded {
			if b, err := fs.ReadFile(fsys, fi.path); err == nil {
				line = fmt.Sprintf("%s\x00%d\x00%x\x00%o\n", fi.path, fi.size, sha256.Sum256(b), fi.mode)
			}
		}
		for d := path.Dir(fi.path); ; d = path.Dir(d) {
			if a, ok := byDir[d]; ok {
				_, _ = io.WriteString(a.h, line) // a hash.Hash never returns an error
				if fi.mtime.After(a.newest) {
					a.newest = fi.mtime
				}
			}
			if d == "." {
				break
			}
		}
	}
	out := make(map[string]fingerprint, len(scenarioFiles))
	for _, f := range scenarioFiles {
		a := byDir[path.Dir(f)]
		out[f] = fingerprint{sum: hex.EncodeToString(a.h.Sum(nil)), newest: a.newest}
	}
	return out
}
