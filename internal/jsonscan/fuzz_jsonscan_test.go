package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets: no input may panic the scanner, it must agree with
// encoding/json on what is JSON and on what a string says, and the
// callbacks must visit exactly the members and elements encoding/json
// sees. Run one with
// go test ./internal/jsonscan -run '^$' -fuzz FuzzValid -fuzztime 20s.

func FuzzValid(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decoder
		d.Reset(b)
		d.Skip()
		d.End()
		if errors.Is(d.Err(), ErrTooDeep) {
			return
		}
		if got, want := !d.Failed(), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v (%v)", b, got, want, d.Err())
		}
	})
}

// FuzzString checks the string scanner and decoder against encoding/json
// (which also replaces invalid UTF-8, so only valid text is compared), and
// the prefix decoder against the full one.
func FuzzString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\"b\\c\/\b\f\n\r\t"`, `"\u00e9\ud83d\ude00"`, `"\ud83d"`, `"\ud83d\u0041"`, `"\x"`, `"é😀"`} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		var d Decoder
		d.Reset(b)
		s := d.StrOrSkip()
		d.End()
		var want string
		err := json.Unmarshal(b, &want)
		if d.Failed() {
			if err == nil && bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte(`"`)) {
				t.Fatalf("%q rejected, encoding/json reads %q", b, want)
			}
			return
		}
		if !s.Present() {
			return // not a string
		}
		if err != nil {
			t.Fatalf("%q accepted, encoding/json says %v", b, err)
		}
		got := s.Append(nil)
		if utf8.Valid(s.Raw) && string(got) != want {
			t.Fatalf("%q decodes to %q, encoding/json to %q", b, got, want)
		}
		if !s.Equal(string(got)) || !s.EqualStr(Str{Raw: got}) {
			t.Fatalf("%q: Equal disagrees with Append", b)
		}
		pre, rest := AppendUnescapedPrefix(nil, s.Raw, int(n))
		full := AppendUnescaped(pre, rest)
		if !bytes.Equal(full, got) {
			t.Fatalf("%q: prefix %q + rest decode to %q, want %q", b, pre, full, got)
		}
		if utf8.Valid(got) && utf8.RuneCount(pre) != min(int(n), utf8.RuneCount(got)) {
			t.Fatalf("%q: prefix of %d code points is %q", b, n, pre)
		}
	})
}

// FuzzWalk walks every object and array of a document with Members and
// Elements, reading every second value and leaving the others to be
// skipped (with stop, only the first of each), and checks that it visits
// the members and elements encoding/json's token stream has, in order;
// Member must find every member encoding/json finds.
func FuzzWalk(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s), true)
	}
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"n":1}`), false)
	f.Fuzz(func(t *testing.T, b []byte, stop bool) {
		var d Decoder
		d.Reset(b)
		got := walk(&d, stop)
		d.End()
		if d.Failed() {
			return
		}
		jd := json.NewDecoder(bytes.NewReader(b))
		jd.UseNumber() // numbers beyond float64 are still JSON
		want, err := tokenShape(jd, stop)
		if err != nil {
			t.Fatalf("%q walked, encoding/json says %v", b, err)
		}
		if got != want {
			t.Fatalf("%q walked as %q, encoding/json sees %q", b, got, want)
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return
		}
		for k := range m {
			if strings.ContainsRune(k, utf8.RuneError) {
				continue // encoding/json replaced invalid UTF-8; the name in the document differs
			}
			// An escaped name of up to 64 bytes is decoded; ten bytes of
			// text escape to at most 60.
			if raw := Member(b, k); (raw == nil && len(k) <= 10) || (raw != nil && !json.Valid(raw)) {
				t.Fatalf("Member(%q, %q) = %q", b, k, raw)
			}
		}
	})
}

// walk describes the document's structure as tokenShape does.
func walk(d *Decoder, stop bool) string {
	switch d.Peek() {
	case '{':
		out := "{"
		n := 0
		for range d.Members() {
			out += "k:"
			if n%2 == 0 {
				out += walk(d, stop)
			} else {
				out += "_" // left unread
			}
			out += ","
			n++
			if stop {
				break
			}
		}
		return out + "}"
	case '[':
		out := "["
		for i := range d.Elements() {
			if i%2 == 0 {
				out += walk(d, stop)
			} else {
				out += "_"
			}
			out += ","
			if stop {
				break
			}
		}
		return out + "]"
	}
	d.Skip()
	return "v"
}

func tokenShape(jd *json.Decoder, stop bool) (string, error) {
	tok, err := jd.Token()
	if err != nil {
		return "", err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return "v", nil
	}
	out := string(delim)
	for i := 0; jd.More(); i++ {
		if delim == '{' {
			if _, err := jd.Token(); err != nil {
				return "", err
			}
			if i == 0 || !stop {
				out += "k:"
			}
		}
		if (i > 0 && stop) || i%2 == 1 {
			var raw json.RawMessage
			if err := jd.Decode(&raw); err != nil {
				return "", err
			}
			if !stop {
				out += "_,"
			}
			continue
		}
		sub, err := tokenShape(jd, stop)
		if err != nil {
			return "", err
		}
		out += sub + ","
	}
	if _, err := jd.Token(); err != nil {
		return "", err
	}
	if delim == '{' {
		return out + "}", nil
	}
	return out + "]", nil
}
