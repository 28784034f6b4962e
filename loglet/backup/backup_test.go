package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"hourglass/loglet"
)

func entries(first, n int) [][]byte {
	var out [][]byte
	for i := first; i < first+n; i++ {
		out = append(out, fmt.Appendf(nil, "entry-%d", i))
	}
	return out
}

func TestWriteReopenRead(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{SegmentBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(10, entries(10, 5)); err != nil {
		t.Fatal(err)
	}
	// An overlapping append skips what is there.
	if err := w.Append(12, entries(12, 6)); err != nil {
		t.Fatal(err)
	}
	// A gap starts a new file.
	if err := w.Append(30, entries(30, 3)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// A crash mid-record: a torn tail in the last file.
	last := filepath.Join(dir, segName(30))
	f, err := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(appendRecord(nil, 33, []byte("torn"))[:18])
	f.Close()

	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.Ranges(), []Range{{10, 18}, {30, 33}}; !slices.Equal(got, want) {
		t.Fatalf("ranges %v, want %v", got, want)
	}
	if !l.Covers(11, 18) || l.Covers(11, 19) || l.Covers(17, 31) {
		t.Fatal("Covers is wrong")
	}
	var got [][]byte
	for pos := uint64(10); pos < 18; {
		es, err := l.Read(pos, 100)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, es...)
		pos += uint64(len(es))
	}
	if want := entries(10, 8); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("read %q, want %q", got, want)
	}
	if _, err := l.Read(20, 1); !errors.Is(err, ErrMissing) {
		t.Fatalf("read in the gap: %v", err)
	}

	// Reopening for writing cuts the torn record and continues.
	w, err = OpenWriter(dir, WriterOptions{SegmentBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if tail, ok := w.Tail(); !ok || tail != 33 {
		t.Fatalf("tail %d %v, want 33", tail, ok)
	}
	if err := w.Append(33, entries(33, 2)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	l, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	es, err := l.Read(33, 10)
	if err != nil || !slices.EqualFunc(es, entries(33, 2), slices.Equal) {
		t.Fatalf("after reopen: %q %v", es, err)
	}
}

func TestCorruptRecord(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{SegmentBytes: 60})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := w.Append(uint64(i), entries(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	first := filepath.Join(dir, segName(0))
	b, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	b[headerSize+2] ^= 0xff // a byte of the first entry
	if err := os.WriteFile(first, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open of a corrupt backup: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "FORMAT"), []byte(`{"format":99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrFormat) {
		t.Fatalf("open of a future format: %v", err)
	}
}

func TestLoglet(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(100, entries(100, 20)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	l, err := OpenLoglet(dir, 105)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tail, sealed, err := l.CheckTail(ctx)
	if err != nil || !sealed || tail != 15 {
		t.Fatalf("CheckTail %d %v %v, want 15 sealed", tail, sealed, err)
	}
	es, err := l.ReadNext(ctx, 0, 4)
	if err != nil || !slices.EqualFunc(es, entries(105, 4), slices.Equal) {
		t.Fatalf("ReadNext %q %v", es, err)
	}
	if es, err := l.ReadNext(ctx, 13, 100); err != nil || len(es) != 2 {
		t.Fatalf("ReadNext to the tail: %d entries, %v", len(es), err)
	}
	if _, err := l.ReadNext(ctx, 15, 1); !errors.Is(err, loglet.ErrSealed) {
		t.Fatalf("ReadNext at the tail: %v", err)
	}
	if _, err := l.Append(ctx, loglet.AppendID{}, entries(0, 1)); !errors.Is(err, loglet.ErrSealed) {
		t.Fatalf("Append: %v", err)
	}
	if _, err := OpenLoglet(dir, 50); !errors.Is(err, loglet.ErrTrimmed) {
		t.Fatalf("a loglet below the backup: %v", err)
	}
	if _, err := OpenLoglet(filepath.Join(dir, "none"), 100); !errors.Is(err, loglet.ErrTrimmed) {
		t.Fatalf("a loglet in a missing directory: %v", err)
	}
}
