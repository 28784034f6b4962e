package keyspace

import "math"

// Geohashes as Redis 7.0 computes them (geohash.c, geohash_helper.c): a
// position is a 52-bit interleaving of 26 bits of latitude (even bits)
// and 26 bits of longitude (odd bits) over the Web Mercator square,
// longitude -180..180 and latitude -85.05112878..85.05112878. A geo set's
// scores are these integers. The arithmetic is IEEE double throughout,
// in C's order; products are rounded before they are added (explicit
// conversions), so that no platform fuses them into one operation.

const (
	geoStepMax = 26 // 26 bits of each coordinate: 52 bits in all
	geoLatMin  = -85.05112878
	geoLatMax  = 85.05112878
	geoLonMin  = -180.0
	geoLonMax  = 180.0

	earthRadiusMeters = 6372797.560856
	mercatorMax       = 20037726.37
)

// degToRad is C's M_PI / 180.0: the double nearest pi divided in double
// arithmetic (a Go constant expression would round only once).
var (
	piDouble = math.Pi
	degToRad = piDouble / 180.0
)

func degRad(ang float64) float64 { return float64(ang * degToRad) }
func radDeg(ang float64) float64 { return ang / degToRad }

// geoRange is an interval of one coordinate.
type geoRange struct{ min, max float64 }

var (
	geoLonRange = geoRange{geoLonMin, geoLonMax}
	geoLatRange = geoRange{geoLatMin, geoLatMax}
)

// geoBits is a geohash of step bits per coordinate. The zero value (step
// 0) is no cell at all, Redis's GZERO.
type geoBits struct {
	bits uint64
	step uint8
}

func (h geoBits) zero() bool { return h.bits == 0 && h.step == 0 }

// align52 is geohashAlign52Bits: the hash as a 52-bit score prefix.
func (h geoBits) align52() uint64 { return h.bits << (52 - 2*uint(h.step)) }

// geoArea is the cell a hash names.
type geoArea struct{ lon, lat geoRange }

// interleave puts the bits of x in the even positions and those of y in
// the odd ones.
func interleave(x, y uint32) uint64 { return spread(x) | spread(y)<<1 }

func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

func squash(x uint64) uint32 {
	x &= 0x5555555555555555
	x = (x | x>>1) & 0x3333333333333333
	x = (x | x>>2) & 0x0F0F0F0F0F0F0F0F
	x = (x | x>>4) & 0x00FF00FF00FF00FF
	x = (x | x>>8) & 0x0000FFFF0000FFFF
	x = (x | x>>16) & 0x00000000FFFFFFFF
	return uint32(x)
}

// geoEncode is geohashEncode: the cell of step bits holding lon, lat in
// the given ranges, false if the point lies outside them or outside the
// Mercator limits.
func geoEncode(lonR, latR geoRange, lon, lat float64, step uint8) (geoBits, bool) {
	if step > 32 || step == 0 {
		return geoBits{}, false
	}
	if lon > geoLonMax || lon < geoLonMin || lat > geoLatMax || lat < geoLatMin {
		return geoBits{}, false
	}
	if lat < latR.min || lat > latR.max || lon < lonR.min || lon > lonR.max {
		return geoBits{step: step}, false
	}
	latOff := (lat - latR.min) / (latR.max - latR.min)
	lonOff := (lon - lonR.min) / (lonR.max - lonR.min)
	scale := float64(uint64(1) << step)
	latOff *= scale
	lonOff *= scale
	return geoBits{bits: interleave(uint32(latOff), uint32(lonOff)), step: step}, true
}

// geoDecode is geohashDecode: the cell h names within the ranges.
func geoDecode(lonR, latR geoRange, h geoBits) geoArea {
	ilat := squash(h.bits)
	ilon := squash(h.bits >> 1)
	cells := float64(uint64(1) << h.step)
	latScale := latR.max - latR.min
	lonScale := lonR.max - lonR.min
	at := func(min float64, i uint32, scale float64) float64 {
		return min + float64(float64(i)*1.0/cells*scale)
	}
	return geoArea{
		lat: geoRange{at(latR.min, ilat, latScale), at(latR.min, ilat+1, latScale)},
		lon: geoRange{at(lonR.min, ilon, lonScale), at(lonR.min, ilon+1, lonScale)},
	}
}

