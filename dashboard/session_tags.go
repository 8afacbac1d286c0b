package dashboard

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
)

// tagsOf is the top-level "tags" object of an event's attributes.
func tagsOf(attrs string) string {
	var a struct {
		Tags json.RawMessage `json:"tags"`
	}
	_ = json.Unmarshal([]byte(attrs), &a)
	return string(a.Tags)
}

// Tags are read from the events table's tags column, which the sink fills
// on every session.start (sink's rowTags): a flat JSON object of strings,
// "{}" for a start without tags. ClickHouse 18.16's visitParam functions
// find the first "key" anywhere in a text, which in that object is always
// a top-level tag, so SQL matches tags exactly. Rows stored before the
// column existed hold "" there; for them (legacy rows) the tags are still
// read from the attributes and checked in Go, as before. No backfill: the
// attributes' "tags" cannot be told from a tool parameter named "tags" in
// 18.16's SQL, and legacy rows age out with retention.

// storedTags is the SELECT list that reads a session.start's tags: the
// column, and the attributes of legacy rows only.
const storedTags = "tags, if(tags = '', attributes, '') AS legacy_attrs"

// hasStoredTags keeps the session starts that carry tags.
const hasStoredTags = "(tags NOT IN ('', '{}') OR (tags = '' AND position(attributes, '\"tags\":') > 0))"

// tagsOfRow is the tags object of a row read with storedTags.
func tagsOfRow(r rec) string {
	if t := r.str("tags"); t != "" {
		return t
	}
	return tagsOf(r.str("legacy_attrs"))
}

// maxTagSessions bounds the sessions a tags filter keeps, and the legacy
// rows it reads.
const maxTagSessions = 100000

// resolveTags turns a tags filter into the list of matching sessions: those
// whose session.start carries every wanted tag (the x-cylestio-tags of the
// session's first request, as the list shows them; the tags of a session's
// starts add up). SQL finds them by the tags column; legacy rows are
// narrowed in SQL to those whose text holds a wanted "key":"value" and
// checked in Go. It reads the table without FINAL: a session start stored
// twice changes no tag a session has.
func (q *querier) resolveTags(ctx context.Context, f *sessionFilter) error {
	if len(f.tags) == 0 {
		return nil
	}
	var having []string
	var args []any
	for _, t := range f.tags {
		key := visitParamName(t.key)
		if t.any {
			having = append(having, "countIf(visitParamHas(tags, ?)) > 0")
			args = append(args, key)
		} else {
			having = append(having, "countIf(visitParamHas(tags, ?) AND visitParamExtractString(tags, ?) = ?) > 0")
			args = append(args, key, key, t.value)
		}
	}
	agent := ""
	var agentArgs []any
	if f.agent != "" {
		agent = " AND agent_id = ?"
		agentArgs = []any{f.agent}
	}
	res, err := q.run(ctx, "SELECT session_id AS sid FROM "+q.table+"\nPREWHERE name = "+qSession+" WHERE tags NOT IN ('', '{}')"+agent+
		"\nGROUP BY session_id\nHAVING "+strings.Join(having, " AND ")+"\nLIMIT ?", append(append(agentArgs, args...), maxTagSessions)...)
	if err != nil {
		return err
	}
	ids := []string{}
	keep := func(sid string) {
		if len(f.ids) == 0 || contains(f.ids, sid) {
			ids = append(ids, sid)
		}
	}
	for i := range res.len() {
		keep(res.row(i).str("sid"))
	}
	legacy, err := q.legacyTagSessions(ctx, f, agent, agentArgs)
	if err != nil {
		return err
	}
	for _, sid := range legacy {
		if !contains(ids, sid) {
			keep(sid)
		}
	}
	f.tags, f.ids, f.none = nil, ids, len(ids) == 0
	return nil
}

// legacyTagSessions is resolveTags for rows stored before the tags column.
func (q *querier) legacyTagSessions(ctx context.Context, f *sessionFilter, agent string, agentArgs []any) ([]string, error) {
	var ors []string
	var args []any
	for _, t := range f.tags {
		for _, n := range tagNeedles(t) {
			ors = append(ors, "position(attributes, ?) > 0")
			args = append(args, n)
		}
	}
	res, err := q.run(ctx, "SELECT session_id AS sid, attributes FROM "+q.table+"\nPREWHERE name = "+qSession+" AND tags = ''"+
		" WHERE ("+strings.Join(ors, " OR ")+")"+agent+"\nLIMIT ?", append(append(args, agentArgs...), maxTagSessions)...)
	if err != nil || res.len() == 0 {
		return nil, err
	}
	seen := map[string]map[string]string{}
	var order []string
	for i := range res.len() {
		r := res.row(i)
		sid := r.str("sid")
		m := seen[sid]
		if m == nil {
			m = map[string]string{}
			seen[sid] = m
			order = append(order, sid)
		}
		mergeTags(m, tagsOf(r.str("attributes")))
	}
	if len(order) > 0 {
		// A session stored across the upgrade adds the tags of its newer
		// starts.
		res, err = q.run(ctx, "SELECT session_id AS sid, tags FROM "+q.table+"\nPREWHERE name = "+qSession+
			" WHERE session_id IN ? AND tags NOT IN ('', '{}')"+agent, append([]any{order}, agentArgs...)...)
		if err != nil {
			return nil, err
		}
		for i := range res.len() {
			r := res.row(i)
			mergeTags(seen[r.str("sid")], r.str("tags"))
		}
	}
	var out []string
	for _, sid := range order {
		if matchTags(seen[sid], f.tags) {
			out = append(out, sid)
		}
	}
	return out, nil
}

