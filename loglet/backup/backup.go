package backup

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// FormatVersion is the version of the directory format this package
// writes and reads.
const FormatVersion = 1

// Sentinel errors.
var (
	// ErrCorrupt: a record's checksum or framing is wrong somewhere other
	// than at the end of the last file.
	ErrCorrupt = errors.New("backup: corrupt log file")
	// ErrMissing: the backup does not hold the positions asked for.
	ErrMissing = errors.New("backup: positions not in the backup")
	// ErrFormat: the directory's format version is not one this package
	// reads.
	ErrFormat = errors.New("backup: unknown format")
)

const (
	headerSize = 16
	segSuffix  = ".seg"
	// maxEntry bounds one record's length when reading, so a corrupt
	// length never allocates without bound.
	maxEntry = 1 << 30
)

// errPartial is a record cut short by the end of its file.
var errPartial = errors.New("partial record")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Range is a contiguous run of positions the backup holds: [First, End).
type Range struct{ First, End uint64 }

// file is one segment file and the offset of each of its records.
type file struct {
	path    string
	first   uint64
	offsets []int64
	// size is the length of its valid records (a torn tail beyond it is
	// ignored).
	size int64
}

func (f *file) end() uint64 { return f.first + uint64(len(f.offsets)) }

// Log is a read-only view of a backup directory's log files, indexed when
// opened. It is safe for concurrent use; it does not see records appended
// after Open.
type Log struct {
	dir   string
	files []*file
}

// Open reads and checks every record in dir's segment files and indexes
// them. A torn record at the end of the last file is ignored; anything
// else that does not check out is ErrCorrupt. A directory with no files
// (or none at all) is an empty log.
func Open(dir string) (*Log, error) {
	if err := CheckFormat(dir); err != nil {
		return nil, err
	}
	paths, err := segments(dir)
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir}
	for i, p := range paths {
		f, torn, err := scan(p.path, p.first)
		if err != nil {
			return nil, err
		}
		if torn && i != len(paths)-1 {
			return nil, fmt.Errorf("%w: %s: torn record before the last file", ErrCorrupt, p.path)
		}
		if len(l.files) > 0 && f.first < l.files[len(l.files)-1].end() {
			return nil, fmt.Errorf("%w: %s overlaps the file before it", ErrCorrupt, p.path)
		}
		l.files = append(l.files, f)
	}
	return l, nil
}

// Ranges returns the contiguous runs of positions the log holds, in
// order.
func (l *Log) Ranges() []Range {
	var out []Range
	for _, f := range l.files {
		if len(f.offsets) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].End == f.first {
			out[n-1].End = f.end()
			continue
		}
		out = append(out, Range{First: f.first, End: f.end()})
	}
	return out
}

// Covers reports whether the log holds every position in [first, end).
func (l *Log) Covers(first, end uint64) bool {
	if first >= end {
		return true
	}
	for _, r := range l.Ranges() {
		if r.First <= first && end <= r.End {
			return true
		}
	}
	return false
}

// Tail returns the position after the last entry the log holds (0 when
// it is empty).
func (l *Log) Tail() uint64 {
	for i := len(l.files) - 1; i >= 0; i-- {
		if len(l.files[i].offsets) > 0 {
			return l.files[i].end()
		}
	}
	return 0
}

// Read returns up to max entries from position from on, stopping at the
// end of from's file (the next call continues in the next file). It
// returns ErrMissing if the log does not hold from. The slices are the
// caller's.
func (l *Log) Read(from uint64, max int) ([][]byte, error) {
	i, ok := slices.BinarySearchFunc(l.files, from, func(f *file, p uint64) int {
		switch {
		case f.end() <= p:
			return -1
		case f.first > p:
			return 1
		}
		return 0
	})
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrMissing, from)
	}
	f := l.files[i]
	r, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	k := int(from - f.first)
	n := min(max, len(f.offsets)-k)
	if _, err := r.Seek(f.offsets[k], io.SeekStart); err != nil {
		return nil, err
	}
	br := bufio.NewReader(r)
	out := make([][]byte, 0, n)
	for j := range n {
		pos, data, err := readRecord(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, f.path, err)
		}
		if pos != from+uint64(j) {
			return nil, fmt.Errorf("%w: %s: position %d where %d belongs", ErrCorrupt, f.path, pos, from+uint64(j))
		}
		out = append(out, data)
	}
	return out, nil
}

