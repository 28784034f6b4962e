// Package backup is the log's backup copy in a directory: a writer that
// appends committed log entries, in order, to segment files with their
// positions and checksums (fsynced), and a read-only, sealed Loglet over
// those files, so that a sealed segment of the VirtualLog can be read from
// the backup after the LogServers trimmed it.
//
// # Format (version 1)
//
// The directory holds segment files named by the global log position of
// their first entry, as 20 decimal digits: 00000000000000001234.seg. A
// segment file is a sequence of records:
//
//	position uint64 big-endian   (global log position of the entry)
//	length   uint32 big-endian   (bytes of the entry)
//	crc      uint32 big-endian   (CRC-32C of the 12 bytes above, then the entry)
//	entry    [length]byte        (the entry exactly as the log holds it)
//
// Positions inside one file are consecutive. A file starts either where
// the previous one ended (the previous one reached its size limit) or
// further on, after a gap (the log was trimmed past the backup before it
// copied those entries); Ranges reports each contiguous run. The file
// FORMAT holds the format version as JSON ({"format":1}). Only the last
// file of a directory may end in a torn record (a crash during a write);
// the writer truncates it on open and readers stop before it.
//
//	w, err := backup.OpenWriter(dir, backup.WriterOptions{})
//	err = w.Append(pos, entries) // durable once it returns
//	l, err := backup.Open(dir)
//	entries, err := l.Read(pos, 100)
package backup