// visitParamName is how key appears between the quotes of "key": in the
// tags column (JSON-escaped as the sink writes it), the form visitParam
// functions search for.
func visitParamName(key string) string {
	k := jsonString(key)
	return k[1 : len(k)-1]
}

func matchTags(m map[string]string, want []tagFilter) bool {
	for _, t := range want {
		v, ok := m[t.key]
		if !ok || (!t.any && v != t.value) {
			return false
		}
	}
	return true
}

// tagNeedles are how a wanted tag may appear in stored JSON:
// "key":"value" (or "key": for a bare key), escaped as JSON writers escape
// it, with and without escaping <, > and & (the edge does not; encoding/json
// does).
func tagNeedles(t tagFilter) []string {
	k, hk := jsonString(t.key), htmlEscaped(t.key)
	if !t.any {
		k, hk = k+":"+jsonString(t.value), hk+":"+htmlEscaped(t.value)
	} else {
		k, hk = k+":", hk+":"
	}
	if hk == k {
		return []string{k}
	}
	return []string{k, hk}
}

func htmlEscaped(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// mergeTags adds the tags of a stored {"k":"v"} object to m.
func mergeTags(m map[string]string, raw string) {
	var t map[string]any
	if json.Unmarshal([]byte(raw), &t) != nil {
		return
	}
	for k, v := range t {
		if s, ok := v.(string); ok {
			m[k] = s
		} else if v != nil {
			b, _ := json.Marshal(v)
			m[k] = string(b)
		}
	}
}

// TagValue is one value of a session tag and how many sessions carry it.
type TagValue struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// TagKey is a session tag key and its values.
type TagKey struct {
	Key    string     `json:"key"`
	Values []TagValue `json:"values"`
}

// tagPair matches one "key":"value" member of the tags column, whose
// values are all strings.
const tagPair = `"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*"`

// maxTagStarts is how many of the latest session starts with tags the tag
// list counts (and as many legacy ones).
const maxTagStarts = 10000

// sessionTags counts each tag's values over the latest session starts with
// tags: SQL counts the key/value pairs of their tags column without
// reading the attributes; legacy rows are read from their attributes.
func (q *querier) sessionTags(ctx context.Context) ([]TagKey, error) {
	res, err := q.run(ctx, "SELECT pair, count() AS n FROM (SELECT tags FROM "+q.src+
		"\nPREWHERE name = "+qSession+" WHERE tags NOT IN ('', '{}')\nORDER BY ts_us DESC LIMIT ?)"+
		"\nARRAY JOIN extractAll(tags, ?) AS pair\nGROUP BY pair", maxTagStarts, tagPair)
	if err != nil {
		return nil, err
	}
	counts := map[string]map[string]int64{}
	add := func(k, v string, n int64) {
		if counts[k] == nil {
			counts[k] = map[string]int64{}
		}
		counts[k][v] += n
	}
	for i := range res.len() {
		r := res.row(i)
		var kv map[string]string
		if json.Unmarshal([]byte("{"+r.str("pair")+"}"), &kv) != nil {
			continue
		}
		for k, v := range kv {
			add(k, v, r.int("n"))
		}
	}
	res, err = q.run(ctx, "SELECT attributes FROM "+q.src+"\nPREWHERE name = "+qSession+" AND tags = ''"+
		" WHERE position(attributes, '\"tags\":') > 0\nORDER BY ts_us DESC LIMIT ?", maxTagStarts)
	if err != nil {
		return nil, err
	}
	for i := range res.len() {
		m := map[string]string{}
		mergeTags(m, tagsOf(res.row(i).str("attributes")))
		for k, v := range m {
			add(k, v, 1)
		}
	}
	out := make([]TagKey, 0, len(counts))
	for k, vs := range counts {
		tk := TagKey{Key: k, Values: make([]TagValue, 0, len(vs))}
		for v, n := range vs {
			tk.Values = append(tk.Values, TagValue{Value: v, Count: n})
		}
		sort.Slice(tk.Values, func(i, j int) bool {
			if tk.Values[i].Count != tk.Values[j].Count {
				return tk.Values[i].Count > tk.Values[j].Count
			}
			return tk.Values[i].Value < tk.Values[j].Value
		})
		out = append(out, tk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
