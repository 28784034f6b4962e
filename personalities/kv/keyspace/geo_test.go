package keyspace

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestGeohash checks the geohash arithmetic against values redis-server
// 7.0 reports (GEOADD's ZSCORE, GEOPOS, GEOHASH, GEODIST).
func TestGeohash(t *testing.T) {
	for _, c := range []struct {
		lon, lat float64
		score    float64
		pos      [2]string
		hash     string
	}{
		{13.361389, 38.115556, 3479099956230698, [2]string{"13.36138933897018433", "38.11555639549629859"}, "sqc8b49rny0"},
		{15.087269, 37.502669, 3479447370796909, [2]string{"15.08726745843887329", "37.50266842333162032"}, "sqdtr74hyu0"},
		{180, 85.05112878, 13510798882111488, [2]string{"180", "85.0511287799999991"}, "bp05b5048p0"},
		{-180, -85.05112878, 0, [2]string{"-179.99999731779098511", "-85.05112751263942528"}, "00bh0hbj200"},
		{0, 0, 3377699720527872, [2]string{"0.00000268220901489", "0.00000126736058093"}, "s0000000000"},
	} {
		s := geoScore(c.lon, c.lat)
		if s != c.score {
			t.Errorf("score(%v, %v) = %.0f, want %.0f", c.lon, c.lat, s, c.score)
		}
		lon, lat := geoPosition(s)
		if got := [2]string{string(humanLongDouble(lon)), string(humanLongDouble(lat))}; got != c.pos {
			t.Errorf("position(%.0f) = %q, want %q", s, got, c.pos)
		}
		if got := string(geoHashString(s)); got != c.hash {
			t.Errorf("geohash(%.0f) = %q, want %q", s, got, c.hash)
		}
	}
	lon1, lat1 := geoPosition(3479099956230698)
	lon2, lat2 := geoPosition(3479447370796909)
	if got := string(formatDistance(geoDistance(lon1, lat1, lon2, lat2))); got != "166274.1516" {
		t.Errorf("Palermo-Catania = %s m, want 166274.1516", got)
	}
}

// TestGeohashNeighbors checks that the eight neighbours of a cell touch
// it, and that moving east then west (north then south) returns to it.
func TestGeohashNeighbors(t *testing.T) {
	for _, step := range []uint8{1, 2, 5, 13, 26} {
		h, _ := geoEncode(geoLonRange, geoLatRange, 13.36, 38.11, step)
		n := geoNeighbors(h)
		if geoMoveX(n[cellEast], -1) != h || geoMoveY(n[cellNorth], -1) != h || geoMoveY(geoMoveX(n[cellSouthWest], 1), 1) != h {
			t.Fatalf("step %d: moves do not return to the cell", step)
		}
		a := geoDecode(geoLonRange, geoLatRange, h)
		if e := geoDecode(geoLonRange, geoLatRange, n[cellEast]); step > 1 && e.lon.min != a.lon.max {
			t.Fatalf("step %d: east cell starts at %v, cell ends at %v", step, e.lon.min, a.lon.max)
		}
		if no := geoDecode(geoLonRange, geoLatRange, n[cellNorth]); step > 1 && math.Abs(no.lat.min-a.lat.max) > 1e-9 {
			t.Fatalf("step %d: north cell starts at %v, cell ends at %v", step, no.lat.min, a.lat.max)
		}
	}
}

