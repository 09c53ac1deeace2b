package pack

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
