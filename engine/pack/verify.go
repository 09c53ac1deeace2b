package pack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ckslab/ckslab/engine/load"
)

// Limits bound what a pack may hold. Packs are untrusted input: the limits
// keep a hostile or broken pack from filling the disk or the catalog.
type Limits struct {
	// TotalBytes bounds the unpacked pack and the downloaded archive.
	TotalBytes int64
	// Files bounds the number of files (and archive entries).
	Files int
	// ScenarioBytes bounds one scenario directory: scenario.yaml and every
	// file next to it.
	ScenarioBytes int64
}

// DefaultLimits are generous for YAML scenarios and small enough that a
// mistaken or hostile source is refused quickly.
func DefaultLimits() Limits {
	return Limits{TotalBytes: 50 << 20, Files: 5000, ScenarioBytes: 1 << 20}
}

// Refusal is why a pack was not installed. Nothing was changed.
type Refusal struct {
	// Reason is one sentence with the remediation.
	Reason string
	// Report holds lint problems, when linting refused the pack.
	Report load.Problems
}

func (r *Refusal) Error() string {
	msg := "pack refused: " + r.Reason + "; nothing was installed or changed"
	if len(r.Report) > 0 {
		msg += "\n" + r.Report.Error()
	}
	return msg
}

func refuse(format string, args ...any) *Refusal {
	return &Refusal{Reason: fmt.Sprintf(format, args...)}
}

// checkEntryName refuses names that are absolute, escape the pack with
// "..", or hold control characters (they would garble every report).
func checkEntryName(name string) error {
	slash := filepath.ToSlash(name)
	clean := path.Clean(strings.TrimPrefix(slash, "./"))
	if clean == "." {
		return nil
	}
	if strings.HasPrefix(slash, "/") || filepath.IsAbs(name) || (len(slash) > 1 && slash[1] == ':') {
		return refuse("entry %q is an absolute path; every file must be inside the pack directory", name)
	}
	for _, part := range strings.Split(slash, "/") {
		if part == ".." {
			return refuse("entry %q escapes the pack directory with '..'; every file must be inside the pack directory", name)
		}
	}
	if !fs.ValidPath(clean) {
		return refuse("entry %q is not a valid relative path inside the pack", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return refuse("entry %q has a control character in its name; rename it", name)
		}
	}
	return nil
}

// verifyTree walks an unpacked pack without following links and refuses
// anything but plain files and directories inside root, enforcing the
// limits. It returns the content tree hash.
func verifyTree(ctx context.Context, root string, lim Limits) (string, error) {
	type file struct {
		rel  string
		size int64
		exec bool
	}
	var files []file
	var total int64
	dirBytes := map[string]int64{}
	scenarioDirs := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read unpacked pack: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return refuse("%s is outside the pack directory", p)
		}
		if rel == "." {
			return nil
		}
		if err := checkEntryName(rel); err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			return refuse("%s is a symbolic link (to %q); packs may not contain links, copy the file instead", rel, target)
		case t.IsDir():
			return nil
		case !t.IsRegular():
			return refuse("%s is not a regular file (%s); packs may only contain files and directories", rel, t.Type())
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", rel, err)
		}
		if len(files)+1 > lim.Files {
			return refuse("the pack has more than %d files; split it into smaller packs", lim.Files)
		}
		total += info.Size()
		if total > lim.TotalBytes {
			return refuse("the pack is larger than %s unpacked; remove large files (images, binaries) from it", humanBytes(lim.TotalBytes))
		}
		if path.Base(rel) == load.ScenarioFile {
			scenarioDirs[path.Dir(rel)] = true
		}
		for dir := path.Dir(rel); ; dir = path.Dir(dir) {
			dirBytes[dir] += info.Size()
			if dir == "." {
				break
			}
		}
		files = append(files, file{rel: rel, size: info.Size(), exec: info.Mode()&0o111 != 0})
		return nil
	})
	if err != nil {
		return "", err
	}
	var dirs []string
	for d := range scenarioDirs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if dirBytes[d] > lim.ScenarioBytes {
			return "", refuse("scenario directory %s holds %s; a scenario may hold at most %s", d, humanBytes(dirBytes[d]), humanBytes(lim.ScenarioBytes))
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	h := sha256.New()
	for _, f := range files {
		sum, err := fileSHA256(filepath.Join(root, filepath.FromSlash(f.rel)))
		if err != nil {
			return "", err
		}
		mode := "-"
		if f.exec {
			mode = "x"
		}
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", f.rel, mode, sum)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// TreeHash hashes an installed pack's content the way install did, so list
// can tell whether it was modified since.
func TreeHash(ctx context.Context, root string) (string, error) {
	// Installed packs passed the limits; do not let a later edit make the
	// hash unreadable, only different.
	lim := Limits{TotalBytes: 1 << 40, Files: 1 << 30, ScenarioBytes: 1 << 40}
	return verifyTree(ctx, root, lim)
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", p, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// humanBytes formats a size for messages: 512 B, 256 KiB, 50 MiB.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
