package conformance

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// geoCities are places around the world, the antimeridian and the polar
// circles included: lon lat name triples for GEOADD.
const geoCities = "13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.496366 41.902783 Rome " +
	"2.352222 48.856613 Paris -0.127758 51.507351 London -74.005974 40.712776 NewYork " +
	"139.691706 35.689487 Tokyo 151.209296 -33.868820 Sydney -46.633309 -23.550520 SaoPaulo " +
	"18.424055 -33.924870 CapeTown -21.817439 64.126521 Reykjavik -149.900278 61.218056 Anchorage " +
	"174.763332 -36.848460 Auckland 178.065 -17.713 Fiji -171.75 -13.83 Apia 166.6863 -77.8419 McMurdo " +
	"15.6356 78.2232 Longyearbyen -62.3481 82.5018 Alert -157.858333 21.306944 Honolulu " +
	"-78.467838 -0.180653 Quito 103.819836 1.352083 Singapore 0 0 NullIsland"

// geoScript exercises every geo command against redis-server: positions,
// hashes and distances of cities around the world and at the limits,
// searches by radius and by box with every option, STORE, and every
// error. Searches without ASC, DESC or COUNT (whose order Redis leaves to
// its cell scan) only ever find one point, or none.
var geoScript = strings.Join([]string{
	"FLUSHALL",
	// GEOADD: options, invalid pairs, arity; the scores are geohashes.
	"GEOADD world " + geoCities, "ZCARD world", "ZRANGE world 0 -1 WITHSCORES", "ZSCORE world Paris",
	"GEOADD world NX 2.35 48.85 Paris 1 1 nx1", "GEOADD world XX 2.35 48.85 Paris 2 2 xx1", "ZSCORE world Paris",
	"GEOADD world XX CH 2.352222 48.856613 Paris 3 3 xx2", "GEOADD world CH nx 4 4 nx1 5 5 nx2", "GEOADD world ch xx ch 5 5 nx1",
	"GEOADD world NX XX 1 1 a", "GEOADD world XX NX 1 1 a", "GEOADD world GT 1 1 a", "GEOADD world 1 1 a 2", "GEOADD world ch ch ch",
	"GEOADD world 1 1", "GEOADD world", "GEOADD world 181 0 bad", "GEOADD world -180.0000001 0 bad", "GEOADD world 0 85.05112879 bad",
	"GEOADD world 0 -85.05112879 bad", "GEOADD world 1 1 ok 200 100 bad", "GEOADD world x 1 bad", "GEOADD world 1 y bad",
	"GEOADD world inf 0 bad", "GEOADD world 0 -inf bad", "GEOADD world nan 0 bad", `GEOADD world " 1" 0 bad`, "GEOADD world 1e400 0 bad",
	"GEOADD world -0 -0 negzero", "GEOADD world 0x10 1e1 hex", "EXISTS bad", "ZSCORE world ok",
	// The limits: the poles' latitudes and the antimeridian.
	"GEOADD poles 180 85.05112878 ne -180 -85.05112878 sw 0 85.05112878 n 0 -85.05112878 s -180 0 w 180 0 e",
	"ZRANGE poles 0 -1 WITHSCORES", "GEOPOS poles ne sw n s w e", "GEOHASH poles ne sw n s w e",
	"GEODIST poles n s km", "GEODIST poles w e", "GEODIST poles ne sw mi",
	"GEOSEARCH poles FROMMEMBER n BYRADIUS 100 km ASC WITHCOORD WITHDIST WITHHASH",
	"GEOSEARCH poles FROMLONLAT 179.9 0 BYRADIUS 50 km ASC WITHDIST",
	"GEOSEARCH poles FROMLONLAT -179.99 0.1 BYBOX 100 100 km ASC WITHDIST",
	// GEOPOS, GEOHASH.
	"GEOPOS world Palermo Tokyo nosuch Sydney NullIsland negzero hex", "GEOPOS world", "GEOPOS nokey a b", "GEOPOS nokey",
	"GEOHASH world Palermo Catania Tokyo nosuch SaoPaulo McMurdo Alert Apia Fiji", "GEOHASH world", "GEOHASH nokey a", "GEOHASH",
	// GEODIST: units in any case, missing members and keys, arity.
	"GEODIST world Palermo Catania", "GEODIST world Palermo Catania m", "GEODIST world Palermo Catania KM",
	"GEODIST world Palermo Catania ft", "GEODIST world Palermo Catania Mi", "GEODIST world Paris London km",
	"GEODIST world NewYork Tokyo km", "GEODIST world Sydney SaoPaulo mi", "GEODIST world Fiji Apia km",
	"GEODIST world McMurdo Alert km", "GEODIST world Quito Singapore", "GEODIST world Palermo Palermo",
	"GEODIST world Palermo nosuch", "GEODIST world nosuch Palermo km", "GEODIST nokey a b", "GEODIST nokey a b yd",
	"GEODIST world Palermo Catania yd", "GEODIST world Palermo Catania km x", "GEODIST world Palermo", "GEODIST world Palermo Catania meters",
	// GEOSEARCH by radius and by box, sorted.
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 500 km ASC", "GEOSEARCH world FROMMEMBER Palermo BYRADIUS 500 km DESC",
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 2000 km ASC WITHDIST", "GEOSEARCH world FROMMEMBER Palermo BYRADIUS 2000 km DESC WITHCOORD",
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 2000 km ASC WITHHASH", "GEOSEARCH world FROMMEMBER Palermo BYRADIUS 1200 mi ASC WITHCOORD WITHDIST WITHHASH",
	"GEOSEARCH world FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHDIST WITHCOORD", "GEOSEARCH world FROMLONLAT 15 37 BYRADIUS 200000 m ASC WITHDIST",
	"GEOSEARCH world FROMLONLAT 15 37 BYRADIUS 656168 ft DESC WITHDIST", "GEOSEARCH world FROMLONLAT 15 37 BYRADIUS 100 km WITHDIST",
	"GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 0 m WITHDIST", "GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 1 m WITHDIST WITHCOORD",
	"GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 10000 km ASC", "GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 25000 km ASC WITHDIST",
	"GEOSEARCH world FROMLONLAT 100 -50 BYRADIUS 20000 km DESC WITHDIST", "GEOSEARCH world FROMLONLAT 170 70 BYRADIUS 8000 km ASC WITHDIST",
	"GEOSEARCH world FROMMEMBER Fiji BYRADIUS 3000 km ASC WITHDIST", "GEOSEARCH world FROMMEMBER Alert BYRADIUS 2500 km ASC WITHDIST",
	"GEOSEARCH world FROMMEMBER McMurdo BYRADIUS 5000 km ASC WITHDIST",
	"GEOSEARCH world FROMMEMBER Palermo BYBOX 400 400 km ASC WITHDIST", "GEOSEARCH world FROMMEMBER Palermo BYBOX 4000 400 km ASC WITHDIST",
	"GEOSEARCH world FROMMEMBER Palermo BYBOX 400 4000 km DESC WITHCOORD", "GEOSEARCH world FROMLONLAT 0 45 BYBOX 5000 5000 km ASC WITHDIST WITHHASH",
	"GEOSEARCH world FROMLONLAT 0 45 BYBOX 3000 2000 mi ASC", "GEOSEARCH world FROMLONLAT 179 -25 BYBOX 4000 4000 km ASC WITHDIST",
	"GEOSEARCH world FROMLONLAT 0 0 BYBOX 0 0 km", "GEOSEARCH world FROMLONLAT 0 0 BYBOX 40000 20000 km ASC",
	"GEOSEARCH world FROMLONLAT 15 37 BYBOX 300 300 km WITHDIST",
	// COUNT, with and without ANY, and sorting.
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 2000 km COUNT 2", "GEOSEARCH world FROMMEMBER Palermo BYRADIUS 2000 km COUNT 2 DESC",
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 2000 km COUNT 100 WITHDIST", "GEOSEARCH world FROMMEMBER Palermo BYRADIUS 20000 km COUNT 3 ASC WITHDIST",
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 20000 km COUNT 3 DESC WITHDIST", "GEOSEARCH world FROMMEMBER Palermo BYRADIUS 2000 km COUNT 1 ANY",
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 2000 km COUNT 2 ANY ASC WITHDIST", "GEOSEARCH world FROMMEMBER Palermo BYRADIUS 2000 km ANY COUNT 2 DESC",
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 20000 km COUNT 3 ANY ASC", "GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 20000 km COUNT 5 ANY DESC WITHDIST",
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 2000 km COUNT 2 COUNT 3 ASC DESC", "GEOSEARCH world FROMMEMBER Palermo BYBOX 2000 2000 km COUNT 1 WITHCOORD",
	// GEOSEARCH errors, in Redis's order.
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 10 km COUNT 0", "GEOSEARCH world FROMMEMBER Palermo BYRADIUS 10 km COUNT -1",
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 10 km COUNT x", "GEOSEARCH world FROMMEMBER Palermo BYRADIUS 10 km COUNT",
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS 10 km ANY", "GEOSEARCH world FROMMEMBER Palermo BYRADIUS 10 yd",
	"GEOSEARCH world FROMMEMBER Palermo BYRADIUS -1 km", "GEOSEARCH world FROMMEMBER Palermo BYRADIUS x km",
	"GEOSEARCH world FROMMEMBER Palermo BYBOX x 1 km", "GEOSEARCH world FROMMEMBER Palermo BYBOX 1 x km", "GEOSEARCH world FROMMEMBER Palermo BYBOX -1 1 km",
	"GEOSEARCH world FROMMEMBER Palermo BYBOX 1 -1 km", "GEOSEARCH world FROMMEMBER Palermo BYBOX 1 1 yd", "GEOSEARCH world FROMMEMBER Palermo BYBOX 1 1",
	"GEOSEARCH world FROMMEMBER nosuch BYRADIUS 10 km", "GEOSEARCH world FROMLONLAT 200 0 BYRADIUS 10 km", "GEOSEARCH world FROMLONLAT x 0 BYRADIUS 10 km",
	"GEOSEARCH world FROMMEMBER Palermo FROMLONLAT 0 0 BYRADIUS 10 km", "GEOSEARCH world FROMLONLAT 0 0 FROMMEMBER Palermo BYRADIUS 10 km",
	"GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 10 km BYBOX 1 1 km", "GEOSEARCH world FROMLONLAT 0 0 BYBOX 1 1 km BYRADIUS 10 km",
	"GEOSEARCH world FROMLONLAT 0 0 COUNT 1 ASC", "geosearch world FROMLONLAT 0 0 COUNT 1 asc", "GEOSEARCH world BYRADIUS 10 km ASC",
	"GeoSearch world BYRADIUS 10 km ASC", "GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 10 km STORE x", "GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 10 km STOREDIST",
	"GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 10 km FOO", "GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 10", "GEOSEARCH world FROMLONLAT 0 BYRADIUS 10 km",
	"GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 10 km WITHDIST COUNT 0", "GEOSEARCH world FROMMEMBER",
	"GEOSEARCH nokey FROMMEMBER a BYRADIUS 10 km", "GEOSEARCH nokey FROMLONLAT 0 0 BYRADIUS 10 km ASC", "GEOSEARCH nokey FROMMEMBER a BYRADIUS 10 km FOO",
	"GEOSEARCH nokey FROMMEMBER a BYRADIUS 10 km COUNT 0", "GEOSEARCH nokey BYRADIUS 10 km ASC COUNT 1",
	// GEORADIUS, GEORADIUSBYMEMBER and their _RO forms.
	"GEORADIUS world 15 37 200 km ASC", "GEORADIUS world 15 37 200 km DESC WITHDIST WITHCOORD WITHHASH", "GEORADIUS world 15 37 100 km",
	"GEORADIUS world 15 37 2000 km COUNT 3", "GEORADIUS world 15 37 2000 km COUNT 3 ANY DESC", "GEORADIUS_RO world 15 37 200 km ASC WITHDIST",
	"GEORADIUS_RO world 15 37 200 mi DESC", "GEORADIUSBYMEMBER world Rome 1000 km ASC WITHDIST", "GEORADIUSBYMEMBER_RO world Rome 1000 km DESC COUNT 2",
	"GEORADIUSBYMEMBER world Rome 1 km WITHCOORD", "GEORADIUSBYMEMBER_RO world Tokyo 10000 km ASC WITHDIST",
	"GEORADIUS world 200 37 200 km", "GEORADIUS world 15 37 -1 km", "GEORADIUS world 15 37 x km", "GEORADIUS world 15 37 1 yd", "GEORADIUS world 15 37 1",
	"GEORADIUS world 15 37 200 km ANY", "GEORADIUS world 15 37 200 km COUNT 0", "GEORADIUS world 15 37 200 km FROMLONLAT 1 1",
	"GEORADIUS world 15 37 200 km BYRADIUS 1 km", "GEORADIUS world 15 37 200 km STORE", "GEORADIUS_RO world 15 37 200 km STORE dst",
	"GEORADIUS_RO world 15 37 200 km STOREDIST dst", "GEORADIUSBYMEMBER world nosuch 10 km", "GEORADIUSBYMEMBER world Rome x km",
	"GEORADIUSBYMEMBER world Rome 10 km FOO", "GEORADIUSBYMEMBER_RO world Rome 10 km STORE dst", "GEORADIUSBYMEMBER world Rome 10",
	"GEORADIUS nokey 0 0 10 km", "GEORADIUS nokey 0 0 x km", "GEORADIUSBYMEMBER nokey a 10 km", "GEORADIUSBYMEMBER nokey a x yd ASC",
	"GEORADIUSBYMEMBER nokey a 10 km FOO", "GEORADIUSBYMEMBER_RO nokey a 10 km",
	// STORE, STOREDIST and GEOSEARCHSTORE; the destination is replaced,
	// or deleted when nothing is found.
	"GEORADIUS world 15 37 200 km STORE dst", "ZRANGE dst 0 -1 WITHSCORES", "GEORADIUS world 15 37 200 km STOREDIST dst",
	"ZRANGE dst 0 -1 WITHSCORES", "GEORADIUS world 15 37 2000 km COUNT 2 DESC STORE dst", "ZRANGE dst 0 -1 WITHSCORES",
	"GEORADIUS world 15 37 200 km STORE dst WITHDIST", "GEORADIUS world 15 37 200 km WITHHASH STOREDIST dst", "GEORADIUS world 15 37 200 km STORE dst WITHCOORD",
	"GEORADIUSBYMEMBER world Rome 1000 mi STOREDIST dst2", "ZRANGE dst2 0 -1 WITHSCORES", "SET strdst x EX 100",
	"GEORADIUS world 15 37 200 km STORE strdst", "TYPE strdst", "TTL strdst", "GEORADIUS world 15 37 1 km STORE strdst", "EXISTS strdst",
	"GEORADIUS nokey 15 37 200 km STORE dst2", "EXISTS dst2", "GEORADIUSBYMEMBER nokey a 10 km STORE dst", "EXISTS dst",
	"GEOSEARCHSTORE dst world FROMMEMBER Palermo BYRADIUS 2000 km", "ZRANGE dst 0 -1 WITHSCORES",
	"GEOSEARCHSTORE dst world FROMMEMBER Palermo BYRADIUS 2000 km STOREDIST", "ZRANGE dst 0 -1 WITHSCORES",
	"GEOSEARCHSTORE dst world FROMLONLAT 0 45 BYBOX 3000 3000 km COUNT 2 DESC STOREDIST", "ZRANGE dst 0 -1 WITHSCORES",
	"GEOSEARCHSTORE dst world FROMLONLAT 0 45 BYBOX 3000 3000 mi ASC COUNT 3 ANY", "ZRANGE dst 0 -1 WITHSCORES",
	"GEOSEARCHSTORE world world FROMMEMBER Palermo BYRADIUS 500 km", "ZRANGE world 0 -1",
	"GEOSEARCHSTORE dst nokey FROMMEMBER a BYRADIUS 10 km", "EXISTS dst",
	"GEOSEARCHSTORE dst world FROMMEMBER Palermo BYRADIUS 10 km WITHDIST", "GEOSEARCHSTORE dst world FROMMEMBER Palermo BYRADIUS 10 km STORE x",
	"GEOSEARCHSTORE dst world FROMMEMBER Palermo", "GEOSEARCHSTORE dst world BYRADIUS 10 km", "GEOSEARCHSTORE dst world FROMLONLAT 0 0 BYRADIUS 10 km",
	"EXISTS dst", "GEOSEARCHSTORE dst world FROMMEMBER Palermo BYRADIUS 10", "GEOSEARCHSTORE dst world",
	// Wrong type; syntax errors of GEOADD come first, and a member
	// search's errors come after the type's.
	"SET str x", "GEOADD str 1 1 a", "GEOADD str 1 1", "GEOADD str 200 1 a", "GEOPOS str a", "GEOHASH str a", "GEODIST str a b",
	"GEODIST str a b yd", "GEOSEARCH str FROMLONLAT 0 0 BYRADIUS 1 km", "GEOSEARCH str FROMMEMBER a BYRADIUS x km",
	"GEORADIUS str 0 0 1 km", "GEORADIUS str 200 0 1 km", "GEORADIUSBYMEMBER str a 1 km", "GEORADIUSBYMEMBER_RO str a x km FOO",
	"GEOSEARCHSTORE dst str FROMLONLAT 0 0 BYRADIUS 1 km", "GEOSEARCHSTORE str world FROMMEMBER Palermo BYRADIUS 1 km", "TYPE str",
	// A sorted set's own scores read as positions.
	"ZADD plain 0 zero 1 one 4503599627370495 top -1 minus", "GEOPOS plain zero one top", "GEOHASH plain zero one top",
	"GEODIST plain zero top km", "GEORADIUS plain 0 0 20000 km ASC WITHHASH",
	// Ties in distance keep the scan's order, unless COUNT keeps fewer
	// than were found: then they fall as Redis's partial quicksort
	// leaves them.
	"GEOADD same 10 10 b 10 10 a 10 10 c 10.001 10 d", "GEOSEARCH same FROMLONLAT 10 10 BYRADIUS 1 km ASC WITHDIST",
	"GEOSEARCH same FROMLONLAT 10 10 BYRADIUS 1 km DESC WITHDIST", geoTies(),
	"GEOSEARCH ties FROMLONLAT 10 45.5 BYRADIUS 500 km ASC COUNT 10 WITHDIST", "GEOSEARCH ties FROMLONLAT 10.35 45.5 BYRADIUS 500 km DESC COUNT 25",
	"GEOSEARCH ties FROMLONLAT 10 45.5 BYRADIUS 500 km ASC COUNT 59", "GEOSEARCH ties FROMLONLAT 10.35 45.5 BYRADIUS 500 km ASC",
	"GEOSEARCH ties FROMLONLAT 10.35 45.5 BYRADIUS 500 km DESC", "GEORADIUS ties 10.35 45.5 500 km COUNT 3 DESC",
	"GEOSEARCHSTORE tdst ties FROMLONLAT 10 45.5 BYBOX 400 400 km COUNT 12 ASC", "ZRANGE tdst 0 -1",
	"GEOSEARCH ties FROMMEMBER t07 BYRADIUS 30 km COUNT 6 ASC", "GEOSEARCH ties FROMMEMBER t07 BYRADIUS 30 km COUNT 41 DESC",
	"GEOADD ties2 0 -85.05112878 q 0 -84.99 p1 0 -84.99 p2 0 -84.99 p3 0 -84.99 p4 0 -84.99 p5 0 -84.99 p6 3.348274 -84.846753 r",
	"GEOSEARCH ties2 FROMMEMBER p3 BYRADIUS 60 km WITHDIST", "GEOSEARCH ties2 FROMMEMBER p3 BYRADIUS 60 km COUNT 1 ASC",
	"GEOSEARCH ties2 FROMMEMBER p3 BYRADIUS 60 km COUNT 3 ASC", "GEOSEARCH ties2 FROMMEMBER p3 BYRADIUS 60 km COUNT 7 DESC",
	// Absurd sizes: infinite and huge radii and boxes, tiny ones, and
	// COUNT's limits; GEO commands in a transaction.
	"GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 1e300 km ASC", "GEOSEARCH world FROMLONLAT 0 0 BYRADIUS inf km ASC",
	"GEOSEARCH world FROMLONLAT 0 0 BYRADIUS nan km ASC", "GEOSEARCH world FROMLONLAT 0 0 BYBOX 1e300 1e300 km ASC",
	"GEOSEARCH world FROMLONLAT 0 0 BYBOX inf inf km ASC", "GEOSEARCH world FROMLONLAT 0 0 BYBOX 40000 inf km ASC",
	"GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 1e-300 km ASC WITHDIST", "GEORADIUS world 0 0 1e308 m ASC COUNT 3 WITHDIST",
	"GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 10 km COUNT 9223372036854775807 ASC", "GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 10 km COUNT 9223372036854775808 ASC",
	"GEOSEARCH poles FROMLONLAT 180 85.05112878 BYRADIUS 5000 km ASC WITHDIST", "GEOSEARCH poles FROMLONLAT -180 -85.05112878 BYBOX 5000 5000 km ASC WITHDIST",
	"GEOADD tiny 1e-320 -1e-320 t 179.99999999999 85.0511287 edge", "GEOPOS tiny t edge", "GEOHASH tiny t edge",
	"MULTI", "GEOADD m 1 1 a", "GEORADIUS m 1 1 10 km STORE mdst", "GEOSEARCH m FROMMEMBER a BYRADIUS 1 km WITHDIST", "EXEC", "ZRANGE mdst 0 -1 WITHSCORES",
}, "\n") + "\n"

