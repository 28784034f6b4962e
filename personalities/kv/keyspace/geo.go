package keyspace

import (
	"bytes"
	"strconv"
)

// Geo commands. A geo set is a sorted set whose scores are 52-bit
// geohashes (geohash.go), so the sorted-set commands read and change it
// too. GEOADD is ZADD with computed scores; a search scans the score
// ranges of the nine cells around its center and keeps the points inside
// its circle or box, as Redis 7.0's geo.c does, in the same order.

func init() {
	ro := []string{"readonly"}
	wm := []string{"write", "denyoom", "movablekeys"}
	register(singleKey(&Command{Spec: Spec{Name: "geoadd", Arity: -5, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, check: checkGeoadd, exec: execGeoadd}))
	register(singleKey(&Command{Spec: Spec{Name: "geodist", Arity: -4, Flags: ro}, Kind: KindRead, exec: execGeodist}))
	register(singleKey(&Command{Spec: Spec{Name: "geohash", Arity: -2, Flags: ro}, Kind: KindRead, exec: execGeohash}))
	register(singleKey(&Command{Spec: Spec{Name: "geopos", Arity: -2, Flags: ro}, Kind: KindRead, exec: execGeopos}))
	register(singleKey(&Command{Spec: Spec{Name: "georadius", Arity: -6, Flags: wm}, Kind: KindWrite, exec: execGeoSearch(1, geoFromCoords)}))
	register(singleKey(&Command{Spec: Spec{Name: "georadius_ro", Arity: -6, Flags: ro}, Kind: KindRead, exec: execGeoSearch(1, geoFromCoords|geoNoStore)}))
	register(singleKey(&Command{Spec: Spec{Name: "georadiusbymember", Arity: -5, Flags: wm}, Kind: KindWrite, exec: execGeoSearch(1, geoFromMember)}))
	register(singleKey(&Command{Spec: Spec{Name: "georadiusbymember_ro", Arity: -5, Flags: ro}, Kind: KindRead, exec: execGeoSearch(1, geoFromMember|geoNoStore)}))
	register(singleKey(&Command{Spec: Spec{Name: "geosearch", Arity: -7, Flags: ro}, Kind: KindRead, exec: execGeoSearch(1, geoSearchArgs)}))
	register(&Command{Spec: Spec{Name: "geosearchstore", Arity: -8, FirstKey: 1, LastKey: 2, Step: 1, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, exec: execGeoSearch(2, geoSearchArgs|geoSearchStore)})
}

// GEOADD.

// geoaddToZadd turns GEOADD key [NX|XX] [CH] lon lat member ... into the
// ZADD line Redis runs for it, with Redis's errors in its order.
func geoaddToZadd(args [][]byte) ([][]byte, error) {
	var nx, xx bool
	at := 2
options:
	for ; at < len(args); at++ {
		switch a := args[at]; {
		case EqFold(a, "nx"):
			nx = true
		case EqFold(a, "xx"):
			xx = true
		case EqFold(a, "ch"):
		default:
			break options
		}
	}
	if (len(args)-at)%3 != 0 || (nx && xx) {
		return nil, ErrSyntax
	}
	zargs := append([][]byte{[]byte("zadd")}, args[1:at]...)
	for i := at; i < len(args); i += 3 {
		lon, lat, err := parseLonLat(args[i], args[i+1])
		if err != nil {
			return nil, err
		}
		zargs = append(zargs, formatInt(int64(geoScore(lon, lat))), args[i+2])
	}
	if _, err := parseZadd(zargs, false); err != nil {
		return nil, err
	}
	return zargs, nil
}

func checkGeoadd(args [][]byte) error {
	_, err := geoaddToZadd(args)
	return err
}

var geoZadd = execZadd(false)

func execGeoadd(ks *Keyspace, args [][]byte) (any, error) {
	zargs, err := geoaddToZadd(args)
	if err != nil {
		return nil, err
	}
	return geoZadd(ks, zargs)
}

// parseLonLat is extractLongLatOrReply: two floats within the limits.
func parseLonLat(lonArg, latArg []byte) (lon, lat float64, err error) {
	var ok bool
	if lon, ok = parseScore(lonArg); !ok {
		return 0, 0, errNotFloat
	}
	if lat, ok = parseScore(latArg); !ok {
		return 0, 0, errNotFloat
	}
	if lon < geoLonMin || lon > geoLonMax || lat < geoLatMin || lat > geoLatMax {
		return 0, 0, Error("ERR invalid longitude,latitude pair " + formatCFloat(lon) + "," + formatCFloat(lat))
	}
	return lon, lat, nil
}

// formatCFloat is C's printf("%f").
func formatCFloat(f float64) string {
	switch {
	case f > 1.7976931348623157e308:
		return "inf"
	case f < -1.7976931348623157e308:
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}

// parseUnit is extractUnitOrReply: the meters in one unit.
func parseUnit(b []byte) (float64, error) {
	switch {
	case EqFold(b, "m"):
		return 1, nil
	case EqFold(b, "km"):
		return 1000, nil
	case EqFold(b, "ft"):
		return 0.3048, nil
	case EqFold(b, "mi"):
		return 1609.34, nil
	}
	return 0, Error("ERR unsupported unit provided. please use M, KM, FT, MI")
}

// parseRadius is extractDistanceOrReply: radius unit.
func parseRadius(args [][]byte, s *geoShape) error {
	r, ok := parseScore(args[0])
	if !ok {
		return Error("ERR need numeric radius")
	}
	if r < 0 {
		return Error("ERR radius cannot be negative")
	}
	conv, err := parseUnit(args[1])
	if err != nil {
		return err
	}
	s.radius, s.conversion, s.box = r, conv, false
	return nil
}

// parseBox is extractBoxOrReply: width height unit.
func parseBox(args [][]byte, s *geoShape) error {
	w, ok := parseScore(args[0])
	if !ok {
		return Error("ERR need numeric width")
	}
	h, ok := parseScore(args[1])
	if !ok {
		return Error("ERR need numeric height")
	}
	if h < 0 || w < 0 {
		return Error("ERR height or width cannot be negative")
	}
	conv, err := parseUnit(args[2])
	if err != nil {
		return err
	}
	s.width, s.height, s.conversion, s.box = w, h, conv, true
	return nil
}

// formatDistance is addReplyDoubleDistance: four decimals.
func formatDistance(d float64) []byte { return strconv.AppendFloat(nil, d, 'f', 4, 64) }

// memberPosition is longLatFromMember.
func (z *zset) memberPosition(member []byte) (lon, lat float64, ok bool, err error) {
	s, found, err := z.score(member)
	if err != nil || !found {
		return 0, 0, false, err
	}
	lon, lat = geoPosition(s)
	return lon, lat, true, nil
}

// GEODIST, GEOHASH, GEOPOS.

func execGeodist(ks *Keyspace, args [][]byte) (any, error) {
	toMeter := 1.0
	switch {
	case len(args) == 5:
		var err error
		if toMeter, err = parseUnit(args[4]); err != nil {
			return nil, err
		}
	case len(args) > 5:
		return nil, ErrSyntax
	}
	z, err := openZSet(ks, args[1])
	if err != nil || !z.exists {
		return nil, err
	}
	lon1, lat1, ok1, err := z.memberPosition(args[2])
	if err != nil || !ok1 {
		return nil, err
	}
	lon2, lat2, ok2, err := z.memberPosition(args[3])
	if err != nil || !ok2 {
		return nil, err
	}
	return formatDistance(geoDistance(lon1, lat1, lon2, lat2) / toMeter), nil
}

func execGeohash(ks *Keyspace, args [][]byte) (any, error) {
	z, err := openZSet(ks, args[1])
	if err != nil {
		return nil, err
	}
	return z.mapScores(args[2:], func(s float64, found bool) any {
		if !found {
			return nil
		}
		return geoHashString(s)
	})
}

func execGeopos(ks *Keyspace, args [][]byte) (any, error) {
	z, err := openZSet(ks, args[1])
	if err != nil {
		return nil, err
	}
	return z.mapScores(args[2:], func(s float64, found bool) any {
		if !found {
			return NullArray{}
		}
		lon, lat := geoPosition(s)
		return []any{DoubleText(humanLongDouble(lon)), DoubleText(humanLongDouble(lat))}
	})
}

// GEORADIUS, GEORADIUSBYMEMBER, their _RO forms, GEOSEARCH and
// GEOSEARCHSTORE: Redis's georadiusGeneric.

const (
	geoFromCoords  = 1 << iota // GEORADIUS key lon lat radius unit
	geoFromMember              // GEORADIUSBYMEMBER key member radius unit
	geoNoStore                 // no STORE or STOREDIST (the _RO forms)
	geoSearchArgs              // GEOSEARCH's FROM... and BY... options
	geoSearchStore             // GEOSEARCHSTORE dst src ... [STOREDIST]
)

// geoSearchRequest is a parsed search.
type geoSearchRequest struct {
	shape                          geoShape
	store                          []byte // nil: reply with the points
	storeEvent                     string // the keyspace event of a store
	storeDist                      bool
	withDist, withHash, withCoords bool
	sort                           int // 0 none, 1 ascending, -1 descending
	any                            bool
	count                          int64 // 0: all
}

// geoPoint is a point a search found.
type geoPoint struct {
	member         []byte
	score          float64
	lon, lat, dist float64
}

func execGeoSearch(src, flags int) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		z, err := openZSet(ks, args[src])
		if err != nil {
			return nil, err
		}
		if !z.exists {
			ks.missed(args[src]) // the STORE forms, at apply
		}
		req, err := parseGeoSearch(z, args, flags)
		if err != nil {
			return nil, err
		}
		if !z.exists {
			if req.store != nil {
				return ks.zstore(req.store, nil, req.storeEvent)
			}
			return []any{}, nil
		}
		limit := int64(0)
		if req.any {
			limit = req.count
		}
		points, err := z.geoScan(&req.shape, limit)
		if err != nil {
			return nil, err
		}
		if len(points) == 0 && req.store == nil {
			return []any{}, nil
		}
		if req.sort != 0 {
			sortGeoPoints(points, req.sort, req.count)
		}
		if req.count > 0 && int64(len(points)) > req.count {
			points = points[:req.count]
		}
		if req.store != nil {
			return ks.geoStore(req, points)
		}
		return req.reply(points), nil
	}
}

// parseGeoSearch reads a search's center, shape and options, in Redis's
// order: the member a search starts from is looked up in z as parsing
// reaches it.
func parseGeoSearch(z *zset, args [][]byte, flags int) (*geoSearchRequest, error) {
	req := &geoSearchRequest{}
	s := &req.shape
	var base int
	switch {
	case flags&geoFromCoords != 0:
		base = 6
		lon, lat, err := parseLonLat(args[2], args[3])
		if err != nil {
			return nil, err
		}
		s.lon, s.lat = lon, lat
		if err := parseRadius(args[4:6], s); err != nil {
			return nil, err
		}
	case flags&geoFromMember != 0 && !z.exists:
		base = 5 // parse the options for the reply's sake only
	case flags&geoFromMember != 0:
		base = 5
		if err := z.searchFrom(args[2], s); err != nil {
			return nil, err
		}
		if err := parseRadius(args[3:5], s); err != nil {
			return nil, err
		}
	case flags&geoSearchStore != 0:
		base = 3
		req.store, req.storeEvent = args[1], "geosearchstore"
	default:
		base = 2
	}
	search := flags&geoSearchArgs != 0
	storeOK := flags&(geoNoStore|geoSearchArgs) == 0
	var fromMember, fromLonLat, byRadius, byBox bool
	for i := base; i < len(args); i++ {
		left := len(args) - i - 1
		switch a := args[i]; {
		case EqFold(a, "withdist"):
			req.withDist = true
		case EqFold(a, "withhash"):
			req.withHash = true
		case EqFold(a, "withcoord"):
			req.withCoords = true
		case EqFold(a, "any"):
			req.any = true
		case EqFold(a, "asc"):
			req.sort = 1
		case EqFold(a, "desc"):
			req.sort = -1
		case EqFold(a, "count") && left >= 1:
			n, ok := ParseInt(args[i+1])
			if !ok {
				return nil, ErrNotInteger
			}
			if n <= 0 {
				return nil, Error("ERR COUNT must be > 0")
			}
			req.count = n
			i++
		case (EqFold(a, "store") || EqFold(a, "storedist")) && left >= 1 && storeOK:
			req.store, req.storeDist = args[i+1], len(a) == len("storedist")
			req.storeEvent = "georadiusstore"
			i++
		case EqFold(a, "storedist") && flags&geoSearchStore != 0:
			req.storeDist = true
		case EqFold(a, "frommember") && left >= 1 && search && !fromLonLat:
			if z.exists {
				if err := z.searchFrom(args[i+1], s); err != nil {
					return nil, err
				}
			}
			fromMember = true
			i++
		case EqFold(a, "fromlonlat") && left >= 2 && search && !fromMember:
			lon, lat, err := parseLonLat(args[i+1], args[i+2])
			if err != nil {
				return nil, err
			}
			s.lon, s.lat = lon, lat
			fromLonLat = true
			i += 2
		case EqFold(a, "byradius") && left >= 2 && search && !byBox:
			if err := parseRadius(args[i+1:i+3], s); err != nil {
				return nil, err
			}
			byRadius = true
			i += 2
		case EqFold(a, "bybox") && left >= 3 && search && !byRadius:
			if err := parseBox(args[i+1:i+4], s); err != nil {
				return nil, err
			}
			byBox = true
			i += 3
		default:
			return nil, ErrSyntax
		}
	}
	switch {
	case req.store != nil && (req.withDist || req.withHash || req.withCoords):
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		return nil, Error("ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
	case search && !fromMember && !fromLonLat:
		return nil, Errorf("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s", args[0])
	case search && !byRadius && !byBox:
		return nil, Errorf("ERR exactly one of BYRADIUS and BYBOX can be specified for %s", args[0])
	case req.any && req.count == 0:
		return nil, Error("ERR the ANY argument requires COUNT argument")
	}
	if req.count != 0 && req.sort == 0 && !req.any {
		req.sort = 1
	}
	return req, nil
}

// searchFrom centers s on member's position.
func (z *zset) searchFrom(member []byte, s *geoShape) error {
	lon, lat, ok, err := z.memberPosition(member)
	if err != nil {
		return err
	}
	if !ok {
		return Error("ERR could not decode requested zset member")
	}
	s.lon, s.lat = lon, lat
	return nil
}

// geoScan is membersOfAllNeighbors: the points of the cells around the
// shape's center that lie inside it, cell by cell in Redis's order and
// in score order within a cell, stopping once limit (if not 0) points
// are found.
func (z *zset) geoScan(s *geoShape, limit int64) ([]geoPoint, error) {
	var points []geoPoint
	full := func() bool { return limit > 0 && int64(len(points)) >= limit }
	cells := s.cells()
	last := 0
	for i, cell := range cells {
		if cell.zero() || (last != 0 && cell == cells[last]) {
			continue
		}
		if full() {
			break
		}
		next := cell
		next.bits++
		r := scoreRange{min: float64(cell.align52()), max: float64(next.align52()), maxex: true}
		err := z.walkScore(r, false, func(member []byte, score float64) bool {
			lon, lat := geoPosition(score)
			if d, in := s.contains(lon, lat); in {
				points = append(points, geoPoint{bytes.Clone(member), score, lon, lat, d})
			}
			return !full()
		})
		if err != nil {
			return nil, err
		}
		last = i
	}
	return points, nil
}

// reply renders the points, distances in the search's unit.
func (req *geoSearchRequest) reply(points []geoPoint) []any {
	out := make([]any, 0, len(points))
	for _, p := range points {
		if !req.withDist && !req.withHash && !req.withCoords {
			out = append(out, p.member)
			continue
		}
		item := []any{p.member}
		if req.withDist {
			item = append(item, formatDistance(p.dist/req.shape.conversion))
		}
		if req.withHash {
			item = append(item, int64(p.score))
		}
		if req.withCoords {
			item = append(item, []any{DoubleText(humanLongDouble(p.lon)), DoubleText(humanLongDouble(p.lat))})
		}
		out = append(out, item)
	}
	return out
}

// geoStore replaces the search's destination by a sorted set of the
// points, scored by geohash or (STOREDIST) by distance in the search's
// unit, and returns their number. A point found twice is stored once.
func (ks *Keyspace) geoStore(req *geoSearchRequest, points []geoPoint) (any, error) {
	items := make([]scored, 0, len(points))
	seen := make(map[string]bool, len(points))
	for _, p := range points {
		if seen[string(p.member)] {
			continue
		}
		seen[string(p.member)] = true
		score := p.score
		if req.storeDist {
			score = p.dist / req.shape.conversion
		}
		items = append(items, scored{p.member, score})
	}
	if _, err := ks.zstore(req.store, items, req.storeEvent); err != nil {
		return nil, err
	}
	return int64(len(points)), nil
}
