package pack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	getter "github.com/hashicorp/go-getter"
)

// Source kinds recorded in the lock file.
const (
	KindGit     = "git"
	KindArchive = "archive"
	KindDir     = "dir"
)

// archiveFormats are the decompressors a pack archive may use, keyed the
// way go-getter matches URL suffixes and ?archive=.
var archiveFormats = []string{"tar.gz", "tgz", "zip"}

var (
	sha256RE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	commitRE = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
	gitSCPRE = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:`)
)

// source is a classified pack source.
type source struct {
	kind string
	// getterSrc is what go-getter fetches (archive and git), or the
	// absolute directory (dir).
	getterSrc string
	// checksum is the pinned sha256 ("sha256:<hex>"), from --checksum or ?checksum=.
	checksum string
}

// classify decides what a source is before anything is fetched, so an
// unsupported or unsafe source is refused without network or disk use.
func classify(raw, checksum string, lim Limits) (source, error) {
	raw = strings.TrimSpace(raw)
	checksum = strings.ToLower(strings.TrimSpace(checksum))
	if checksum != "" && !sha256RE.MatchString(checksum) {
		return source{}, refuse("checksum %q must be sha256:<64 hex digits> (sha256sum prints the digits)", checksum)
	}
	if raw == "" {
		return source{}, refuse("the source is empty; pass a git URL, an https archive URL or a local directory")
	}

	// Local paths (and file:// URLs) are looked at directly.
	localPath := ""
	switch {
	case strings.HasPrefix(raw, "file://"):
		u, err := url.Parse(raw)
		if err != nil {
			return source{}, refuse("source %q is not a valid URL: %v", raw, err)
		}
		if u.Query().Get("checksum") != "" || u.RawQuery != "" {
			return source{}, refuse("file:// sources take no query parameters; use --checksum to pin an archive")
		}
		localPath = u.Path
	case !strings.Contains(raw, "::") && !strings.Contains(raw, "://"):
		if _, err := os.Stat(raw); err == nil {
			localPath = raw
		}
	}
	if localPath != "" {
		abs, err := filepath.Abs(localPath)
		if err != nil {
			return source{}, fmt.Errorf("resolve %s: %w", localPath, err)
		}
		info, err := os.Stat(abs)
		if err != nil {
			return source{}, refuse("cannot read %s: %v", abs, err)
		}
		if info.IsDir() {
			return source{kind: KindDir, getterSrc: abs, checksum: checksum}, nil
		}
		if archiveFormat(abs) == "" {
			return source{}, refuse("%s is neither a directory nor a .tar.gz, .tgz or .zip archive", abs)
		}
		if info.Size() > lim.TotalBytes {
			return source{}, refuse("archive %s is larger than %s", abs, humanBytes(lim.TotalBytes))
		}
		return source{kind: KindArchive, getterSrc: (&url.URL{Scheme: "file", Path: abs}).String(), checksum: checksum}, nil
	}

	forced, rest := "", raw
	if i := strings.Index(raw, "::"); i > 0 && !strings.Contains(raw[:i], "/") {
		forced, rest = raw[:i], raw[i+2:]
	}
	switch forced {
	case "", "git":
	default:
		return source{}, refuse("source type %q is not supported; use git::<url>, an https archive URL or a local directory", forced)
	}

	u, err := url.Parse(rest)
	if err != nil || u.Scheme == "" || u.Host == "" {
		// Shorthands go-getter's detectors understand (github.com/org/repo,
		// gitlab.com/org/repo, git@host:org/repo) are git repositories.
		if forced == "git" || isGitShorthand(rest) {
			return source{kind: KindGit, getterSrc: raw, checksum: checksum}, nil
		}
		return source{}, refuse("cannot tell what %q is: use git::<url> for a git repository, an https URL ending in .tar.gz, .tgz or .zip for an archive, or an existing local directory", raw)
	}
	if q := u.Query().Get("checksum"); q != "" {
		q = strings.ToLower(q)
		if !sha256RE.MatchString(q) {
			return source{}, refuse("?checksum=%s must be sha256:<64 hex digits>", q)
		}
		if checksum != "" && checksum != q {
			return source{}, refuse("--checksum %s differs from the URL's ?checksum=%s; pass only one", checksum, q)
		}
		checksum = q
		vals := u.Query()
		vals.Del("checksum")
		u.RawQuery = vals.Encode()
	}
	insecure := u.Scheme == "http" && !isLoopback(u.Hostname())

	if forced == "git" || strings.HasSuffix(u.Path, ".git") || u.Scheme == "ssh" {
		if insecure {
			return source{}, refuse("git over plain http can be tampered with on the way; use an https or ssh URL")
		}
		return source{kind: KindGit, getterSrc: "git::" + u.String(), checksum: checksum}, nil
	}
	switch u.Scheme {
	case "https", "http":
	default:
		return source{}, refuse("URL scheme %q is not supported; use https for archives or git::<url> for git", u.Scheme)
	}
	format := archiveFormat(u.Path)
	if a := u.Query().Get("archive"); a != "" {
		format = ""
		for _, f := range archiveFormats {
			if a == f {
				format = f
			}
		}
	}
	if format == "" {
		return source{}, refuse("%s is not an archive this version understands (.tar.gz, .tgz, .zip); for a git repository prefix it with git::", raw)
	}
	if insecure && checksum == "" {
		return source{}, refuse("archive %s is fetched over plain http and could be tampered with; use https or pin it with --checksum sha256:...", raw)
	}
	if checksum != "" {
		vals := u.Query()
		vals.Set("checksum", checksum)
		u.RawQuery = vals.Encode()
	}
	return source{kind: KindArchive, getterSrc: u.String(), checksum: checksum}, nil
}

func isGitShorthand(s string) bool {
	return strings.HasPrefix(s, "github.com/") || strings.HasPrefix(s, "gitlab.com/") ||
		gitSCPRE.MatchString(s)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func archiveFormat(p string) string {
	best := ""
	for _, f := range archiveFormats {
		if strings.HasSuffix(strings.ToLower(p), "."+f) && len(f) > len(best) {
			best = f
		}
	}
	return best
}

// fetched is what a fetch produced in the staging directory.
type fetched struct {
	// resolved pins exactly what was fetched: "git:<commit>",
	// "sha256:<archive digest>", or "" for directories (the tree hash pins them).
	resolved string
}

// fetch downloads src into dst (which must not exist) with go-getter
// configured for packs: only the git, http(s) and file getters, only the
// tar.gz/tgz/zip decompressors (each guarded by a pre-scan), no symlinks.
func (m *Manager) fetch(ctx context.Context, src source, dst string) (fetched, error) {
	if src.kind == KindDir {
		return fetched{}, copyDir(ctx, src.getterSrc, dst, m.limits())
	}
	var archiveSum string
	lim := m.limits()
	decompressors := map[string]getter.Decompressor{}
	for _, f := range archiveFormats {
		var inner getter.Decompressor
		if f == "zip" {
			inner = &getter.ZipDecompressor{FilesLimit: lim.Files, FileSizeLimit: lim.TotalBytes}
		} else {
			inner = &getter.TarGzipDecompressor{FilesLimit: lim.Files, FileSizeLimit: lim.TotalBytes}
		}
		decompressors[f] = &guardedDecompressor{inner: inner, format: f, limits: lim, digest: &archiveSum}
	}
	httpGetter := &getter.HttpGetter{
		Client:                m.httpClient(),
		MaxBytes:              lim.TotalBytes,
		ReadTimeout:           5 * time.Minute,
		XTerraformGetDisabled: true, // a server must not redirect us to another getter
		DoNotCheckHeadFirst:   true,
	}
	gitTimeout := m.GitTimeout
	if gitTimeout == 0 {
		gitTimeout = 5 * time.Minute
	}
	getSrc := src.getterSrc
	if src.kind == KindGit {
		getSrc = withShallowClone(getSrc)
	}
	// git writes while it clones; stop it once the clone is clearly too big.
	gctx, stop := watchSize(ctx, dst, 4*lim.TotalBytes)
	defer stop()
	client := &getter.Client{
		Ctx:  gctx,
		Src:  getSrc,
		Dst:  dst,
		Mode: getter.ClientModeDir,
		Getters: map[string]getter.Getter{
			"git":   &getter.GitGetter{Timeout: gitTimeout},
			"http":  httpGetter,
			"https": httpGetter,
			"file":  &getter.FileGetter{Copy: true},
		},
		Detectors: []getter.Detector{
			new(getter.GitHubDetector), new(getter.GitLabDetector), new(getter.GitDetector), new(getter.FileDetector),
		},
		Decompressors:   decompressors,
		DisableSymlinks: true,
	}
	if err := client.Get(); err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			return fetched{}, r
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fetched{}, ctxErr
		}
		if gctx.Err() != nil {
			return fetched{}, refuse("the download grew past %s and was stopped; a pack must be smaller", humanBytes(4*lim.TotalBytes))
		}
		var cerr *getter.ChecksumError
		if errors.As(err, &cerr) {
			return fetched{}, refuse("the download's sha256 is sha256:%x, which does not match the pinned checksum %s; check the pin with the pack author", cerr.Actual, src.checksum)
		}
		if errors.Is(err, io.ErrShortWrite) {
			return fetched{}, refuse("the download is larger than %s and was cut off; a pack archive must be smaller", humanBytes(lim.TotalBytes))
		}
		return fetched{}, fmt.Errorf("fetch %s: %v; check the URL and your network", redact(src.getterSrc), firstLine(err))
	}
	switch src.kind {
	case KindArchive:
		if archiveSum == "" {
			return fetched{}, refuse("%s did not unpack as an archive", redact(src.getterSrc))
		}
		return fetched{resolved: archiveSum}, nil
	case KindGit:
		commit, err := gitHead(ctx, dst)
		if err != nil {
			return fetched{}, err
		}
		if err := removeGitMetadata(dst); err != nil {
			return fetched{}, err
		}
		return fetched{resolved: "git:" + commit}, nil
	}
	return fetched{}, nil
}

// withShallowClone asks for depth 1 unless a commit is pinned (a shallow
// clone cannot check out an arbitrary commit).
func withShallowClone(src string) string {
	i := strings.Index(src, "?")
	if i < 0 {
		return src + "?depth=1"
	}
	q, err := url.ParseQuery(src[i+1:])
	if err != nil || q.Has("depth") || commitRE.MatchString(q.Get("ref")) {
		return src
	}
	q.Set("depth", "1")
	return src[:i+1] + q.Encode()
}

func firstLine(err error) string {
	return strings.SplitN(err.Error(), "\n", 2)[0]
}

// redact drops credentials and query parameters from a source for messages.
func redact(s string) string {
	if i := strings.Index(s, "?"); i >= 0 {
		s = s[:i]
	}
	if u, err := url.Parse(strings.TrimPrefix(s, "git::")); err == nil && u.User != nil {
		u.User = nil
		return strings.Replace(s, strings.TrimPrefix(s, "git::"), u.String(), 1)
	}
	return s
}

func (m *Manager) httpClient() *http.Client {
	if m.HTTPClient != nil {
		return m.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Minute}
}

func gitHead(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "HEAD")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("read the cloned commit: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

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

// watchSize cancels the returned context when dir grows past max bytes.
func watchSize(ctx context.Context, dir string, max int64) (context.Context, func()) {
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
				if dirSize(dir, max) > max {
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

// guardedDecompressor records the archive's digest and scans every entry
// before go-getter unpacks it. go-getter refuses ".." entries itself, but
// silently turns links and device entries into plain files; a pack that
// ships them is refused outright instead.
type guardedDecompressor struct {
	inner  getter.Decompressor
	format string
	limits Limits
	digest *string
}

func (g *guardedDecompressor) Decompress(dst, src string, dir bool, umask os.FileMode) error {
	if !dir {
		return refuse("a pack archive must unpack into a directory")
	}
	sum, err := fileSHA256(src)
	if err != nil {
		return err
	}
	*g.digest = "sha256:" + sum
	if g.format == "zip" {
		err = scanZip(src, g.limits)
	} else {
		err = scanTarGz(src, g.limits)
	}
	if err != nil {
		return err
	}
	return g.inner.Decompress(dst, src, dir, umask)
}

func scanTarGz(src string, lim Limits) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return refuse("the archive is not gzip-compressed (%v); build it with tar -czf", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	var total int64
	n := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return refuse("the archive is corrupt: %v", err)
		}
		n++
		if n > lim.Files {
			return refuse("the archive has more than %d entries; split it into smaller packs", lim.Files)
		}
		if err := checkEntryName(hdr.Name); err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeDir:
		case tar.TypeSymlink, tar.TypeLink:
			return refuse("archive entry %s is a link to %q; packs may not contain links", hdr.Name, hdr.Linkname)
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return refuse("archive entry %s is a device or pipe; packs may only contain files and directories", hdr.Name)
		default:
			return refuse("archive entry %s has unsupported type %q; packs may only contain files and directories", hdr.Name, string(hdr.Typeflag))
		}
		total += hdr.Size
		if hdr.Size < 0 || total > lim.TotalBytes {
			return refuse("the archive unpacks to more than %s; remove large files from the pack", humanBytes(lim.TotalBytes))
		}
	}
	if n == 0 {
		return refuse("the archive is empty")
	}
	return nil
}

func scanZip(src string, lim Limits) error {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return refuse("the archive is not a valid zip file (%v)", err)
	}
	defer zr.Close()
	if len(zr.File) > lim.Files {
		return refuse("the archive has more than %d entries; split it into smaller packs", lim.Files)
	}
	if len(zr.File) == 0 {
		return refuse("the archive is empty")
	}
	var total uint64
	for _, f := range zr.File {
		if err := checkEntryName(f.Name); err != nil {
			return err
		}
		mode := f.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			return refuse("archive entry %s is a symbolic link; packs may not contain links", f.Name)
		case mode.IsDir(), mode.IsRegular():
		default:
			return refuse("archive entry %s is not a regular file (%s); packs may only contain files and directories", f.Name, mode.Type())
		}
		total += f.UncompressedSize64
		if total > uint64(lim.TotalBytes) {
			return refuse("the archive unpacks to more than %s; remove large files from the pack", humanBytes(lim.TotalBytes))
		}
	}
	return nil
}
