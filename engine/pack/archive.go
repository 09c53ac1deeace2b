package pack

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"io"
	"io/fs"
	"os"

	getter "github.com/hashicorp/go-getter/v2"
)

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
