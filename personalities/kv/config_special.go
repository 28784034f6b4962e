package kv

import (
	"errors"
	"strconv"
	"strings"

	"hourglass/personalities/kv/keyspace"
)

// validateSpecial checks the parameters whose values have a syntax of
// their own, with Redis 7.0's errors.
func (p *confParam) validateSpecial(v, cur string) (string, error) {
	fields := strings.Fields(v)
	switch p.Name {
	case "save":
		if len(fields)%2 != 0 {
			return "", errors.New("Invalid save parameters")
		}
		for _, f := range fields {
			if n, ok := keyspace.ParseInt([]byte(f)); !ok || n < 0 {
				return "", errors.New("Invalid save parameters")
			}
		}
		return strings.Join(fields, " "), nil
	case "client-output-buffer-limit":
		return outputBufferLimits(fields, cur)
	case "oom-score-adj-values":
		if len(fields) != 3 {
			return "", errors.New("wrong number of arguments")
		}
		for _, f := range fields {
			if n, ok := keyspace.ParseInt([]byte(f)); !ok || n < -2000 || n > 2000 {
				return "", errors.New("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
			}
		}
		return strings.Join(fields, " "), nil
	case "latency-tracking-info-percentiles":
		out := make([]string, len(fields))
		for i, f := range fields {
			x, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return "", errors.New("Invalid latency-tracking-info-percentiles parameters")
			}
			if x < 0 || x > 100 {
				return "", errors.New("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
			}
			out[i] = strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strings.Join(out, " "), nil
	case "maxmemory-clients":
		if pct, ok := strings.CutSuffix(v, "%"); ok {
			n, ok := keyspace.ParseInt([]byte(pct))
			if !ok || n < 0 {
				break
			}
			if n > 100 {
				return "", errors.New("percentage argument must be less or equal to 100")
			}
			return strconv.FormatInt(n, 10) + "%", nil
		}
		if n, ok := parseMemory(v); ok {
			return strconv.FormatInt(n, 10), nil
		}
	case "cluster-announce-hostname":
		for _, r := range v {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
				return "", errors.New("Hostnames may only contain alphanumeric characters, hyphens or dots")
			}
		}
		return v, nil
	case "notify-keyspace-events":
		for _, r := range v {
			if !strings.ContainsRune("Ag$lshzxeKEtmdn", r) {
				return "", errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
			}
		}
		return v, nil
	case "bind":
		// The Redis listener is the node's; it does not move at run time.
		if v == cur {
			return v, nil
		}
		return "", errors.New("Failed to bind to specified addresses.")
	}
	return "", errors.New(p.Invalid)
}

// outputBufferLimits applies "class hard soft seconds ..." to the current
// limits, as Redis reports them: every class, bytes, "slave" for replicas.
func outputBufferLimits(fields []string, cur string) (string, error) {
	if len(fields)%4 != 0 {
		return "", errors.New("Wrong number of arguments in buffer limit configuration.")
	}
	classes := map[string]int{"normal": 0, "slave": 1, "replica": 1, "pubsub": 2}
	limits := strings.Fields(cur)
	if len(limits) != 12 {
		limits = strings.Fields(redisConf["client-output-buffer-limit"].Default)
	}
	next := append([]string(nil), limits...)
	for i := 0; i < len(fields); i += 4 {
		class, ok := classes[strings.ToLower(fields[i])]
		if !ok {
			return "", errors.New("Invalid client class specified in buffer limit configuration.")
		}
		hard, ok1 := parseMemory(fields[i+1])
		soft, ok2 := parseMemory(fields[i+2])
		secs, ok3 := keyspace.ParseInt([]byte(fields[i+3]))
		if !ok1 || !ok2 || !ok3 || secs < 0 {
			return "", errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		next[class*4+1] = strconv.FormatInt(hard, 10)
		next[class*4+2] = strconv.FormatInt(soft, 10)
		next[class*4+3] = strconv.FormatInt(secs, 10)
	}
	return strings.Join(next, " "), nil
}
