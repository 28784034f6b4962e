package store

// Memory is an empty base store for overlays that start from nothing
// (tests, and statements that need no committed state): reads find
// nothing, writes fail.
type Memory struct{}

// Get implements Store.
func (Memory) Get([]byte) ([]byte, bool, error) { return nil, false, nil }

// Scan implements Store.
func (Memory) Scan([]byte, []byte, bool) (Iter, error) { return emptyIter{}, nil }

// Set implements Store.
func (Memory) Set([]byte, []byte) error { return ErrReadOnly }

// Delete implements Store.
func (Memory) Delete([]byte) error { return ErrReadOnly }

type emptyIter struct{}

func (emptyIter) Next() bool    { return false }
func (emptyIter) Key() []byte   { return nil }
func (emptyIter) Value() []byte { return nil }
func (emptyIter) Close() error  { return nil }
