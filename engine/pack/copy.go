package pack

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// removeGitMetadata deletes .git directories and files (submodules use a
// .git file): they are history, not pack content, and would count
// against the limits.
func removeGitMetadata(root string) error {
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" && p != root {
			found = append(found, p)
			if d.IsDir() {
				return fs.SkipDir
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("clean the clone: %w", err)
	}
	for _, p := range found {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("clean the clone: %w", err)
		}
	}
	return nil
}

// watchSize cancels the returned context when dir grows past limit bytes.
func watchSize(ctx context.Context, dir string, limit int64) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if dirSize(dir, limit) > limit {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, func() { close(done); cancel() }
}

func dirSize(dir string, stopAt int64) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		if n > stopAt {
			return fs.SkipAll
		}
		return nil
	})
	return n
}

// copyDir copies a local pack directory without following links, refusing
// links and special files and stopping at the limits. .git is skipped.
func copyDir(ctx context.Context, src, dst string, lim Limits) error {
	var total int64
	files := 0
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.Name() == ".git" && rel != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if err := checkEntryName(rel); err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			link, _ := os.Readlink(p)
			return refuse("%s is a symbolic link (to %q); packs may not contain links, copy the file instead", filepath.ToSlash(rel), link)
		case t.IsDir():
			return os.MkdirAll(target, 0o755)
		case !t.IsRegular():
			return refuse("%s is not a regular file (%s); packs may only contain files and directories", filepath.ToSlash(rel), t.Type())
		}
		files++
		if files > lim.Files {
			return refuse("the pack has more than %d files; split it into smaller packs", lim.Files)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		if total > lim.TotalBytes {
			return refuse("the pack is larger than %s; remove large files (images, binaries) from it", humanBytes(lim.TotalBytes))
		}
		return copyFile(p, target, info.Mode().Perm()&0o755)
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode|0o600)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}
