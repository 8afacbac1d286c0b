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

func TestPickFormsAgree(t *testing.T) {
	var want picked
	var d Decoder
	d.Reset(memberBody)
	pickLoop(&d, &want)
	if d.Failed() || want.roles != 21 || !want.model.Equal("gpt-4o") || !want.stream || want.maxTok != 512 {
		t.Fatalf("loop read %+v, err %v", want, d.Err())
	}
	var got picked
	d.Reset(memberBody)
	pickRange(&d, &got)
	d.End()
	if d.Failed() || got.roles != want.roles || !got.model.EqualStr(want.model) || got.stream != want.stream || got.maxTok != want.maxTok {
		t.Errorf("range read %+v, want %+v (err %v)", got, want, d.Err())
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

// The two ways of walking members: the hand-written loop (EnterObj, Key,
// MoreObj) the provider parsers use, and the iterators Members and
// Elements (docs/jsonscan.md has the measurement that also held callbacks).
func BenchmarkMembersLoop(b *testing.B)  { benchPick(b, pickLoop) }
func BenchmarkMembersRange(b *testing.B) { benchPick(b, pickRange) }
