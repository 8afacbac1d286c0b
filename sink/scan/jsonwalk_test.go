package scan

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// refContent is the reading the walker replaces, with encoding/json: a
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
			want = "" // encoding/json rejects it whole; the walker may read a prefix
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

func TestMemberAndElements(t *testing.T) {
	obj := []byte(` { "a" : 1, "b":{"c":[1,2,{"d":"}"}]}, "e\"q":"v", "big": "x,y]}", "last": [ ] } `)
	for name, want := range map[string]string{"a": "1", "b": `{"c":[1,2,{"d":"}"}]}`, `e"q`: `"v"`, "big": `"x,y]}"`, "last": "[ ]", "none": ""} {
		if got := string(member(obj, name)); got != want {
			t.Errorf("member %q = %q, want %q", name, got, want)
		}
	}
	var got []string
	elements([]byte(`[ 1 ,"two", {"three":[3]} , [4], null ]`), func(v []byte) { got = append(got, string(v)) })
	if want := []string{"1", `"two"`, `{"three":[3]}`, "[4]", "null"}; len(got) != len(want) {
		t.Fatalf("elements = %q", got)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("element %d = %q, want %q", i, got[i], want[i])
			}
		}
	}
	for _, bad := range []string{``, `{`, `{"a"`, `{"a":`, `{"a":1,`, `[`, `[1,`, `"`, `{"a" 1}`, `nul`} {
		_ = member([]byte(bad), "a")
		elements([]byte(bad), func([]byte) {})
		appendContent(nil, []byte(bad))
	}
}

// FuzzContent checks the walker against encoding/json on every valid input
// and that no input makes it panic.
func FuzzContent(f *testing.F) {
	for _, c := range contentCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, _ := appendContent(nil, raw)
		_ = member(raw, "text")
		if !json.Valid(raw) {
			return
		}
		if want := refContent(raw); validUTF8(got) != want {
			t.Fatalf("%q:\n got %q\nwant %q", raw, got, want)
		}
	})
}
