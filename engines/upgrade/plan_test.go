package upgrade

import (
	"reflect"
	"testing"
)

func TestPlan(t *testing.T) {
	v1, v12, v13, v23 := Range{1, 1}, Range{1, 2}, Range{1, 3}, Range{2, 3}
	for _, tc := range []struct {
		name      string
		enabled   table
		announced map[string]Supported
		members   []string
		want      []Pending
	}{
		{"all at v1", nil, map[string]Supported{"a": {"time": v1}, "b": {"time": v1}}, []string{"a", "b"}, nil},
		{"one member lacks v2", nil, map[string]Supported{"a": {"time": v12}, "b": {"time": v1}}, []string{"a", "b"},
			[]Pending{{Name: "time", Version: 2, Missing: []string{"b"}}}},
		{"one member never announced", nil, map[string]Supported{"a": {"time": v12}}, []string{"a", "b"},
			[]Pending{{Name: "time", Version: 2, Missing: []string{"b"}}}},
		{"every member supports v2", nil, map[string]Supported{"a": {"time": v12}, "b": {"time": v13}}, []string{"a", "b"},
			[]Pending{{Name: "time", Version: 2}, {Name: "time", Version: 3, Missing: []string{"a"}}}},
		{"enabled already", table{"time": {Version: 2, At: 7}}, map[string]Supported{"a": {"time": v12}, "b": {"time": v23}}, []string{"a", "b"},
			[]Pending{{Name: "time", Version: 3, Missing: []string{"a"}}}},
		{"enabled at the top", table{"time": {Version: 2, At: 7}}, map[string]Supported{"a": {"time": v12}, "b": {"time": v12}}, []string{"a", "b"}, nil},
		{"a removed member does not count", nil, map[string]Supported{"a": {"time": v12}, "old": {"time": v1}}, []string{"a"},
			[]Pending{{Name: "time", Version: 2}}},
		{"disjoint ranges", nil, map[string]Supported{"a": {"time": v1}, "b": {"time": v23}}, []string{"a", "b"},
			[]Pending{{Name: "time", Version: 3, Missing: []string{"a"}}}},
	} {
		if got := plan(tc.enabled, tc.announced, tc.members); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: plan = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// FuzzDecodeEntry: any header decodes or is refused, without a panic,
// and what decodes encodes to bytes that decode to the same entry.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(announcement{node: "n1", supported: Supported{"time": {1, 2}}}.encode())
	f.Add(enablement{name: "time", version: 2, members: []string{"n1", "n2"}}.encode())
	f.Fuzz(func(t *testing.T, h []byte) {
		a, e, ok := decodeEntry(h)
		if !ok {
			return
		}
		var again []byte
		if a != nil {
			again = a.encode()
		} else {
			again = e.encode()
		}
		a2, e2, ok := decodeEntry(again)
		if !ok || !reflect.DeepEqual(a, a2) || !reflect.DeepEqual(e, e2) {
			t.Fatalf("%x decodes to %+v %+v, which encodes to %x, which decodes to %+v %+v", h, a, e, again, a2, e2)
		}
	})
}
