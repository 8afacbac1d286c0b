package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range validSeeds {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", c, got, want)
		}
	}
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	var d Decoder
	d.Reset([]byte(deep))
	d.Skip()
	if err := d.Err(); !errors.Is(err, ErrTooDeep) {
		t.Errorf("%d levels: error %v, want ErrTooDeep", MaxDepth+1, err)
	}
	d.Reset([]byte(`{"a":1,}`))
	d.Skip()
	var se *SyntaxError
	if err := d.Err(); !errors.As(err, &se) || !errors.Is(err, ErrInvalidJSON) || se.Offset != 7 {
		t.Errorf(`{"a":1,}: error %v, want ErrInvalidJSON at offset 7`, err)
	}
}

var validSeeds = []string{
	``, ` `, `null`, `true`, `fals`, `0`, `-0`, `01`, `1.`, `1.5e+3`, `-`, `1e`, `"`, `"a\"b"`, `"\x"`,
	`"\u00e9\ud83d\ude00"`, `"\u12"`, "\"a\x01\"", `[]`, `[1,]`, `[1 2]`, `{}`, `{"a":1}`, `{"a" 1}`,
	`{"a":1,}`, `{a:1}`, `[{"a":[{"b":{}}]},"x",-1.5e-3,true,false,null]`, ` {"a" : [ 1 , 2 ] } `, `{"a":1}x`,
	"\"\xff\"", `"long string that takes the word-at-a-time path \n and then \" some more"`,
}

