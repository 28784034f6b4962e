package upgrade

import "slices"

// Range is the versions of one engine a build can apply, Min to Max
// inclusive.
type Range struct {
	Min, Max uint32
}

// Has reports whether v is in r.
func (r Range) Has(v uint32) bool { return v >= r.Min && v <= r.Max }

// Supported is a build's registry: for each engine and personality, by
// name, the versions it can apply. The node assembles it from the
// engines it runs.
type Supported map[string]Range

// equal reports whether s and o hold the same ranges.
func (s Supported) equal(o Supported) bool {
	if len(s) != len(o) {
		return false
	}
	for name, r := range s {
		if x, ok := o[name]; !ok || x != r {
			return false
		}
	}
	return true
}

// check returns an error naming the first engine (in name order) whose
// enabled version s cannot apply.
func (s Supported) check(t table) error {
	for _, name := range sortedNames(t) {
		e := t[name]
		if r, ok := s[name]; !ok || !r.Has(e.Version) {
			return unsupported(name, e, r, ok)
		}
	}
	return nil
}

// Pending is an upgrade some member can run: Name at Version, with the
// members that have not announced support for it. With none missing it
// is ready, and the nodes enable it.
type Pending struct {
	Name    string
	Version uint32
	Missing []string
}

// plan returns, for each engine some member supports a version of above
// the enabled one, in name order: the highest version every member
// supports, if above the enabled one (ready, Missing empty), and the
// highest version any member supports, if above that (with the members
// missing it). It is a pure function of the replicated state and the
// membership.
func plan(enabled table, announced map[string]Supported, members []string) []Pending {
	names := map[string]bool{}
	for _, m := range members {
		for name := range announced[m] {
			names[name] = true
		}
	}
	var out []Pending
	for _, name := range sortedNames(names) {
		cur := enabled.version(name)
		top := cur
		for _, m := range members {
			if r, ok := announced[m][name]; ok {
				top = max(top, r.Max)
			}
		}
		// The members' ranges are intervals: their intersection's top
		// is the highest version all of them support.
		var ready uint32
		if common, ok := intersect(announced, members, name); ok && common.Max > cur {
			ready = common.Max
		}
		if ready != 0 {
			out = append(out, Pending{Name: name, Version: ready})
		}
		if top > max(cur, ready) {
			out = append(out, Pending{Name: name, Version: top, Missing: missing(announced, members, name, top)})
		}
	}
	return out
}

// missing returns the members that have not announced support for name
// at v.
func missing(announced map[string]Supported, members []string, name string, v uint32) []string {
	var out []string
	for _, m := range members {
		if r, ok := announced[m][name]; !ok || !r.Has(v) {
			out = append(out, m)
		}
	}
	return slices.Clip(out)
}

// intersect returns the versions of name every member supports, and false
// if none does or some member announced nothing for name.
func intersect(announced map[string]Supported, members []string, name string) (Range, bool) {
	common := Range{Min: 0, Max: ^uint32(0)}
	for _, m := range members {
		r, ok := announced[m][name]
		if !ok {
			return Range{}, false
		}
		common = Range{Min: max(common.Min, r.Min), Max: min(common.Max, r.Max)}
	}
	return common, len(members) > 0 && common.Min <= common.Max
}
