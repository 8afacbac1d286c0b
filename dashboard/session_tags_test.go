package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// tagWorld is sessions whose starts carry awkward tags: escapes, non-ASCII,
// an empty value, a tool parameter and a prompt that look like tags, and a
// session with two starts whose tags add up.
func tagWorld() []*sink.Event {
	var s seed
	at := t0.Add(-time.Hour)
	next := func() time.Time { at = at.Add(time.Minute); return at }
	s.start("ag-t", "t-1", next(), "p", map[string]string{"env": "prod", `q"k`: `a"b\c`, "u": "ü<&>", "empty": ""}, "search")
	s.start("ag-t", "t-2", next(), `say "env":"prod" please`, map[string]string{"env": "dev"})
	s.start("ag-t", "t-3", next(), "p", map[string]string{"env": "prod"})
	s.start("ag-t", "t-3", next(), "p", map[string]string{"team": "red"})
	s.start("ag-u", "t-4", next(), "p", nil, "lookup")
	s.start("ag-u", "t-5", next(), "p", map[string]string{"env": "prod", "team": "blue"}, "search", "lookup")
	return s.events
}

var tagQueries = []struct {
	tags string
	want string // session ids, newest first
}{
	{"env:prod", "t-5,t-3,t-1"},
	{"env", "t-5,t-3,t-2,t-1"},
	{"env:dev", "t-2"},
	{`q"k:a"b\c`, "t-1"},
	{"u:ü<&>", "t-1"},
	{"empty:", "t-1"},
	{"empty", "t-1"},
	{"env:prod,team:red", "t-3"},
	{"env:prod,team:blue", "t-5"},
	{"team", "t-5,t-3"},
	{"tags", ""},   // a tool parameter, not a tag
	{"prompt", ""}, // nor is the prompt
	{"env:pro", ""},
}

// insertLegacy stores events as rows written before the tags column
// existed: the column keeps its default, "".
func insertLegacy(t *testing.T, st sink.Store, events []*sink.Event) {
	t.Helper()
	ex, ok := st.(sink.SchemaExecer)
	if !ok {
		t.Fatalf("%T cannot run INSERT", st)
	}
	o := schemaOf(st)
	for _, e := range events {
		q, err := sink.Bind("INSERT INTO "+o.Table(sink.EventsTable)+
			" (id, date, ts, ts_us, name, level, session_id, agent_id, vendor, model, attributes)"+
			" SELECT toUUID(?), toDate(?), toDateTime(?), ?, ?, ?, ?, ?, ?, ?, ?",
			string(sink.AppendUUID(nil, e.ID)), e.Time.UTC().Format("2006-01-02"), e.Time.Unix(), uint64(e.Time.UnixMicro()),
			e.Name, e.Level, e.SessionID, e.AgentID, e.Vendor, e.Model, string(e.Attributes))
		if err != nil {
			t.Fatal(err)
		}
		if err := ex.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTagFilterByColumn: sessions filtered by tag, their tags and the tag
// list are the same whether the session starts carry the tags column (SQL
// matches it) or were stored before it (read from the attributes in Go),
// on every engine; a store holding both kinds answers the same again.
func TestTagFilterByColumn(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		events := tagWorld()
		column := storeWith(t, engine, events)
		legacy := openStore(t, engine)
		insertLegacy(t, legacy, events)
		mixed := openStore(t, engine)
		if err := mixed.WriteBatch(context.Background(), events[:3]); err != nil {
			t.Fatal(err)
		}
		insertLegacy(t, mixed, events[3:])

		res, err := column.Query(context.Background(), "SELECT tags FROM "+sink.EventsSource(schemaOf(column))+" WHERE session_id = 't-1'")
		if err != nil || len(res.Data) != 1 || res.Data[0][0] != `{"empty":"","env":"prod","q\"k":"a\"b\\c","u":"ü<&>"}` {
			t.Fatalf("t-1's tags column: %v %v", res, err)
		}

		answers := map[string]string{}
		for _, kind := range []struct {
			name string
			st   sink.Store
		}{{"column", column}, {"legacy", legacy}, {"mixed", mixed}} {
			s := testServer(t, kind.st, nil)
			var out strings.Builder
			for _, c := range tagQueries {
				var r SessionListResponse
				get(t, s, "/api/sessions/list?tags="+url.QueryEscape(c.tags), &r)
				var ids []string
				for _, x := range r.Sessions {
					ids = append(ids, x.ID)
					fmt.Fprintf(&out, "%s %s %v\n", c.tags, x.ID, sortedTags(x.Tags))
				}
				if got := strings.Join(ids, ","); got != c.want || r.TotalCount != int64(len(ids)) {
					t.Errorf("%s: tags=%s gives %q (total %d), want %q", kind.name, c.tags, got, r.TotalCount, c.want)
				}
			}
			var tags TagsResponse
			get(t, s, "/api/sessions/tags", &tags)
			b, _ := json.Marshal(tags.Tags)
			out.Write(b)
			answers[kind.name] = out.String()
		}
		want := `[{"key":"empty","values":[{"value":"","count":1}]},{"key":"env","values":[{"value":"prod","count":3},{"value":"dev","count":1}]},` +
			`{"key":"q\"k","values":[{"value":"a\"b\\c","count":1}]},{"key":"team","values":[{"value":"blue","count":1},{"value":"red","count":1}]},` +
			`{"key":"u","values":[{"value":"ü\u003c\u0026\u003e","count":1}]}]`
		if !strings.HasSuffix(answers["column"], want) {
			t.Errorf("tag list:\n%s\nwant suffix\n%s", answers["column"], want)
		}
		if answers["column"] != answers["legacy"] || answers["column"] != answers["mixed"] {
			t.Errorf("answers differ\ncolumn:\n%s\nlegacy:\n%s\nmixed:\n%s", answers["column"], answers["legacy"], answers["mixed"])
		}
	})
}

func sortedTags(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