// center is geohashDecodeAreaToLongLat: the middle of the cell, within
// the limits.
func (a geoArea) center() (lon, lat float64) {
	lon = min(max((a.lon.min+a.lon.max)/2, geoLonMin), geoLonMax)
	lat = min(max((a.lat.min+a.lat.max)/2, geoLatMin), geoLatMax)
	return lon, lat
}

// geoScore is the score GEOADD gives lon, lat (already checked to lie
// within the limits).
func geoScore(lon, lat float64) float64 {
	h, _ := geoEncode(geoLonRange, geoLatRange, lon, lat, geoStepMax)
	return float64(h.align52())
}

// scoreBits is C's (uint64_t) conversion of a score, as x86-64 compilers
// do it (cvttsd2si, with 2^63 subtracted first from larger values).
func scoreBits(score float64) uint64 {
	const two63 = 1 << 63
	if score >= two63 {
		return uint64(cvttsd2si(score-two63)) ^ two63
	}
	return uint64(cvttsd2si(score))
}

// cvttsd2si truncates as the instruction does: NaN and values out of
// int64's range give the "integer indefinite", -2^63.
func cvttsd2si(f float64) int64 {
	if !(f >= -(1<<63) && f < 1<<63) {
		return math.MinInt64
	}
	return int64(f)
}

// geoPosition is decodeGeohash: the longitude and latitude a geo set's
// score stands for.
func geoPosition(score float64) (lon, lat float64) {
	return geoDecode(geoLonRange, geoLatRange, geoBits{bits: scoreBits(score), step: geoStepMax}).center()
}

const geoAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// geoHashString is GEOHASH's reply for a score: the position re-encoded
// over the standard latitude range -90..90, as 11 base-32 characters
// (the last always '0').
func geoHashString(score float64) []byte {
	lon, lat := geoPosition(score)
	h, _ := geoEncode(geoRange{-180, 180}, geoRange{-90, 90}, lon, lat, geoStepMax)
	out := make([]byte, 11)
	for i := range 10 {
		out[i] = geoAlphabet[(h.bits>>(52-(i+1)*5))&0x1f]
	}
	out[10] = geoAlphabet[0]
	return out
}

// geoDistance is geohashGetDistance: the haversine distance in meters.
func geoDistance(lon1d, lat1d, lon2d, lat2d float64) float64 {
	lat1r, lon1r := degRad(lat1d), degRad(lon1d)
	lat2r, lon2r := degRad(lat2d), degRad(lon2d)
	u := crSin((lat2r - lat1r) / 2)
	v := crSin((lon2r - lon1r) / 2)
	a := float64(u*u) + float64(float64(float64(crCos(lat1r)*crCos(lat2r))*v)*v)
	return float64(2.0*earthRadiusMeters) * crAsin(math.Sqrt(a))
}

// geoMoveX and geoMoveY are geohash_move_x and _y: the neighbouring cell
// east (d > 0) or west, north or south, wrapping around.
func geoMoveX(h geoBits, d int) geoBits { return geoMove(h, d, 0xaaaaaaaaaaaaaaaa) }

func geoMoveY(h geoBits, d int) geoBits { return geoMove(h, d, 0x5555555555555555) }

// geoMove steps the coordinate whose bits are axis (odd bits for
// longitude, even for latitude) by one cell, keeping the other.
func geoMove(h geoBits, d int, axis uint64) geoBits {
	moving, kept := h.bits&axis, h.bits&^axis
	zz := ^axis >> (64 - 2*uint(h.step))
	if d > 0 {
		moving += zz + 1
	} else {
		moving |= zz
		moving -= zz + 1
	}
	moving &= axis >> (64 - 2*uint(h.step))
	h.bits = moving | kept
	return h
}

// The nine cells a search covers, in the order Redis scans them.
const (
	cellSelf = iota
	cellNorth
	cellSouth
	cellEast
	cellWest
	cellNorthEast
	cellNorthWest
	cellSouthEast
	cellSouthWest
)

// geoNeighbors is geohashNeighbors, with h itself first.
func geoNeighbors(h geoBits) [9]geoBits {
	return [9]geoBits{
		cellSelf:      h,
		cellNorth:     geoMoveY(h, 1),
		cellSouth:     geoMoveY(h, -1),
		cellEast:      geoMoveX(h, 1),
		cellWest:      geoMoveX(h, -1),
		cellNorthEast: geoMoveY(geoMoveX(h, 1), 1),
		cellNorthWest: geoMoveY(geoMoveX(h, -1), 1),
		cellSouthEast: geoMoveY(geoMoveX(h, 1), -1),
		cellSouthWest: geoMoveY(geoMoveX(h, -1), -1),
	}
}

