package keyspace

// MemoryUsage returns what MEMORY USAGE answers for key: the estimate
// the used memory counts for it (see memory.go), its record's and its
// elements' entries. With samples > 0, a collection of more elements is
// estimated from its first samples elements, as Redis samples a
// collection's nested values; samples 0 reads every element (and so
// does a stream). ok is false
// if there is no such key.
func (ks *Keyspace) MemoryUsage(key []byte, samples int64) (n int64, ok bool, err error) {
	rec, ok, err := ks.lookup(key)
	if err != nil || !ok {
		return 0, ok, err
	}
	n = entrySize(dataKey(ks.db, key), rec.encode())
	if !rec.isCollection() {
		return n, true, nil
	}
	if rec.typ == typeStream {
		samples = 0 // its entries are not its elements: read them all
	}
	var sum, seen int64
	err = ks.scanElems(rec.gen, nil, nil, func(sub, v []byte) bool {
		sum += entrySize(elemKey(rec.gen, sub), v)
		seen++
		return samples <= 0 || seen < samples
	})
	if err != nil {
		return 0, false, err
	}
	if samples > 0 && seen == samples {
		total := rec.count // a sorted set stores each member twice
		if rec.typ == typeZSet {
			total *= 2
		}
		sum = sum * max(total, seen) / seen
	}
	return n + sum, true, nil
}
