package jsonscan

import (
	"strings"
	"testing"
)

// memberBody is a chat request's shape: a few scalar members the reader
// wants and a long list it skips.
var memberBody = []byte(`{"model":"gpt-4o","temperature":0.2,"stream":true,"max_tokens":512,` +
	`"messages":[` + strings.Repeat(`{"role":"user","content":"hello there, how are you today?"},`, 20) +
	`{"role":"user","content":"last"}],"user":"u-1","n":1}`)

// eachMember and eachElement are Members and Elements written as
// callbacks, kept here to measure the two forms side by side: they cost
// the same (CPU time, median of 11 runs: 1,469 ns range-over-func, 1,489
// ns callback, 1,300 ns the primitives' loop), so the package offers the
// iterators, which read better.
func (d *Decoder) eachMember(fn func(k []byte) bool) {
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

func (d *Decoder) eachElement(fn func(i int) bool) {
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

type picked struct {
	model  Str
	stream bool
	maxTok int64
	roles  int
}

func pickLoop(d *Decoder, p *picked) {
	if d.EnterObj() {
		for {
			switch k := d.Key(); string(k) {
			case "model":
				p.model = d.StrOrSkip()
			case "stream":
				p.stream, _ = d.Bool()
			case "max_tokens":
				p.maxTok, _ = d.Int()
			case "messages":
				if d.EnterArr() {
					for {
						if d.EnterObj() {
							for {
								if string(d.Key()) == "role" {
									d.StrOrSkip()
									p.roles++
								} else {
									d.Skip()
								}
								if !d.MoreObj() {
									break
								}
							}
						}
						if !d.MoreArr() {
							break
						}
					}
				}
			default:
				d.Skip()
			}
			if !d.MoreObj() {
				break
			}
		}
	}
}

func pickRange(d *Decoder, p *picked) {
	for k := range d.Members() {
		switch string(k) {
		case "model":
			p.model = d.StrOrSkip()
		case "stream":
			p.stream, _ = d.Bool()
		case "max_tokens":
			p.maxTok, _ = d.Int()
		case "messages":
			for range d.Elements() {
				for k := range d.Members() {
					if string(k) == "role" {
						d.StrOrSkip()
						p.roles++
					}
				}
			}
		}
	}
}

func pickCallback(d *Decoder, p *picked) {
	d.eachMember(func(k []byte) bool {
		switch string(k) {
		case "model":
			p.model = d.StrOrSkip()
		case "stream":
			p.stream, _ = d.Bool()
		case "max_tokens":
			p.maxTok, _ = d.Int()
		case "messages":
			d.eachElement(func(int) bool {
				d.eachMember(func(k []byte) bool {
					if string(k) == "role" {
						d.StrOrSkip()
						p.roles++
					}
					return true
				})
				return true
			})
		}
		return true
	})
}

func TestPickFormsAgree(t *testing.T) {
	var want picked
	var d Decoder
	d.Reset(memberBody)
	pickLoop(&d, &want)
	if d.Failed() || want.roles != 21 || !want.model.Equal("gpt-4o") || !want.stream || want.maxTok != 512 {
		t.Fatalf("loop read %+v, err %v", want, d.Err())
	}
	for name, pick := range map[string]func(*Decoder, *picked){"range": pickRange, "callback": pickCallback} {
		var got picked
		d.Reset(memberBody)
		pick(&d, &got)
		d.End()
		if d.Failed() || got.roles != want.roles || !got.model.EqualStr(want.model) || got.stream != want.stream || got.maxTok != want.maxTok {
			t.Errorf("%s read %+v, want %+v (err %v)", name, got, want, d.Err())
		}
	}
}

func benchPick(b *testing.B, pick func(*Decoder, *picked)) {
	var d Decoder
	b.SetBytes(int64(len(memberBody)))
	b.ReportAllocs()
	var p picked
	for b.Loop() {
		p = picked{}
		d.Reset(memberBody)
		pick(&d, &p)
		if p.roles != 21 {
			b.Fatal(p.roles)
		}
	}
}

// The three ways of walking members: the hand-written loop (EnterObj,
// Key, MoreObj) the provider parsers use, the iterators Members and
// Elements, and callbacks.
func BenchmarkMembersLoop(b *testing.B)     { benchPick(b, pickLoop) }
func BenchmarkMembersRange(b *testing.B)    { benchPick(b, pickRange) }
func BenchmarkMembersCallback(b *testing.B) { benchPick(b, pickCallback) }
