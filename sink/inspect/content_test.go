package inspect

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/internal/jsonscan"
)

// refContent is the reading the scanner replaces, with encoding/json: a
// string, or the text parts of a list of blocks joined by newlines. One
// difference is deliberate: the old reading dropped a whole list when any
// element was not an object, so a stray string hid every block from
// detection; both now skip only that element.
func refContent(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return ""
	}
	out := ""
	for _, el := range list {
		var b map[string]json.RawMessage
		if json.Unmarshal(el, &b) != nil {
			continue
		}
		var t string
		if json.Unmarshal(b["text"], &t) == nil && t != "" {
			if out != "" {
				out += "\n"
			}
			out += t
		} else if c := refContent(b["content"]); c != "" {
			if out != "" {
				out += "\n"
			}
			out += c
		}
	}
	return out
}

// validUTF8 maps each invalid byte to U+FFFD, as encoding/json does.
func validUTF8(b []byte) string {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return string(out)
}

var contentCases = []string{
	`"plain"`,
	`"line\nbreak \"quoted\" back\\slash \/ tab\t"`,
	`"\u00e9t\u00E9 \ud83d\ude00 lone \ud83d end"`,
	`"bad \x escape"`,
	`""`,
	`[{"type":"text","text":"first"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"second"}]`,
	`[{"type":"tool_result","content":[{"type":"text","text":"nested"}]},{"text":""},{"content":"inner string"}]`,
	`[{"text": "spaced" , "type" : "text" }]`,
	`[]`,
	`null`,
	`42`,
	`{"text":"an object is not content"}`,
	`[{"te\u0078t":"escaped key"}]`,
	`[{"text":"x"`,
	`["not a block", {"text":"ok"}]`,
}

func TestContentMatchesEncodingJSON(t *testing.T) {
	for _, c := range contentCases {
		got, _ := appendContent(nil, []byte(c))
		want := refContent(json.RawMessage(c))
		if !json.Valid([]byte(c)) {
			want = "" // encoding/json rejects it whole; the reader may keep what it read before the fault
			if len(got) > 0 && c != `"bad \x escape"` && c != `[{"text":"x"` {
				t.Errorf("%s: invalid input read as %q", c, got)
			}
			continue
		}
		if validUTF8(got) != want {
			t.Errorf("%s:\n got %q\nwant %q", c, got, want)
		}
	}
}

func TestContentOfBrokenInput(t *testing.T) {
	for _, bad := range []string{``, `{`, `[`, `[1,`, `"`, `[{"text":"x"`, `[{"text":"x"},{"text":`, `nul`} {
		if got, ok := appendContent(nil, []byte(bad)); ok && bad != `[{"text":"x"},{"text":` {
			t.Errorf("%s read as %q", bad, got)
		}
	}
}

// FuzzContent checks the content reader against encoding/json on every valid input
// and that no input makes it panic.
func FuzzContent(f *testing.F) {
	for _, c := range contentCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, _ := appendContent(nil, raw)
		if !json.Valid(raw) {
			return
		}
		if want := refContent(raw); validUTF8(got) != want {
			t.Fatalf("%q:\n got %q\nwant %q", raw, got, want)
		}
	})
}

// FuzzRequestWalk: the one-pass walk of a request body scans the list
// jsonscan.Member finds (messages, else input), keeps only that list's
// findings, and returns the tools Member finds.
func FuzzRequestWalk(f *testing.F) {
	for _, s := range []string{`{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t"}]}`,
		`{"input":[{"role":"user","content":"x"}],"messages":[],"tools":null}`, `{"tools":[1],"messages":"x","messages":[2],"tools":[3]}`,
		`{"messages":[1],"tools":[`, `{"a":{"messages":[1]},"input":"x"}`, `{"input":[1],"input":[2]}`, `[]`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fs []detect.Finding
		var last, tools []byte
		var w requestWalk
		d := jsonscan.NewDecoder(data)
		for k := range d.Members() { // as scanEvent walks llm.request.data
			switch w.member(k, &fs) {
			case walkList:
				last = d.Raw()
				fs = append(fs, detect.Finding{Evidence: string(last)}) // one finding per list scanned
			case walkTools:
				tools = d.Raw()
			}
		}
		if !json.Valid(data) {
			return // only: no panic
		}
		want := jsonscan.Member(data, "messages")
		if len(want) == 0 {
			want = jsonscan.Member(data, "input")
		}
		wantTools := jsonscan.Member(data, "tools")
		if !bytes.Equal(last, want) || (last == nil) != (want == nil) || !bytes.Equal(tools, wantTools) || (tools == nil) != (wantTools == nil) {
			t.Fatalf("%q: scanned %q, tools %q; Member %q %q", data, last, tools, want, wantTools)
		}
		if wantN := min(len(want), 1); len(fs) != wantN || wantN == 1 && fs[0].Evidence != string(want) {
			t.Fatalf("%q: findings kept %+v, want those of %q only", data, fs, want)
		}
	})
}
