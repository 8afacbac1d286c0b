package sink

import (
	"encoding/json"
	"strings"
	"testing"
)

// BenchmarkRowTagsSessionStart is the tags column of a session.start with
// 3 KB of tool schemas before its tags (once per session).
func BenchmarkRowTagsSessionStart(b *testing.B) {
	tools := `[` + strings.Repeat(`{"type":"function","function":{"name":"t","parameters":{"type":"object","properties":{"q":{"type":"string","description":"a query to run"}}}}},`, 25)
	tools = tools[:len(tools)-1] + `]`
	e := &Event{Name: SessionStart, Attributes: json.RawMessage(`{"session.id":"s","client.type":"gateway","tools":` + tools +
		`,"prompt":"You are a helpful assistant.","tags":{"env":"prod","team":"blue"},"host.name":"h"}`)}
	b.SetBytes(int64(len(e.Attributes)))
	b.ReportAllocs()
	for b.Loop() {
		if rowTags(e) == "" {
			b.Fatal("no tags")
		}
	}
}
