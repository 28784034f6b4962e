package keyspace

import "bytes"

// The pops and moves at a list's ends that take from one list or more
// (LMOVE, RPOPLPUSH, LMPOP, and the apply side of their blocking
// variants), and the list commands' end arguments.

// popFront pops up to count items from the left (or right) end of the
// list at key and returns them in pop order, deleting the key if the list
// empties. It returns nil if key does not exist and errWrongType if key
// holds another type. It runs at apply (a write). REQUIRES: count >= 1.
func popFront(ks *Keyspace, key []byte, left bool, count int64) ([][]byte, error) {
	rec, ok, err := ks.lookupType(key, typeList)
	if err != nil || !ok {
		return nil, err
	}
	vals, err := ks.listPop(&rec, left, count)
	if err != nil {
		return nil, err
	}
	return vals, ks.listStore(key, rec, endEvent(left, "pop"))
}

// moveOne pops an item from the fromLeft (or right) end of the list at src
// and pushes it at the toLeft (or right) end of the list at dst, creating
// dst if needed and deleting src if it empties, as LMOVE. With src == dst
// it rotates the list. It returns the item, or nil if src does not exist;
// errWrongType if src or dst holds another type (nothing moves then). It
// runs at apply (a write).
func moveOne(ks *Keyspace, src, dst []byte, fromLeft, toLeft bool) ([]byte, error) {
	srec, ok, err := ks.lookupType(src, typeList)
	if err != nil || !ok {
		return nil, err
	}
	if bytes.Equal(src, dst) {
		vals, err := ks.listPop(&srec, fromLeft, 1)
		if err != nil {
			return nil, err
		}
		if err := ks.listPush(&srec, toLeft, vals[0]); err != nil {
			return nil, err
		}
		if err := ks.update(src, srec); err != nil {
			return nil, err
		}
		ks.notify(EventList, endEvent(toLeft, "push"), src)
		ks.notify(EventList, endEvent(fromLeft, "pop"), src)
		return vals[0], nil
	}
	drec, exists, err := ks.lookupType(dst, typeList)
	if err != nil {
		return nil, err
	}
	vals, err := ks.listPop(&srec, fromLeft, 1)
	if err != nil {
		return nil, err
	}
	if !exists {
		if drec, err = ks.newCollection(typeList); err != nil {
			return nil, err
		}
	}
	if err := ks.listPush(&drec, toLeft, vals[0]); err != nil {
		return nil, err
	}
	if err := ks.put(dst, drec, exists, drec); err != nil {
		return nil, err
	}
	ks.notify(EventList, endEvent(toLeft, "push"), dst)
	return vals[0], ks.listStore(src, srec, endEvent(fromLeft, "pop"))
}

// parseEnd parses LEFT or RIGHT.
func parseEnd(b []byte) (left bool, err error) { return parseEither(b, "left", "right") }

// parseEither parses one of two keywords (given in lower case), in any
// case: true for the first.
func parseEither(b []byte, first, second string) (bool, error) {
	switch {
	case EqFold(b, first):
		return true, nil
	case EqFold(b, second):
		return false, nil
	}
	return false, ErrSyntax
}

func checkLmove(args [][]byte) error {
	if _, err := parseEnd(args[3]); err != nil {
		return err
	}
	_, err := parseEnd(args[4])
	return err
}

func execLmove(ks *Keyspace, args [][]byte) (any, error) {
	from, err := parseEnd(args[3])
	if err != nil {
		return nil, err
	}
	to, err := parseEnd(args[4])
	if err != nil {
		return nil, err
	}
	return replyBulkOrNil(moveOne(ks, args[1], args[2], from, to))
}

func execRpoplpush(ks *Keyspace, args [][]byte) (any, error) {
	return replyBulkOrNil(moveOne(ks, args[1], args[2], false, true))
}

// replyBulkOrNil turns a nil []byte into a null reply (an untyped nil).
func replyBulkOrNil(v []byte, err error) (any, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}

// lmpopArgs are LMPOP's parsed arguments (BLMPOP's after the timeout).
type lmpopArgs struct {
	keys  [][]byte
	left  bool
	count int64
}

// parseLmpop parses numkeys key... LEFT|RIGHT [COUNT count] from args[i]
// on, with Redis 7's checks in Redis 7's order.
func parseLmpop(args [][]byte, i int) (lmpopArgs, error) {
	var a lmpopArgs
	n, ok := ParseInt(args[i])
	if !ok || n < 1 {
		return a, Error("ERR numkeys should be greater than 0")
	}
	if n > int64(len(args)-i-2) {
		return a, ErrSyntax
	}
	a.keys = args[i+1 : i+1+int(n)]
	rest := args[i+1+int(n):]
	var err error
	if a.left, err = parseEnd(rest[0]); err != nil {
		return a, err
	}
	a.count = -1
	for j := 1; j < len(rest); j++ {
		if a.count != -1 || !EqFold(rest[j], "count") || j+1 >= len(rest) {
			return a, ErrSyntax
		}
		j++
		c, ok := ParseInt(rest[j])
		if !ok || c < 1 {
			return a, Error("ERR count should be greater than 0")
		}
		a.count = c
	}
	if a.count == -1 {
		a.count = 1
	}
	return a, nil
}

func checkLmpop(args [][]byte) error {
	_, err := parseLmpop(args, 1)
	return err
}

// execLmpop pops from the first non-empty list of the keys: [key, items],
// or a null array if every key is missing.
func execLmpop(ks *Keyspace, args [][]byte) (any, error) {
	a, err := parseLmpop(args, 1)
	if err != nil {
		return nil, err
	}
	for _, k := range a.keys {
		vals, err := popFront(ks, k, a.left, a.count)
		if err != nil {
			return nil, err
		}
		if vals != nil {
			return []any{k, bulkArray(vals)}, nil
		}
	}
	return NullArray{}, nil
}
