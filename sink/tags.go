package sink

import (
	"bytes"
	"encoding/json"
	"sort"

	"github.com/cylestio/perimeter/internal/jsonscan"
)

// rowTags is the tags column of e. For a session.start it is the
// top-level "tags" object of the attributes (the x-cylestio-tags of the
// session's first request) as a flat JSON object of strings, keys sorted:
// a value that is not a string is stored as its JSON text, a null is
// dropped, and a start without tags stores "{}". Every other event stores
// "". The flat form is what makes the column searchable with ClickHouse
// 18.16's visitParam functions, which find the first "key" anywhere in a
// text: in this object every key is a top-level tag, and a quote inside a
// value is always escaped, so a value can never look like a key.
//
// It is derived here, from the attributes every insert path stores, so
// that events from any source (capture, spill replay, imports) get it.
// Only session.start events are read, once per session, and only up to
// their tags.
func rowTags(e *Event) string {
	if e.Name != SessionStart {
		return ""
	}
	raw := jsonscan.Member(e.Attributes, "tags")
	if len(raw) == 0 || raw[0] != '{' {
		return "{}"
	}
	var tags map[string]any
	if json.Unmarshal(raw, &tags) != nil || len(tags) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(tags))
	for k, v := range tags {
		if v != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	str := func(s string) {
		_ = enc.Encode(s)
		b.Truncate(b.Len() - 1) // Encode's newline
	}
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		str(k)
		b.WriteByte(':')
		v, ok := tags[k].(string)
		if !ok {
			raw, _ := json.Marshal(tags[k])
			v = string(raw)
		}
		str(v)
	}
	b.WriteByte('}')
	return b.String()
}
