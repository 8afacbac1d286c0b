package session

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzCanonJSON checks canonHash on JSON texts: a valid JSON value keeps
// its fingerprint when re-serialised compact, with its object keys sorted
// (the re-encoding of a client that stores tool arguments and results as
// objects), and as the body of a JSON string; no input panics.
func FuzzCanonJSON(f *testing.F) {
	for _, s := range []string{
		`{"city": "Paris", "days": 3, "flags": [true, null]}`,
		`[{"b": "x"}, {"a": "y"}]`,
		`{"text": "“curly” quotes\nand lines", "n": -1.5e-3}`,
		`{"a": {"b": {"c": {}}}, "d": []}`,
		`{"a": 1, "a": 2}`,
		`{"cut": "at the`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > ContentReadLimit {
			return
		}
		h := canonHash([]byte(s), false)
		canonHash([]byte(s), true) // never panics, escaped or not
		if !json.Valid([]byte(s)) || !startsJSON([]byte(s), false) || duplicateKeys(s) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if got := canonHash(compact.Bytes(), false); got != h {
			t.Fatalf("compact %s changes the fingerprint of %s", compact.Bytes(), s)
		}
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		sorted, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := canonHash(sorted, false); got != h {
			t.Fatalf("re-serialised %s changes the fingerprint of %s", sorted, s)
		}
		if body := jsonBody(s); len(body) <= ContentReadLimit {
			if got := canonHash([]byte(body), true); got != h {
				t.Fatalf("escaped %s changes the fingerprint of %s", body, s)
			}
		}
	})
}

// duplicateKeys reports whether an object of the JSON text s has a key
// twice (a decoder keeps one of them, so the oracle does not apply).
func duplicateKeys(s string) bool {
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	type level struct {
		obj  bool
		keys map[string]bool
		key  bool // the next token is a key
	}
	var stack []*level
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isKey := top != nil && top.obj && top.key
		if top != nil && top.obj {
			top.key = !top.key
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &level{obj: true, keys: map[string]bool{}, key: true})
			case '[':
				stack = append(stack, &level{})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].key = true
				}
			}
		case string:
			if isKey {
				if top.keys[v] {
					return true
				}
				top.keys[v] = true
			}
		}
	}
}