// segPath is one segment file found in a directory.
type segPath struct {
	path  string
	first uint64
}

// segments lists dir's segment files in position order.
func segments(dir string) ([]segPath, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []segPath
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segSuffix)
		if !ok || e.IsDir() {
			continue
		}
		first, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: file name %q", ErrCorrupt, e.Name())
		}
		out = append(out, segPath{path: filepath.Join(dir, e.Name()), first: first})
	}
	slices.SortFunc(out, func(a, b segPath) int {
		switch {
		case a.first < b.first:
			return -1
		case a.first > b.first:
			return 1
		}
		return 0
	})
	return out, nil
}

// segName is the file name of a segment whose first entry is at first.
func segName(first uint64) string { return fmt.Sprintf("%020d%s", first, segSuffix) }

// scan reads and checks every record of the segment file at path. torn
// says it ends in a partial or unreadable record (ignored: size stops
// before it).
func scan(path string, first uint64) (f *file, torn bool, err error) {
	r, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer r.Close()
	f = &file{path: path, first: first}
	br := bufio.NewReader(r)
	for {
		pos, data, err := readRecord(br)
		if err == io.EOF {
			return f, false, nil
		}
		if err != nil {
			// A bad record is a torn write only at the very end of the
			// file; followed by more bytes, the file is corrupt.
			if _, perr := br.Peek(1); perr == io.EOF || errors.Is(err, errPartial) {
				return f, true, nil
			}
			return nil, false, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		}
		if want := f.end(); pos != want {
			return nil, false, fmt.Errorf("%w: %s: position %d where %d belongs", ErrCorrupt, path, pos, want)
		}
		f.offsets = append(f.offsets, f.size)
		f.size += int64(headerSize + len(data))
	}
}

// readRecord reads one record. It returns io.EOF at a clean end, and
// another error for a partial or corrupt record.
func readRecord(r io.Reader) (uint64, []byte, error) {
	var h [headerSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, errPartial
	}
	pos := binary.BigEndian.Uint64(h[0:8])
	n := binary.BigEndian.Uint32(h[8:12])
	sum := binary.BigEndian.Uint32(h[12:16])
	if n > maxEntry {
		return 0, nil, fmt.Errorf("record of %d bytes", n)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, nil, errPartial
	}
	c := crc32.Update(crc32.Checksum(h[:12], castagnoli), castagnoli, data)
	if c != sum {
		return 0, nil, fmt.Errorf("record at position %d: checksum mismatch", pos)
	}
	return pos, data, nil
}

// appendRecord appends the record of entry at pos to b.
func appendRecord(b []byte, pos uint64, entry []byte) []byte {
	var h [headerSize]byte
	binary.BigEndian.PutUint64(h[0:8], pos)
	binary.BigEndian.PutUint32(h[8:12], uint32(len(entry)))
	c := crc32.Update(crc32.Checksum(h[:12], castagnoli), castagnoli, entry)
	binary.BigEndian.PutUint32(h[12:16], c)
	return append(append(b, h[:]...), entry...)
}

// formatFile is the FORMAT file's content.
type formatFile struct {
	Format int `json:"format"`
}

// CheckFormat reads dir's FORMAT file, if there is one, and refuses a
// version this package does not know.
func CheckFormat(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "FORMAT"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var f formatFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%w: FORMAT: %v", ErrFormat, err)
	}
	if f.Format != FormatVersion {
		return fmt.Errorf("%w: version %d, this build reads %d", ErrFormat, f.Format, FormatVersion)
	}
	return nil
}
