package jsonscan

import "iter"

// Members iterates over the members of the object at the cursor, yielding
// each name as Key returns it. The loop body reads the member's value with
// any reading method (Str, Int, Raw, a nested Members…) or leaves it: a
// value the body did not read is skipped (Peek, and IsNull on a value that
// is not null, read nothing). After the loop the cursor is past the
// object, also when the body breaks out early. A value that is not an
// object is skipped and yields nothing (Failed tells it from {}).
//
//	for k := range d.Members() {
//		switch string(k) {
//		case "model":
//			model = d.Str()
//		case "stream":
//			stream, _ = d.Bool()
//		}
//	}
//
// The iterator is inlined into the loop and allocates nothing; it costs
// what a callback would and about 15% more than a loop over the
// primitives (iter_timing_test.go, docs/jsonscan.md).
func (d *Decoder) Members() iter.Seq[[]byte] {
	return func(yield func(key []byte) bool) {
		if !d.EnterObj() {
			return
		}
		for {
			k := d.Key()
			if d.err != nil {
				return
			}
			d.ws()
			at := d.i
			if !yield(k) {
				if d.i == at {
					d.Skip()
				}
				d.skipRest('}')
				return
			}
			if d.i == at {
				d.Skip()
			}
			if !d.MoreObj() {
				return
			}
		}
	}
}

// Elements iterates over the elements of the array at the cursor,
// yielding each one's index. As with Members, the body reads the element
// or leaves it to be skipped, and the cursor ends past the array even
// when the body breaks out. A value that is not an array is skipped and
// yields nothing.
func (d *Decoder) Elements() iter.Seq[int] {
	return func(yield func(i int) bool) {
		if !d.EnterArr() {
			return
		}
		for n := 0; ; n++ {
			d.ws()
			at := d.i
			if !yield(n) {
				if d.i == at {
					d.Skip()
				}
				d.skipRest(']')
				return
			}
			if d.i == at {
				d.Skip()
			}
			if !d.MoreArr() {
				return
			}
		}
	}
}

// skipRest skips the members or elements left after the current one, and
// the closing bracket.
func (d *Decoder) skipRest(close byte) {
	for d.more(close) {
		if close == '}' {
			d.Key()
		}
		d.Skip()
	}
}

// Member returns the bytes of the value of the member name of the object
// obj (the first such member), or nil when obj is not an object, has no
// such member, or stops being JSON before it. Names are compared decoded.
// Only the bytes up to the member are read.
func Member(obj []byte, name string) []byte {
	d := NewDecoder(obj)
	if d.EnterObj() {
		for {
			if string(d.Key()) == name {
				return d.Raw()
			}
			d.Skip()
			if !d.MoreObj() {
				break
			}
		}
	}
	return nil
}