// geoTies is a GEOADD of 60 points at 8 places on one parallel, so that
// searches meet many ties in distance.
func geoTies() string {
	var b strings.Builder
	b.WriteString("GEOADD ties")
	for i := range 60 {
		fmt.Fprintf(&b, " %g 45.5 t%02d", 10+float64(i*5%8)/10, i)
	}
	return b.String()
}

// TestRedisGeoMatchRedisServer diffs the geo commands against
// redis-server, in RESP2 (raw and formatted) and RESP3.
func TestRedisGeoMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, geoScript)
	diffWithRedisRESP3(t, g, geoScript)
}

// TestRedisGeoClients runs the go-redis geo test against one gateway.
func TestRedisGeoClients(t *testing.T) { testGeoGoRedis(t, startGateway(t)) }

// testGeoGoRedis stores places through go-redis and finds the nearest
// ones within a radius, by coordinates and by member, with distances,
// positions and a stored result, the commands spread over the target's
// nodes.
func testGeoGoRedis(t *testing.T, g redisTarget) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := testCtx(t)
			c := g.redisClient(proto)
			key := fmt.Sprintf("p%d:cafes", proto)
			places := []*redis.GeoLocation{
				{Name: "central", Longitude: 2.3522, Latitude: 48.8566},
				{Name: "louvre", Longitude: 2.3376, Latitude: 48.8606},
				{Name: "eiffel", Longitude: 2.2945, Latitude: 48.8584},
				{Name: "bastille", Longitude: 2.3691, Latitude: 48.8532},
				{Name: "versailles", Longitude: 2.1204, Latitude: 48.8049},
				{Name: "lyon", Longitude: 4.8357, Latitude: 45.7640},
			}
			if n := r(c.GeoAdd(ctx, key, places...).Result()).must(t, "GEOADD"); n != int64(len(places)) {
				t.Fatalf("GEOADD added %d, want %d", n, len(places))
			}
			// The nearest three within 5 km of the center, nearest first.
			near := r(c.GeoSearchLocation(ctx, key, &redis.GeoSearchLocationQuery{
				GeoSearchQuery: redis.GeoSearchQuery{Longitude: 2.3522, Latitude: 48.8566, Radius: 5, RadiusUnit: "km", Sort: "ASC", Count: 3},
				WithDist:       true, WithCoord: true,
			}).Result()).must(t, "GEOSEARCH")
			var names []string
			for _, l := range near {
				names = append(names, l.Name)
			}
			if got := strings.Join(names, ","); got != "central,louvre,bastille" {
				t.Fatalf("nearest = %s, want central,louvre,bastille", got)
			}
			// The center itself is 0.0002 km off: a geohash's cell, as in
			// redis-server.
			if near[0].Dist > 0.001 || near[1].Dist < 1.1 || near[1].Dist > 1.2 {
				t.Fatalf("distances = %v, %v", near[0].Dist, near[1].Dist)
			}
			if d := near[2].Longitude - 2.3691; d > 1e-5 || d < -1e-5 {
				t.Fatalf("bastille's longitude = %v", near[2].Longitude)
			}
			// By member, within 10 km: Versailles (14 km) and Lyon are out.
			around := r(c.GeoRadiusByMember(ctx, key, "eiffel", &redis.GeoRadiusQuery{Radius: 10, Unit: "km", Sort: "DESC"}).Result()).must(t, "GEORADIUSBYMEMBER")
			names = names[:0]
			for _, l := range around {
				names = append(names, l.Name)
			}
			if got := strings.Join(names, ","); got != "bastille,central,louvre,eiffel" {
				t.Fatalf("around eiffel = %s", got)
			}
			dist := r(c.GeoDist(ctx, key, "central", "lyon", "km").Result()).must(t, "GEODIST")
			if dist < 390 || dist > 395 {
				t.Fatalf("GEODIST central lyon = %v km", dist)
			}
			pos := r(c.GeoPos(ctx, key, "lyon", "nowhere").Result()).must(t, "GEOPOS")
			if len(pos) != 2 || pos[1] != nil || pos[0] == nil || pos[0].Latitude < 45.7639 || pos[0].Latitude > 45.7641 {
				t.Fatalf("GEOPOS = %v", pos)
			}
			stored := fmt.Sprintf("p%d:near", proto)
			n := r(c.GeoSearchStore(ctx, key, stored, &redis.GeoSearchStoreQuery{
				GeoSearchQuery: redis.GeoSearchQuery{Member: "central", BoxWidth: 10, BoxHeight: 6, BoxUnit: "km"},
				StoreDist:      true,
			}).Result()).must(t, "GEOSEARCHSTORE")
			if n != 4 {
				t.Fatalf("GEOSEARCHSTORE = %d, want 4", n)
			}
			zs := r(c.ZRangeWithScores(ctx, stored, 0, -1).Result()).must(t, "ZRANGE")
			if len(zs) != 4 || zs[0].Member != "central" || zs[0].Score != 0 || zs[3].Member != "eiffel" {
				t.Fatalf("stored = %v", zs)
			}
		})
	}
}