func TestMember(t *testing.T) {
	obj := []byte(` { "a" : 1, "b":{"c":[1,2,{"d":"}"}]}, "e\"q":"v", "big": "x,y]}", "last": [ ], "\u0061":"dup" } `)
	for name, want := range map[string]string{"a": "1", "b": `{"c":[1,2,{"d":"}"}]}`, `e"q`: `"v"`, "big": `"x,y]}"`, "last": "[ ]", "none": ""} {
		if got := string(Member(obj, name)); got != want {
			t.Errorf("Member %q = %q, want %q", name, got, want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a"`, `{"a":`, `{"b":1,`, `[`, `"`, `{"a" 1}`, `nul`, `["a",1]`} {
		if got := Member([]byte(bad), "a"); got != nil {
			t.Errorf("Member(%q) = %q, want nil", bad, got)
		}
	}
}

func TestMembersAndElements(t *testing.T) {
	var d Decoder
	d.Reset([]byte(` [ 1 ,"two", {"three":[3], "skip":{"x":[1,{}]}, "four":"4"} , [4, 5], null ] `))
	var got []string
	for i := range d.Elements() {
		switch i {
		case 1:
			got = append(got, d.Str().String())
		case 2:
			for k := range d.Members() {
				if string(k) != "skip" {
					got = append(got, string(k)+"="+string(d.Raw()))
				}
			}
		case 3:
			for range d.Elements() {
				n, _ := d.Int()
				got = append(got, string(rune('0'+n)))
				if n == 4 {
					break // stop early: the rest of [4, 5] is skipped
				}
			}
		}
		// elements 0 and 4 are left unread and skipped
	}
	d.End()
	if want := `two three=[3] four="4" 4`; strings.Join(got, " ") != want || d.Failed() {
		t.Fatalf("read %q (error %v), want %q", strings.Join(got, " "), d.Err(), want)
	}

	// Stopping early leaves the cursor past the object, whether or not the
	// value was read.
	for _, read := range []bool{false, true} {
		d.Reset([]byte(`[{"a":{"x":1},"b":[2],"c":3},"after"]`))
		var after string
		for i := range d.Elements() {
			if i > 0 {
				after = d.Str().String()
				continue
			}
			for k := range d.Members() {
				if read {
					d.Raw()
				}
				if string(k) == "a" {
					break
				}
			}
		}
		d.End()
		if after != "after" || d.Failed() {
			t.Errorf("read=%v: next element %q, error %v", read, after, d.Err())
		}
	}

	// Peek and IsNull on a non-null read nothing: the value is skipped.
	d.Reset([]byte(`{"a":[1,2],"b":"x"}`))
	var b string
	for k := range d.Members() {
		if string(k) == "a" {
			d.Peek()
			d.IsNull()
		} else {
			b = d.Str().String()
		}
	}
	if d.End(); b != "x" || d.Failed() {
		t.Errorf("b = %q, error %v", b, d.Err())
	}

	// A value of the wrong kind is skipped; a broken one stops the walk.
	for _, c := range []struct{ doc, want string }{{`"str"`, ""}, {`{"k":1}`, ""}, {`[1,2`, "0 1"}, {`{"k":1,"j"}`, ""}} {
		d.Reset([]byte(c.doc))
		var seen []string
		for i := range d.Elements() {
			seen = append(seen, string(rune('0'+i)))
		}
		if strings.Join(seen, " ") != c.want {
			t.Errorf("Elements over %s saw %q, want %q", c.doc, seen, c.want)
		}
	}
}

func TestKeyWithEscapes(t *testing.T) {
	var d Decoder
	long := strings.Repeat(`\u0061`, 20) // 120 bytes escaped: returned raw
	d.Reset([]byte(`{"r\u006fle":"user","` + long + `":1}`))
	var keys []string
	for k := range d.Members() {
		keys = append(keys, string(k))
	}
	if len(keys) != 2 || keys[0] != "role" || keys[1] != long {
		t.Errorf("keys %q", keys)
	}
}

func TestUnescape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`plain`, "plain"},
		{`a\"b\\c\/d\be\ff\ng\rh\ti`, "a\"b\\c/d\be\ff\ng\rh\ti"},
		{`\u00e9\u00E9 \ud83d\ude00`, "éé 😀"},
		{`lone \ud83d end \ude00`, "lone \uFFFD end \uFFFD"},
		{`\ud83d\u0041`, "\uFFFDA"},
		{`bad \x and \u12g`, "bad \uFFFD and \uFFFD12g"},
		{`trailing \`, "trailing \uFFFD"},
		{"raw \xff é", "raw \xff é"},
	} {
		if got := string(AppendUnescaped(nil, []byte(c.in))); got != c.want {
			t.Errorf("AppendUnescaped(%q) = %q, want %q", c.in, got, c.want)
		}
		s := Str{Raw: []byte(c.in), Escaped: true}
		if !s.Equal(c.want) || s.Equal(c.want+"x") || !s.EqualStr(Str{Raw: []byte(c.want)}) {
			t.Errorf("Str(%q).Equal disagrees with Append", c.in)
		}
	}
	// Prefixes count code points: an escape is one, a pair is one.
	for _, c := range []struct {
		in   string
		n    int
		want string
		rest string
	}{
		{`abc`, 2, "ab", "c"},
		{`\ud83d\ude00xy`, 2, "😀x", "y"},
		{`é\nz`, 2, "é\n", "z"},
		{`ab`, 5, "ab", ""},
	} {
		got, rest := AppendUnescapedPrefix(nil, []byte(c.in), c.n)
		if string(got) != c.want || string(rest) != c.rest {
			t.Errorf("AppendUnescapedPrefix(%q, %d) = %q, %q; want %q, %q", c.in, c.n, got, rest, c.want, c.rest)
		}
	}
}

func TestReadersOnWrongKinds(t *testing.T) {
	var d Decoder
	d.Reset([]byte(`["s", 1, true, null, 2.5, 1e3, 12345678901234567890, -7]`))
	var out []string
	for i := range d.Elements() {
		switch i {
		case 0:
			_, ok := d.Int()
			out = append(out, strings.Repeat("int", b2i(ok)))
		case 1:
			s := d.StrOrSkip()
			out = append(out, strings.Repeat("str", b2i(s.Present())))
		case 2:
			v, ok := d.Bool()
			out = append(out, strings.Repeat("true", b2i(v && ok)))
		case 3:
			out = append(out, strings.Repeat("null", b2i(d.IsNull())))
		case 4:
			f, _ := d.Float()
			out = append(out, strings.Repeat("2.5", b2i(f == 2.5)))
		case 5, 6, 7:
			n, ok := d.Int()
			out = append(out, strings.Repeat("int", b2i(ok && (n == 1000 || n == -7))))
		}
	}
	if got := strings.Join(out, ","); got != ",,true,null,2.5,int,,int" || d.Failed() {
		t.Errorf("read %q, error %v", got, d.Err())
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
