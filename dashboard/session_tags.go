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

// maxTagCandidates bounds the sessions a tags filter considers.
const maxTagCandidates = 100000

// resolveTags turns a tags filter into the list of matching sessions: those
// whose session.start carries every wanted tag (the x-cylestio-tags of the
// session's first request, as the list shows them). SQL narrows the
// session starts to those whose text holds a wanted "key":"value" (a
// superset); Go then reads each candidate's real top-level tags, exactly on
// every engine.
func (q *querier) resolveTags(ctx context.Context, f *sessionFilter) error {
	if len(f.tags) == 0 {
		return nil
	}
	var ors []string
	var args []any
	for _, t := range f.tags {
		ors = append(ors, "position(attributes, ?) > 0")
		args = append(args, tagNeedle(t))
	}
	where := "PREWHERE name = " + qSession + " WHERE (" + strings.Join(ors, " OR ") + ")"
	if f.agent != "" {
		where += " AND agent_id = ?"
		args = append(args, f.agent)
	}
	res, err := q.run(ctx, "SELECT session_id AS sid, attributes FROM "+q.src+"\n"+where+"\nLIMIT ?", append(args, maxTagCandidates)...)
	if err != nil {
		return err
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
	ids := []string{}
	for _, sid := range order {
		if matchTags(seen[sid], f.tags) && (len(f.ids) == 0 || contains(f.ids, sid)) {
			ids = append(ids, sid)
		}
	}
	f.tags, f.ids, f.none = nil, ids, len(ids) == 0
	return nil
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

// tagNeedle is how a wanted tag appears in stored JSON: "key":"value" (or
// "key": for a bare key), escaped as JSON writers escape it.
func tagNeedle(t tagFilter) string {
	k := jsonString(t.key)
	if t.any {
		return k + ":"
	}
	return k + ":" + jsonString(t.value)
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

func (q *querier) sessionTags(ctx context.Context) ([]TagKey, error) {
	res, err := q.run(ctx, "SELECT session_id AS sid, attributes FROM "+q.src+
		"\nPREWHERE name = "+qSession+" WHERE position(attributes, '\"tags\":') > 0\nORDER BY ts_us DESC LIMIT 10000")
	if err != nil {
		return nil, err
	}
	counts := map[string]map[string]int64{}
	for i := range res.len() {
		m := map[string]string{}
		mergeTags(m, tagsOf(res.row(i).str("attributes")))
		for k, v := range m {
			if counts[k] == nil {
				counts[k] = map[string]int64{}
			}
			counts[k][v]++
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
