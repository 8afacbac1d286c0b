package jsonscan

// Members calls fn with the name of each member of the object at the
// cursor, as Key returns it, until fn returns false. fn reads the member's
// value with any reading method (Str, Int, Raw, a nested Members…) or
// leaves it: a value fn did not read is skipped (Peek, and IsNull on a
// value that is not null, read nothing). Afterwards the cursor is past the
// object, also when fn stopped early. A value that is not an object is
// skipped and fn never called (Failed tells it from {}).
//
//	d.Members(func(k []byte) bool {
//		switch string(k) {
//		case "model":
//			model = d.Str()
//		case "stream":
//			stream, _ = d.Bool()
//		}
//		return true
//	})
//
// A callback costs less than a range-over-func iterator here (see
// iter_timing_test.go), and nothing escapes: fn is not kept.
func (d *Decoder) Members(fn func(key []byte) bool) {
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
		if !fn(k) {
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

// Elements calls fn with the index of each element of the array at the
// cursor until fn returns false. As with Members, fn reads the element or
// leaves it to be skipped, and the cursor ends past the array even when fn
// stops early. A value that is not an array is skipped and fn never
// called.
func (d *Decoder) Elements(fn func(i int) bool) {
	if !d.EnterArr() {
		return
	}
	for n := 0; ; n++ {
		d.ws()
		at := d.i
		if !fn(n) {
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
