package keyspace

import "slices"

// sortGeoPoints orders a search's points by distance (dir 1 ascending,
// -1 descending) as Redis 7.0 does, ties included: all of them with a
// stable sort (glibc's qsort, a merge sort) when every point is replied,
// or with Redis's partial quicksort (pqsort.c) when COUNT keeps fewer.
func sortGeoPoints(points []geoPoint, dir int, keep int64) {
	cmp := func(a, b *geoPoint) int { return dir * cmpDist(a.dist, b.dist) }
	if keep > 0 && keep < int64(len(points)) {
		s := pqsorter{v: points, cmp: cmp, lrange: 0, rrange: int(keep) - 1}
		s.sort(0, len(points))
		return
	}
	slices.SortStableFunc(points, func(a, b geoPoint) int { return cmp(&a, &b) })
}

func cmpDist(a, b float64) int {
	switch {
	case a > b:
		return 1
	case a == b:
		return 0
	}
	return -1
}

// pqsorter is Redis 7.0's pqsort.c: NetBSD's qsort (Bentley and
// McIlroy's, without the switch to insertion sort after a partition
// that swapped nothing) that skips the partitions outside the range
// [lrange, rrange] of positions wanted sorted. Positions are indexes
// into v.
type pqsorter struct {
	v              []geoPoint
	cmp            func(a, b *geoPoint) int
	lrange, rrange int
}

func (s *pqsorter) less(i, j int) int { return s.cmp(&s.v[i], &s.v[j]) }

func (s *pqsorter) swap(i, j int) { s.v[i], s.v[j] = s.v[j], s.v[i] }

func (s *pqsorter) vecswap(i, j, n int) {
	for ; n > 0; n-- {
		s.swap(i, j)
		i++
		j++
	}
}

func (s *pqsorter) med3(a, b, c int) int {
	if s.less(a, b) < 0 {
		if s.less(b, c) < 0 {
			return b
		}
		if s.less(a, c) < 0 {
			return c
		}
		return a
	}
	if s.less(b, c) > 0 {
		return b
	}
	if s.less(a, c) < 0 {
		return a
	}
	return c
}

func (s *pqsorter) insertion(a, n int) {
	for pm := a + 1; pm < a+n; pm++ {
		for pl := pm; pl > a && s.less(pl-1, pl) > 0; pl-- {
			s.swap(pl, pl-1)
		}
	}
}

// outside reports whether the n positions from a miss the range.
func (s *pqsorter) outside(a, n int) bool {
	last := a + n - 1
	return (s.lrange < a && s.rrange < a) || (s.lrange > last && s.rrange > last)
}

func (s *pqsorter) sort(a, n int) {
	for {
		if n < 7 {
			s.insertion(a, n)
			return
		}
		pm := a + n/2
		if n > 7 {
			pl, pn := a, a+n-1
			if n > 40 {
				d := n / 8
				pl = s.med3(pl, pl+d, pl+2*d)
				pm = s.med3(pm-d, pm, pm+d)
				pn = s.med3(pn-2*d, pn-d, pn)
			}
			pm = s.med3(pl, pm, pn)
		}
		s.swap(a, pm)
		pa, pb := a+1, a+1
		pc, pd := a+n-1, a+n-1
		for {
			for pb <= pc {
				r := s.less(pb, a)
				if r > 0 {
					break
				}
				if r == 0 {
					s.swap(pa, pb)
					pa++
				}
				pb++
			}
			for pb <= pc {
				r := s.less(pc, a)
				if r < 0 {
					break
				}
				if r == 0 {
					s.swap(pc, pd)
					pd--
				}
				pc--
			}
			if pb > pc {
				break
			}
			s.swap(pb, pc)
			pb++
			pc--
		}
		pn := a + n
		r := min(pa-a, pb-pa)
		s.vecswap(a, pb-r, r)
		r = min(pd-pc, pn-pd-1)
		s.vecswap(pb, pn-r, r)
		if r = pb - pa; r > 1 && !s.outside(a, r) {
			s.sort(a, r)
		}
		if r = pd - pc; r <= 1 {
			return
		}
		a, n = pn-r, r
		if s.outside(a, n) {
			return
		}
	}
}