// geoStepsByRadius is geohashEstimateStepsByRadius: the cell size for
// a search of range meters around latitude lat.
func geoStepsByRadius(rangeMeters, lat float64) uint8 {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint8(min(max(step, 1), 26))
}

// geoShape is a search area: a circle of radius, or a box of width by
// height, in units of conversion meters, around lon, lat.
type geoShape struct {
	lon, lat      float64
	box           bool
	radius        float64
	width, height float64
	conversion    float64
}

// boundingBox is geohashBoundingBox: min lon, min lat, max lon, max lat.
func (s *geoShape) boundingBox() [4]float64 {
	height := float64(s.conversion * s.radius)
	width := height
	if s.box {
		height = float64(s.conversion*s.height) / 2
		width = float64(s.conversion*s.width) / 2
	}
	latDelta := radDeg(height / earthRadiusMeters)
	lonDeltaTop := radDeg(width / earthRadiusMeters / crCos(degRad(s.lat+latDelta)))
	lonDeltaBottom := radDeg(width / earthRadiusMeters / crCos(degRad(s.lat-latDelta)))
	lonDelta := lonDeltaTop
	if s.lat < 0 {
		lonDelta = lonDeltaBottom
	}
	return [4]float64{s.lon - lonDelta, s.lat - latDelta, s.lon + lonDelta, s.lat + latDelta}
}

// cells is geohashCalculateAreasByShapeWGS84: the cell around the center
// and its neighbours that may hold points of the shape (zero cells are
// left out).
func (s *geoShape) cells() [9]geoBits {
	b := s.boundingBox()
	minLon, minLat, maxLon, maxLat := b[0], b[1], b[2], b[3]
	radius := s.radius
	if s.box {
		w, h := s.width/2, s.height/2
		radius = math.Sqrt(float64(w*w) + float64(h*h))
	}
	radius *= s.conversion
	steps := geoStepsByRadius(radius, s.lat)

	hash, _ := geoEncode(geoLonRange, geoLatRange, s.lon, s.lat, steps)
	n := geoNeighbors(hash)
	area := geoDecode(geoLonRange, geoLatRange, hash)

	north := geoDecode(geoLonRange, geoLatRange, n[cellNorth])
	south := geoDecode(geoLonRange, geoLatRange, n[cellSouth])
	east := geoDecode(geoLonRange, geoLatRange, n[cellEast])
	west := geoDecode(geoLonRange, geoLatRange, n[cellWest])
	decrease := north.lat.max < maxLat || south.lat.min > minLat || east.lon.max < maxLon || west.lon.min > minLon
	if steps > 1 && decrease {
		steps--
		hash, _ = geoEncode(geoLonRange, geoLatRange, s.lon, s.lat, steps)
		n = geoNeighbors(hash)
		area = geoDecode(geoLonRange, geoLatRange, hash)
	}

	if steps >= 2 {
		if area.lat.min < minLat {
			n[cellSouth], n[cellSouthWest], n[cellSouthEast] = geoBits{}, geoBits{}, geoBits{}
		}
		if area.lat.max > maxLat {
			n[cellNorth], n[cellNorthEast], n[cellNorthWest] = geoBits{}, geoBits{}, geoBits{}
		}
		if area.lon.min < minLon {
			n[cellWest], n[cellSouthWest], n[cellNorthWest] = geoBits{}, geoBits{}, geoBits{}
		}
		if area.lon.max > maxLon {
			n[cellEast], n[cellSouthEast], n[cellNorthEast] = geoBits{}, geoBits{}, geoBits{}
		}
	}
	return n
}

// contains is geoWithinShape's test for a point (already decoded): the
// distance from the center in meters, and whether the point is inside
// (geohashGetDistanceIfInRadius, geohashGetDistanceIfInRectangle).
func (s *geoShape) contains(lon, lat float64) (float64, bool) {
	if !s.box {
		d := geoDistance(s.lon, s.lat, lon, lat)
		return d, d <= float64(s.radius*s.conversion)
	}
	lonDist := geoDistance(lon, lat, s.lon, lat)
	latDist := geoDistance(lon, lat, lon, s.lat)
	if lonDist > float64(s.width*s.conversion)/2 || latDist > float64(s.height*s.conversion)/2 {
		return 0, false
	}
	return geoDistance(s.lon, s.lat, lon, lat), true
}
