package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DefaultSegmentBytes is the size past which the writer starts a new
// segment file.
const DefaultSegmentBytes = 64 << 20

// WriterOptions configures a Writer.
type WriterOptions struct {
	// SegmentBytes is the size past which a new segment file starts; 0
	// means DefaultSegmentBytes.
	SegmentBytes int64
}

// Writer appends log entries to a backup directory. It is not safe for
// concurrent use: one goroutine copies the log.
type Writer struct {
	dir      string
	segBytes int64
	f        *os.File
	size     int64
	// has says the directory holds entries; tail is then the position
	// after the last.
	has  bool
	tail uint64
	buf  []byte
}

// OpenWriter opens (creating it if needed) the backup log in dir for
// appending: it writes the FORMAT file into a new directory, and cuts a
// torn record off the end of the last file.
func OpenWriter(dir string, o WriterOptions) (*Writer, error) {
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := WriteFormat(dir); err != nil {
		return nil, err
	}
	w := &Writer{dir: dir, segBytes: o.SegmentBytes}
	paths, err := segments(dir)
	if err != nil {
		return nil, err
	}
	// Find the last file with entries; an empty last file (a crash right
	// after creating it) is removed.
	for i := len(paths) - 1; i >= 0; i-- {
		p := paths[i]
		f, torn, err := scan(p.path, p.first)
		if err != nil {
			return nil, err
		}
		if len(f.offsets) == 0 {
			if err := os.Remove(p.path); err != nil {
				return nil, err
			}
			continue
		}
		fh, err := os.OpenFile(p.path, os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		if torn {
			if err := fh.Truncate(f.size); err != nil {
				fh.Close()
				return nil, err
			}
			if err := fh.Sync(); err != nil {
				fh.Close()
				return nil, err
			}
		}
		if _, err := fh.Seek(f.size, 0); err != nil {
			fh.Close()
			return nil, err
		}
		w.f, w.size, w.has, w.tail = fh, f.size, true, f.end()
		break
	}
	return w, nil
}

// WriteFormat writes dir's FORMAT file (fsynced) unless it exists, and
// refuses a directory of another format version.
func WriteFormat(dir string) error {
	path := filepath.Join(dir, "FORMAT")
	if _, err := os.Stat(path); err == nil {
		return CheckFormat(dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	b, _ := json.Marshal(formatFile{Format: FormatVersion})
	return WriteFileSynced(path, append(b, '\n'))
}

// WriteFileSynced writes a new file through a temporary one, fsyncing
// the file and its directory, so that it appears whole or not at all
// and survives a crash.
func WriteFileSynced(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDirs(filepath.Dir(path))
}

// SyncDirs fsyncs directories, so that the files created or renamed in
// them survive a crash.
func SyncDirs(dirs ...string) error {
	for _, dir := range dirs {
		d, err := os.Open(dir)
		if err != nil {
			return err
		}
		err = d.Sync()
		d.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Tail returns the position after the last entry written, and false if
// the directory holds none.
func (w *Writer) Tail() (uint64, bool) { return w.tail, w.has }

// Append writes entries at positions first, first+1, ... and fsyncs
// them: once it returns nil they survive a crash. Entries below the tail
// (already copied) are skipped. Entries beyond the tail (a gap: the log
// lost them before they were copied) start a new file. The caller may
// reuse the slices afterwards.
func (w *Writer) Append(first uint64, entries [][]byte) error {
	if w.has && first < w.tail {
		skip := w.tail - first
		if skip >= uint64(len(entries)) {
			return nil
		}
		entries, first = entries[skip:], w.tail
	}
	if len(entries) == 0 {
		return nil
	}
	if w.f == nil || first != w.tail || w.size >= w.segBytes {
		if err := w.rotate(first); err != nil {
			return err
		}
	}
	w.buf = w.buf[:0]
	for i, e := range entries {
		w.buf = appendRecord(w.buf, first+uint64(i), e)
	}
	if _, err := w.f.Write(w.buf); err != nil {
		return w.broken(err)
	}
	if err := w.f.Sync(); err != nil {
		return w.broken(err)
	}
	w.size += int64(len(w.buf))
	w.has, w.tail = true, first+uint64(len(entries))
	return nil
}

// broken closes the current file after a failed write or fsync: what it
// holds past the last synced record is unknown, so the next Append
// reopens the directory's state from disk.
func (w *Writer) broken(err error) error {
	w.f.Close()
	w.f = nil
	if nw, rerr := OpenWriter(w.dir, WriterOptions{SegmentBytes: w.segBytes}); rerr == nil {
		w.f, w.size, w.has, w.tail = nw.f, nw.size, nw.has, nw.tail
	}
	return fmt.Errorf("backup: writing the log: %w", err)
}

// rotate closes the current file and starts one whose first entry is at
// first.
func (w *Writer) rotate(first uint64) error {
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			return err
		}
		w.f = nil
	}
	f, err := os.OpenFile(filepath.Join(w.dir, segName(first)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := SyncDirs(w.dir); err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, 0
	return nil
}

// Close closes the current file. Everything appended is already durable.
func (w *Writer) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
