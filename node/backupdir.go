package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"hourglass/loglet/backup"
	"hourglass/node/adminpb"
)

// A backup directory (format version backup.FormatVersion) holds:
//
//	FORMAT                       {"format":1}
//	log/                         the log's copy (package loglet/backup)
//	checkpoints/<position>/      a Pebble checkpoint of a node's applied
//	                             state at one position (20 digits),
//	  CHECKPOINT.json            its manifest, written last
//
// A checkpoint directory appears whole (it is written under a temporary
// name and renamed once its files and manifest are fsynced).

const (
	checkpointsDir   = "checkpoints"
	manifestFile     = "CHECKPOINT.json"
	partialPrefix    = ".partial-"
	restoredLogDir   = "backup-log"
	checkpointDigits = 20
)

// Sentinel errors of backups.
var (
	// ErrBackupCorrupt: a backup's file does not match its manifest.
	ErrBackupCorrupt = errors.New("node: backup corrupt")
	// ErrBackupMissing: the backup holds no checkpoint (and log) that
	// reaches the position asked for.
	ErrBackupMissing = errors.New("node: backup cannot reach the position")
)

// Manifest describes one checkpoint in a backup directory.
type Manifest struct {
	Format int `json:"format"`
	// Position is the first log position the checkpoint's state does not
	// reflect; Checksum the state digest there (hex), as the Checksum
	// admin call reports it.
	Position uint64    `json:"position"`
	Checksum string    `json:"checksum"`
	Node     string    `json:"node"`
	Created  time.Time `json:"created"`
	// Files are the checkpoint's files with their sizes and SHA-256.
	Files []ManifestFile `json:"files"`
}

// ManifestFile is one file of a checkpoint.
type ManifestFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// checkpointDir is the directory of the checkpoint at pos.
func checkpointDir(dir string, pos uint64) string {
	return filepath.Join(dir, checkpointsDir, fmt.Sprintf("%0*d", checkpointDigits, pos))
}

// Checkpoints reads the manifests of the backup directory's complete
// checkpoints, oldest first.
func Checkpoints(dir string) ([]Manifest, error) {
	ents, err := os.ReadDir(filepath.Join(dir, checkpointsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Manifest
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), partialPrefix) {
			continue
		}
		pos, err := strconv.ParseUint(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		m, err := readManifest(checkpointDir(dir, pos))
		if err != nil {
			return nil, err
		}
		if m.Position != pos {
			return nil, fmt.Errorf("%w: checkpoint %s names position %d", ErrBackupCorrupt, e.Name(), m.Position)
		}
		out = append(out, m)
	}
	return out, nil
}

func readManifest(cdir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(cdir, manifestFile))
	if err != nil {
		return m, fmt.Errorf("%w: %v", ErrBackupCorrupt, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %v", ErrBackupCorrupt, cdir, err)
	}
	if m.Format != backup.FormatVersion {
		return m, fmt.Errorf("%w: %s: format %d", backup.ErrFormat, cdir, m.Format)
	}
	return m, nil
}

// CreateResult is what CreateBackup wrote.
type CreateResult struct {
	Manifest Manifest
	// Copied is the bytes received; Linked the bytes of files taken from
	// the previous checkpoint without copying. Existed says the backup
	// already held a checkpoint at this position, which was kept.
	Copied, Linked int64
	Existed        bool
}

