package platform_test

import (
	"testing"

	"hourglass/platform"
)

func TestTableQueryBounds(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	q := platform.TableQuery{Bounds: []platform.TableBound{
		{Column: "key", Lo: []byte("a")},
		{Column: "key", Lo: []byte("b"), Hi: []byte("d")},
		{Column: "key", Hi: []byte("c")},
		{Column: "path", Lo: []byte("/a"), Hi: []byte("/a\x00")},
		{Column: "db", Eq: n(3)},
		{Column: "id", Eq: n(1)},
		{Column: "id", Eq: n(2)},
		{Column: "gone", Lo: []byte("x"), Hi: []byte("x")},
	}}
	if lo, hi, empty := q.Bytes("key"); string(lo) != "b" || string(hi) != "c" || empty {
		t.Errorf("key: [%q, %q) empty %v, want [b, c)", lo, hi, empty)
	}
	if lo, hi, empty := q.Bytes("other"); lo != nil || hi != nil || empty {
		t.Errorf("unbounded column: [%q, %q) empty %v", lo, hi, empty)
	}
	if _, _, empty := q.Bytes("gone"); !empty {
		t.Error("an empty range is not reported empty")
	}
	if p, ok := q.Point("path"); !ok || string(p) != "/a" {
		t.Errorf("path point: %q %v", p, ok)
	}
	if _, ok := q.Point("key"); ok {
		t.Error("a range is reported as a point")
	}
	if v, empty := q.Int("db"); v == nil || *v != 3 || empty {
		t.Errorf("db: %v %v", v, empty)
	}
	if _, empty := q.Int("id"); !empty {
		t.Error("two values of one column are not reported empty")
	}
}

func TestTextValue(t *testing.T) {
	for _, c := range []struct {
		in   string
		want any
	}{{"abc", "abc"}, {"", ""}, {"a\xffb", nil}, {"a\x00b", nil}, {"é", "é"}} {
		if got := platform.TextValue([]byte(c.in)); got != c.want {
			t.Errorf("TextValue(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}
