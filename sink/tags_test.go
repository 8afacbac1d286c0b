package sink

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestRowTags(t *testing.T) {
	start := func(attrs string) *Event { return &Event{Name: SessionStart, Attributes: json.RawMessage(attrs)} }
	for _, c := range []struct {
		name string
		e    *Event
		want string
	}{
		{"not a start", &Event{Name: LLMCallStart, Attributes: json.RawMessage(`{"tags":{"a":"b"}}`)}, ""},
		{"start without tags", start(`{"session.id":"s","prompt":"p"}`), "{}"},
		{"empty attributes", start(``), "{}"},
		{"invalid JSON", start(`{"tags":{"a":"b"`), "{}"},
		{"tags not an object", start(`{"tags":"a:b"}`), "{}"},
		// A tool parameter named "tags" comes first, as the edge writes it.
		{"tool parameter named tags", start(`{"tools":[{"name":"t","input_schema":{"properties":{"tags":{"type":"object"}}}}],"prompt":"\"tags\":{\"x\":\"y\"}","tags":{"env":"prod","team":"blue"}}`),
			`{"env":"prod","team":"blue"}`},
		{"sorted keys", start(`{"tags":{"z":"1","a":"2"}}`), `{"a":"2","z":"1"}`},
		{"non-string values as JSON text, null dropped", start(`{"tags":{"n":1.5,"b":true,"o":{"k":"<v>"},"x":null}}`),
			`{"b":"true","n":"1.5","o":"{\"k\":\"\\u003cv\\u003e\"}"}`},
		{"escapes", start(`{"tags":{"q\"k":"a\"b\\c","u":"ü<&>","nl":"a\nb"}}`), `{"nl":"a\nb","q\"k":"a\"b\\c","u":"ü<&>"}`},
	} {
		if got := rowTags(c.e); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
		if got := rowTags(c.e); got != "" && !json.Valid([]byte(got)) {
			t.Errorf("%s: %s is not JSON", c.name, got)
		}
	}
}

// Every insert path writes the column: the text VALUES and ColumnBatch
// (which AppendNative and the server's native batches encode).
func TestTagsColumnOnEveryInsertPath(t *testing.T) {
	e := fullEvent()
	e.Name, e.Attributes = SessionStart, json.RawMessage(`{"tags":{"env":"prod"}}`)
	var cb ColumnBatch
	cb.Append(e)
	cols := cb.Columns()
	i := slices.Index(InsertColumns(), "tags")
	if i < 0 {
		t.Fatal("no tags column")
	}
	if got := cols[i].([]string)[0]; got != `{"env":"prod"}` {
		t.Fatalf("ColumnBatch tags %q", got)
	}
	if got := string(AppendValues(nil, []*Event{e})); !strings.Contains(got, `'{"env":"prod"}'`) {
		t.Fatalf("VALUES without the tags: %s", got)
	}
}
