//go:build !race

package jsonscan

import "testing"

// Reading never allocates: the callers (the provider parsers, session's
// JSON hash, detection, the bench mock) rely on it.
func TestAllocsRead(t *testing.T) {
	src := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"caf\u00e9 \"x\""},{"role":"assistant","content":[{"type":"text","text":"ok"}]}],"n":3}`)
	var roles, texts int
	allocs := testing.AllocsPerRun(100, func() {
		// A document in a stack buffer stays there when read with the
		// primitives (session hashes a decoded copy of a text this way).
		var doc [256]byte
		b := append(doc[:0], src...)
		if !Valid(b) || Member(b, "n") == nil || !walkPrimitives(b) {
			t.Fatal("document not read")
		}
		d := NewDecoder(src)
		var out [64]byte
		for k := range d.Members() {
			if string(k) == "messages" {
				for range d.Elements() {
					for k := range d.Members() {
						switch string(k) {
						case "role":
							roles++
						case "content":
							if s := d.StrOrSkip(); s.Present() {
								texts += len(s.Append(out[:0]))
								_, _ = AppendUnescapedPrefix(out[:0], s.Raw, 3)
							}
						}
					}
				}
			}
		}
		d.End()
		if d.Failed() {
			t.Fatal(d.Err())
		}
	})
	if allocs != 0 {
		t.Fatalf("reading a document takes %.1f allocations, want 0", allocs)
	}
	if roles == 0 || texts == 0 {
		t.Fatal("nothing read")
	}
}

func walkPrimitives(b []byte) bool {
	d := NewDecoder(b)
	n := 0
	if d.EnterObj() {
		for {
			if string(d.Key()) == "messages" && d.EnterArr() {
				for {
					n++
					d.Skip()
					if !d.MoreArr() {
						break
					}
				}
			} else {
				d.Skip()
			}
			if !d.MoreObj() {
				break
			}
		}
	}
	d.End()
	return n == 2 && !d.Failed()
}