// CreateBackup asks a node (through its admin endpoint) for a checkpoint
// of its applied state and writes it into the backup directory dir.
// Files the newest checkpoint already in dir holds (same name, size and
// SHA-256: Pebble's table files are immutable) are hard-linked from it
// rather than sent again.
func CreateBackup(ctx context.Context, client adminpb.AdminClient, dir string) (CreateResult, error) {
	var res CreateResult
	if err := os.MkdirAll(filepath.Join(dir, checkpointsDir), 0o755); err != nil {
		return res, err
	}
	if err := backup.WriteFormat(dir); err != nil {
		return res, err
	}
	olds, err := Checkpoints(dir)
	if err != nil {
		return res, err
	}
	req := &adminpb.BackupRequest{}
	prev := map[string]ManifestFile{}
	var prevDir string
	if len(olds) > 0 {
		last := olds[len(olds)-1]
		prevDir = checkpointDir(dir, last.Position)
		for _, f := range last.Files {
			if !strings.HasSuffix(f.Name, ".sst") {
				continue
			}
			sum, err := hex.DecodeString(f.SHA256)
			if err != nil {
				continue
			}
			prev[f.Name] = f
			req.Have = append(req.Have, &adminpb.BackupFile{Name: f.Name, Size: uint64(f.Size), Sha256: sum})
		}
	}
	stream, err := client.Backup(ctx, req)
	if err != nil {
		return res, err
	}
	head, err := stream.Recv()
	if err != nil {
		return res, err
	}
	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := filepath.Join(dir, checkpointsDir, partialPrefix+hex.EncodeToString(suffix[:]))
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return res, err
	}
	m := Manifest{
		Format:   backup.FormatVersion,
		Position: head.Applied,
		Checksum: hex.EncodeToString(head.Checksum),
		Node:     head.NodeId,
		Created:  time.Now().UTC(),
	}
	// Files arrive one after another, each in order.
	var cur *os.File
	var curName string
	var curHash hash.Hash
	var curSize int64
	finish := func() error {
		if cur == nil {
			return nil
		}
		err := cur.Sync()
		if cerr := cur.Close(); err == nil {
			err = cerr
		}
		cur = nil
		m.Files = append(m.Files, ManifestFile{Name: curName, Size: curSize, SHA256: hex.EncodeToString(curHash.Sum(nil))})
		return err
	}
	defer func() {
		if cur != nil {
			cur.Close()
		}
	}()
	for {
		c, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		rel := filepath.Clean(c.File)
		if !filepath.IsLocal(rel) {
			return res, fmt.Errorf("node: checkpoint file %q escapes the directory", c.File)
		}
		if c.Have {
			if err := finish(); err != nil {
				return res, err
			}
			f, ok := prev[rel]
			if !ok {
				return res, fmt.Errorf("node: the node referred to %q, which the backup does not hold", rel)
			}
			if err := linkOrCopy(filepath.Join(prevDir, rel), filepath.Join(tmp, rel)); err != nil {
				return res, err
			}
			m.Files = append(m.Files, f)
			res.Linked += f.Size
			continue
		}
		if cur == nil || rel != curName {
			if err := finish(); err != nil {
				return res, err
			}
			if c.Offset != 0 {
				return res, fmt.Errorf("node: checkpoint file %q starts at offset %d", rel, c.Offset)
			}
			path := filepath.Join(tmp, rel)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return res, err
			}
			if cur, err = os.Create(path); err != nil {
				return res, err
			}
			curName, curHash, curSize = rel, sha256.New(), 0
		}
		if c.Offset != uint64(curSize) {
			return res, fmt.Errorf("node: checkpoint file %q: chunk at offset %d, expected %d", rel, c.Offset, curSize)
		}
		if _, err := cur.Write(c.Data); err != nil {
			return res, err
		}
		curHash.Write(c.Data)
		curSize += int64(len(c.Data))
		res.Copied += int64(len(c.Data))
	}
	if err := finish(); err != nil {
		return res, err
	}
	slices.SortFunc(m.Files, func(a, b ManifestFile) int { return strings.Compare(a.Name, b.Name) })
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return res, err
	}
	if err := backup.WriteFileSynced(filepath.Join(tmp, manifestFile), append(b, '\n')); err != nil {
		return res, err
	}
	res.Manifest = m
	final := checkpointDir(dir, m.Position)
	if _, err := os.Stat(final); err == nil {
		// The same position was backed up before: the state there is the
		// same, so the older copy stays.
		res.Existed = true
		old, err := readManifest(final)
		if err != nil {
			return res, err
		}
		if old.Checksum != m.Checksum {
			return res, fmt.Errorf("%w: checkpoint %d holds checksum %s, the node has %s", ErrBackupCorrupt, m.Position, old.Checksum, m.Checksum)
		}
		res.Manifest = old
		return res, nil
	}
	if err := os.Rename(tmp, final); err != nil {
		return res, err
	}
	return res, backup.SyncDirs(filepath.Join(dir, checkpointsDir), dir)
}

// linkOrCopy hard-links src to dst, or copies it where links do not work
// (another filesystem).
func linkOrCopy(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return copyFile(src, dst)
}

// copyFile copies src to a new file dst and fsyncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// checkFiles checks every file of a checkpoint against its manifest.
func checkFiles(cdir string, m Manifest) error {
	var errs []error
	for _, f := range m.Files {
		path := filepath.Join(cdir, f.Name)
		info, err := os.Stat(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: checkpoint %d: %v", ErrBackupCorrupt, m.Position, err))
			continue
		}
		sum, err := fileSHA256(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if info.Size() != f.Size || hex.EncodeToString(sum) != f.SHA256 {
			errs = append(errs, fmt.Errorf("%w: checkpoint %d: %s does not match its manifest", ErrBackupCorrupt, m.Position, f.Name))
		}
	}
	return errors.Join(errs...)
}

// equalHex reports whether a hex string names the bytes b.
func equalHex(h string, b []byte) bool {
	d, err := hex.DecodeString(h)
	return err == nil && bytes.Equal(d, b)
}