// TestGeoCommands runs the geo commands on a keyspace: GEOADD's options,
// searches by radius and box, STORE.
func TestGeoCommands(t *testing.T) {
	ks := newTestKeyspace(t)
	want := func(got any, w string) {
		t.Helper()
		if s := sprintReply(got); s != w {
			t.Fatalf("got %s, want %s", s, w)
		}
	}
	want(run(t, ks, "geoadd", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"), "2")
	want(run(t, ks, "geoadd", "Sicily", "NX", "CH", "13", "38", "Palermo", "12.758489", "38.788135", "edge1"), "1")
	want(run(t, ks, "geoadd", "Sicily", "XX", "CH", "13.361389", "38.115556", "Palermo", "1", "1", "new"), "0")
	want(run(t, ks, "geoadd", "Sicily", "NX", "XX", "1", "1", "x"), `"ERR syntax error"`)
	want(run(t, ks, "geoadd", "Sicily", "1", "100", "x"), `"ERR invalid longitude,latitude pair 1.000000,100.000000"`)
	want(run(t, ks, "geodist", "Sicily", "Palermo", "Catania", "km"), `"166.2742"`)
	want(run(t, ks, "geosearch", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "WITHDIST"),
		`[["Catania" "56.4413"] ["Palermo" "190.4424"]]`)
	want(run(t, ks, "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "DESC", "COUNT", "2"),
		`["Catania" "edge1"]`)
	want(run(t, ks, "georadius", "Sicily", "15", "37", "200", "km", "STOREDIST", "d"), "2")
	want(run(t, ks, "zrange", "d", "0", "-1", "withscores"), `["Catania" 56.441257870158204 "Palermo" 190.44242984775784]`)
	want(run(t, ks, "geosearch", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "ANY"), `"ERR the ANY argument requires COUNT argument"`)
}

// sprintReply renders a reply for comparison: strings quoted, numbers
// bare, arrays in brackets.
func sprintReply(r any) string {
	switch v := r.(type) {
	case []byte:
		return strconv.Quote(string(v))
	case DoubleText:
		return strconv.Quote(string(v))
	case Error:
		return strconv.Quote(string(v))
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return string(FormatFloat(v))
	case nil:
		return "nil"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = sprintReply(x)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case Pairs:
		return sprintReply([]any(v))
	}
	return fmt.Sprintf("%T(%v)", r, r)
}

// TestCorrectlyRoundedTrig checks the 128-bit sine, cosine and arcsine
// against Go's (within one unit in the last place, a few for arcsine)
// and at exact points.
func TestCorrectlyRoundedTrig(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ulps := func(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b)*0x1p-52, 0x1p-1074) }
	for range 2000 {
		x := (rng.Float64()*2 - 1) * 3.5
		if d := ulps(bigSin(x), math.Sin(x)); d > 1 {
			t.Fatalf("sin(%v) = %v, math.Sin %v", x, bigSin(x), math.Sin(x))
		}
		if d := ulps(bigCos(x), math.Cos(x)); d > 1 {
			t.Fatalf("cos(%v) = %v, math.Cos %v", x, bigCos(x), math.Cos(x))
		}
		a := x / 3.5
		if d := ulps(bigAsin(a), math.Asin(a)); d > 4 { // Go's Asin strays further near 1
			t.Fatalf("asin(%v) = %v, math.Asin %v", a, bigAsin(a), math.Asin(a))
		}
	}
	// Huge arguments, reduced with the wide pi/2: glibc's values (Go's
	// math.Sin strays at the largest double).
	for _, c := range []struct{ x, sin, cos float64 }{
		{0x1p20, 0.3304931400217347, 0.943808393901312},
		{1e6 + 0.5, 0.141954699000744, 0.9898731552232378},
		{1e22, -0.8522008497671888, 0.523214785395139},
		{-1e200, 0.6439687185395058, 0.7650518214752429},
		{1e300, -0.8178819121159085, -0.5753861119575491},
		{0x1p1023, 0.563127779850884, -0.826369834614148},
		{math.MaxFloat64, 0.004961954789184062, -0.9999876894265599},
	} {
		if s, c2 := bigSin(c.x), bigCos(c.x); s != c.sin || c2 != c.cos {
			t.Fatalf("sin, cos(%v) = %v, %v; glibc %v, %v", c.x, s, c2, c.sin, c.cos)
		}
	}
	if d := new(big.Float).Sub(piHalfWide, piHalfBig); d.Sign() != 0 && d.MantExp(nil) > -158 {
		t.Fatalf("the wide pi/2 differs from the short one by %v", d)
	}
	if m := machinPiHalf(); m.Cmp(piHalfWide) != 0 || piHalfWide.Prec() != reducePrec {
		t.Fatalf("the wide pi/2 is %s, Machin's formula says %s", piHalfWide.Text('p', 0), m.Text('p', 0))
	}
	if crSin(0) != 0 || crCos(0) != 1 || crAsin(1) != math.Pi/2 || crAsin(-1) != -math.Pi/2 || crSin(piDouble/6) != 0.49999999999999994 {
		t.Fatalf("exact points: sin 0 %v, cos 0 %v, asin 1 %v, sin pi/6 %v", crSin(0), crCos(0), crAsin(1), crSin(math.Pi/6))
	}
}

// TestDoubleDoubleTrig checks the double-double sine, cosine and arcsine
// against the 128-bit ones: the same double whenever they answer, and an
// answer nearly always. The inputs are those of geo distances (half
// differences of radians, latitudes, square roots of haversines), whole
// degrees (near multiples of pi/2) and tiny values.
func TestDoubleDoubleTrig(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var xs, as []float64
	for d := -360; d <= 360; d++ {
		xs = append(xs, degRad(float64(d)), degRad(float64(d))/2)
	}
	for range 2000 {
		lon1, lat1 := rng.Float64()*360-180, rng.Float64()*170-85
		lon2, lat2 := lon1+rng.NormFloat64()*math.Pow(10, rng.Float64()*5-4), lat1+rng.NormFloat64()*math.Pow(10, rng.Float64()*5-4)
		if rng.IntN(4) == 0 {
			lon2, lat2 = rng.Float64()*360-180, rng.Float64()*170-85
		}
		u, v := (degRad(lat2)-degRad(lat1))/2, (degRad(lon2)-degRad(lon1))/2
		xs = append(xs, u, v, degRad(lat1), math.Ldexp(rng.Float64(), -rng.IntN(60)))
		a := float64(bigSin(u)*bigSin(u)) + float64(float64(float64(bigCos(degRad(lat1))*bigCos(degRad(lat2)))*bigSin(v))*bigSin(v))
		as = append(as, math.Sqrt(math.Min(a, 1)), rng.Float64())
	}
	misses := 0
	check := func(name string, x float64, fast func(float64) (float64, bool), slow func(float64) float64) {
		got, ok := fast(x)
		if !ok {
			misses++
			return
		}
		if want := slow(x); got != want {
			t.Fatalf("%s(%v) = %v, want %v", name, x, got, want)
		}
	}
	for _, x := range xs {
		check("sin", x, ddSin, bigSin)
		check("cos", x, ddCos, bigCos)
	}
	for _, a := range as {
		check("asin", a, ddAsin, bigAsin)
	}
	t.Logf("%d misses", misses)
	if total := 2*len(xs) + len(as); misses > total/100 {
		t.Fatalf("%d of %d calls fell back to math/big", misses, total)
	}
}

// TestSortGeoPoints checks the partial sort: the first keep points are
// the nearest, in order, and no point is lost or repeated.
func TestSortGeoPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 500 {
		n := 1 + rng.IntN(300)
		keep := 1 + rng.IntN(n)
		points := make([]geoPoint, n)
		for i := range points {
			points[i] = geoPoint{dist: float64(rng.IntN(1 + rng.IntN(n))), score: float64(i)}
		}
		dir := 1 - 2*rng.IntN(2)
		want := slices.Clone(points)
		slices.SortStableFunc(want, func(a, b geoPoint) int { return dir * cmpDist(a.dist, b.dist) })
		sortGeoPoints(points, dir, int64(keep))
		seen := make([]bool, n)
		for i, p := range points {
			if i < keep && p.dist != want[i].dist {
				t.Fatalf("n %d keep %d dir %d: point %d at %v, want %v", n, keep, dir, i, p.dist, want[i].dist)
			}
			if seen[int(p.score)] {
				t.Fatalf("point %v twice", p.score)
			}
			seen[int(p.score)] = true
		}
	}
}

