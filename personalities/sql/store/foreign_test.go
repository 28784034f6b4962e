package store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"hourglass/personalities/sql/store"
	"hourglass/platform"
	"hourglass/platform/platformtest"
)

// setter is a personality whose entries are "key value" writes.
type setter struct{}

func (setter) Apply(txn platform.Txn, e *platform.Entry, _ platform.Version) (platform.Result, error) {
	k, v, _ := strings.Cut(string(e.Body), " ")
	return platform.Result{}, txn.Set([]byte(k), []byte(v))
}
func (setter) PostApply(*platform.Entry, platform.Version) {}

// validator validates a read set at apply, as COMMIT does, and tries to
// write another personality's key.
type validator struct{ rs *store.ReadSet }

var noReads = &store.ReadSet{}

func (a *validator) Apply(txn platform.Txn, _ *platform.Entry, _ platform.Version) (platform.Result, error) {
	s := store.FromTxn(txn)
	rs := a.rs
	if rs == nil {
		rs = noReads
	}
	write := s.Set(append(store.ForeignPrefix("kv"), 'x'), nil)
	return platform.Result{Value: [2]error{store.Validate(s, rs), write}}, nil
}
func (*validator) PostApply(*platform.Entry, platform.Version) {}

func TestForeignKeys(t *testing.T) {
	ctx := context.Background()
	base, _ := platformtest.NewBase(t)
	router := platform.NewRouter(base)
	kv, sql := router.Mount("kv"), router.Mount("sql")
	kv.RegisterUpcall(setter{})
	val := &validator{}
	sql.RegisterUpcall(val)
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	set := func(m *platform.Mount, body string) platform.Result {
		t.Helper()
		r, err := m.Propose(ctx, &platform.Entry{Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	set(kv, "a 1")
	set(kv, "b 2")
	fk := func(k string) []byte { return append(store.ForeignPrefix("kv"), k...) }

	v, err := sql.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	o := store.NewOverlay(store.FromReader(v), true)
	if got, ok, err := o.Get(fk("a")); err != nil || !ok || string(got) != "1" {
		t.Fatalf("foreign get: %q %v %v", got, ok, err)
	}
	it, err := o.Scan(fk(""), fk("\xff"), false)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for it.Next() {
		if !bytes.HasPrefix(it.Key(), store.ForeignPrefix("kv")) {
			t.Errorf("foreign scan key %q lacks the prefix", it.Key())
		}
		keys = append(keys, string(it.Key()[len(store.ForeignPrefix("kv")):])+"="+string(it.Value()))
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "a=1,b=2" {
		t.Errorf("foreign scan: %v", keys)
	}
	own, err := store.FromReader(v).Scan(nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if own.Next() {
		t.Errorf("an unbounded scan of the SQL keys reached %q", own.Key())
	}
	own.Close()
	if rs := o.Reads(); len(rs.Points) != 1 || len(rs.Ranges) != 1 {
		t.Fatalf("read set: %d points, %d ranges", len(rs.Points), len(rs.Ranges))
	}

	val.rs = o.Reads()
	r := set(sql, "commit").Value.([2]error)
	if r[0] != nil || !errors.Is(r[1], store.ErrForeignWrite) {
		t.Fatalf("unchanged reads: validate %v, foreign write %v", r[0], r[1])
	}
	set(kv, "c 3") // inside the scanned range
	if r := set(sql, "commit").Value.([2]error); !errors.Is(r[0], store.ErrConflict) {
		t.Fatalf("a key added to a scanned range: validate %v", r[0])
	}
}
