package session

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// refParseTags is the original's middleware logic written plainly, over
// strings: the oracle for ParseTags.
func refParseTags(header string) [][2]string {
	var keys []string
	vals := map[string]string{}
	for _, entry := range strings.Split(header, ",") {
		entry = strings.TrimFunc(entry, isPySpace)
		if entry == "" {
			continue
		}
		if len(keys) >= MaxTags {
			break
		}
		key, val := entry, "true"
		if i := strings.IndexByte(entry, ':'); i >= 0 {
			key = strings.TrimFunc(entry[:i], isPySpace)
			val = strings.TrimFunc(entry[i+1:], isPySpace)
		}
		if key == "" || utf8.RuneCountInString(key) > MaxTagKeyRunes {
			continue
		}
		for i, n := 0, 0; i < len(val); n++ {
			if n == MaxTagValueRunes {
				val = val[:i]
				break
			}
			_, size := utf8.DecodeRuneInString(val[i:])
			i += size
		}
		if _, ok := vals[key]; !ok {
			keys = append(keys, key)
		}
		vals[key] = val
	}
	out := make([][2]string, len(keys))
	for i, k := range keys {
		out[i] = [2]string{k, vals[k]}
	}
	return out
}

func FuzzParseTags(f *testing.F) {
	for _, s := range []string{
		"user:test@example.com,env:production,team:engineering",
		"debug,verbose", "time:12:30:45,path:/api/v1:users", "  user : x , env : prod  ",
		"user:test,,env:prod,", ":v", "a:1,a:2", strings.Repeat("k", 70) + ":v",
		"k:" + strings.Repeat("é", 600), "\u00a0k\u3000:\u2028v\u0085", "\xff:\xfe,\x1c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		in := []byte(header)
		got := ParseTags(nil, in)
		want := refParseTags(header)
		if len(got) != len(want) {
			t.Fatalf("ParseTags(%q) = %q, want %q", header, tagPairs(got), want)
		}
		for i := range got {
			if string(got[i].Key) != want[i][0] || string(got[i].Value) != want[i][1] {
				t.Fatalf("ParseTags(%q) = %q, want %q", header, tagPairs(got), want)
			}
			// keys and values alias the header (flags aside): no copies
			if !aliases(in, got[i].Key) || (!aliases(in, got[i].Value) && !bytes.Equal(got[i].Value, tagTrue)) {
				t.Fatalf("tag %d does not alias the header", i)
			}
		}
	})
}

func aliases(buf, sub []byte) bool {
	if len(sub) == 0 {
		return true
	}
	for i := 0; i+len(sub) <= len(buf); i++ {
		if &buf[i] == &sub[0] {
			return true
		}
	}
	return false
}

func FuzzHeaders(f *testing.F) {
	for _, s := range []string{"x-cylestio-session-id", "X-Cylestio-Tags", "x-cylestio-", "authorization", "X-CYLESTIO-PROMPT-ID", "x-cylestio-agent-id\x00"} {
		f.Add(s, " value ", "")
	}
	names := map[string]HeaderKind{
		"x-cylestio-session-id": HeaderSessionID, "x-cylestio-conversation-id": HeaderConversationID,
		"x-cylestio-agent-id": HeaderAgentID, "x-cylestio-prompt-id": HeaderPromptID, "x-cylestio-tags": HeaderTags,
	}
	f.Fuzz(func(t *testing.T, name, v1, v2 string) {
		lower := asciiLower(name)
		want := NotCylestio
		if strings.HasPrefix(lower, cylestioPrefix) {
			want = HeaderOtherCylestio
			if k, ok := names[lower]; ok {
				want = k
			}
		}
		if got := ClassifyHeader([]byte(name)); got != want {
			t.Fatalf("ClassifyHeader(%q) = %d, want %d", name, got, want)
		}
		id := SessionIDHeader([]byte(v1), []byte(v2))
		wantID := strings.Trim(v1, " \t")
		if wantID == "" {
			wantID = strings.Trim(v2, " \t")
		}
		if string(id) != wantID || string(AgentIDHeader([]byte(v1), []byte(v2))) != wantID {
			t.Fatalf("id header (%q, %q) = %q, want %q", v1, v2, id, wantID)
		}
	})
}

// asciiLower lowers ASCII letters only, as HTTP header names compare.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