// machinPiHalf is pi/2 to reducePrec bits by Machin's formula:
// pi/4 = 4 atan(1/5) - atan(1/239).
func machinPiHalf() *big.Float {
	const prec = reducePrec + 64
	atanInv := func(n int64) *big.Float { // atan(1/n)
		sum := new(big.Float).SetPrec(prec)
		power := new(big.Float).SetPrec(prec).Quo(big.NewFloat(1), new(big.Float).SetInt64(n))
		nn := new(big.Float).SetPrec(prec).SetInt64(n * n)
		term := new(big.Float).SetPrec(prec)
		for k := int64(0); ; k++ {
			term.Quo(power, new(big.Float).SetInt64(2*k+1))
			if term.Sign() == 0 || term.MantExp(nil) < -prec-8 {
				break
			}
			if k%2 == 0 {
				sum.Add(sum, term)
			} else {
				sum.Sub(sum, term)
			}
			power.Quo(power, nn)
		}
		return sum
	}
	pi := new(big.Float).SetPrec(prec).Mul(big.NewFloat(8), atanInv(5))
	pi.Sub(pi, new(big.Float).SetPrec(prec).Mul(big.NewFloat(2), atanInv(239)))
	return pi.SetPrec(reducePrec) // 2 (4 atan(1/5) - atan(1/239)) = pi/2
}
