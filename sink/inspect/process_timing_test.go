package inspect

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/internal/cputime"
	"github.com/cylestio/perimeter/sink"
)

// counterMark is the fixed-width placeholder every text of a benchmark
// conversation carries; each iteration writes its own number over it, so
// that every iteration is a conversation never seen before and the memo
// only helps within it.
const counterMark = "conv#000000000"

// varied is a batch whose texts carry counterMark.
type varied struct {
	batch []*sink.Event
	marks [][]int // per event, the offsets of counterMark in its attributes
	n     int
}

func newVaried(batch []*sink.Event) *varied {
	v := &varied{batch: batch, marks: make([][]int, len(batch))}
	for i, e := range batch {
		for off := 0; ; {
			j := bytes.Index(e.Attributes[off:], []byte(counterMark))
			if j < 0 {
				break
			}
			v.marks[i] = append(v.marks[i], off+j)
			off += j + len(counterMark)
		}
	}
	return v
}

// next rewrites the counters in place and returns the batch, as a
// session of its own.
func (v *varied) next() []*sink.Event {
	v.n++
	sid := strconv.Itoa(v.n)
	var num [9]byte
	for i, x := 0, v.n; i < len(num); i++ {
		num[len(num)-1-i] = byte('0' + x%10)
		x /= 10
	}
	for i, e := range v.batch {
		for _, off := range v.marks[i] {
			copy(e.Attributes[off+len(counterMark)-len(num):], num[:])
		}
		e.RiskScore, e.SessionID = 0, sid
	}
	return v.batch[:len(v.batch):len(v.batch)]
}

// benchConversation is one agent conversation of turns calls as the
// pipeline sees it: every call resends the whole history (system prompt,
// the user's and the assistant's turns, tool outputs) with the tool
// definitions; each call has its answer, tool call and tool result.
func benchConversation(turns int) []*sink.Event {
	user := []string{
		"Hello! Can you tell me about the weather in Paris in the spring, and what I should pack for a week of walking tours? " + counterMark,
		"Thanks. My colleague jane.doe@example.org will join; please also suggest three museums that open early. " + counterMark,
		"Could you compare the Louvre and the Musée d'Orsay for a first visit, with opening hours and the best time to go? " + counterMark,
	}
	answer := strings.Repeat("Paris in spring is mild, with highs around 15 to 20 degrees and the odd shower; pack layers, comfortable shoes and an umbrella. ", 4)
	tool := "Museum hours: Louvre 9:00-18:00 (closed Tuesday), Orsay 9:30-18:00 (closed Monday), Orangerie 9:00-18:00. " + counterMark
	tools := []any{
		map[string]any{"type": "function", "function": map[string]any{"name": "museum_hours", "description": "Returns the opening hours of a museum.",
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"museum": map[string]any{"type": "string"}}}}},
	}
	batch := []*sink.Event{ev(sink.SessionStart, map[string]any{"prompt": "You are a helpful travel assistant. " + counterMark})}
	history := []any{map[string]any{"role": "system", "content": "You are a helpful travel assistant. " + counterMark}}
	for turn := range turns {
		history = append(history, map[string]any{"role": "user", "content": fmt.Sprintf("(turn %d) %s", turn, user[turn%len(user)])})
		batch = append(batch, ev(sink.LLMCallStart, map[string]any{"llm.request.data": map[string]any{"model": "gpt-4o-mini", "messages": history, "tools": tools}}))
		a := fmt.Sprintf("(turn %d) %s %s", turn, answer, counterMark)
		fin := ev(sink.LLMCallFinish, map[string]any{"llm.response.content": []any{map[string]any{"type": "text", "text": a}}})
		fin.InputTokens, fin.OutputTokens = int64(300*(turn+1)), 120
		exec := ev(sink.ToolExecution, map[string]any{"tool.params": map[string]any{"museum": fmt.Sprintf("louvre (turn %d) %s", turn, counterMark)}})
		exec.ToolName = "museum_hours"
		res := ev(sink.ToolResult, map[string]any{"tool.result": fmt.Sprintf("(turn %d) %s", turn, tool)})
		res.ToolName = "museum_hours"
		batch = append(batch, fin, exec, res)
		history = append(history, map[string]any{"role": "assistant", "content": a},
			map[string]any{"role": "tool", "content": fmt.Sprintf("(turn %d) %s", turn, tool)})
	}
	return batch
}

// BenchmarkProcessConversation processes a whole conversation per
// iteration (each iteration a new one, see counterMark), with and without
// the memo: a 10-turn conversation and the one-turn case.
func BenchmarkProcessConversation(b *testing.B) {
	for _, turns := range []int{1, 10} {
		for _, memo := range []int{0, DefaultMemoBytes} {
			b.Run(fmt.Sprintf("turns=%d/memo=%v", turns, memo > 0), func(b *testing.B) {
				p := New(detect.Options{}, 1000)
				p.SetMemoBytes(memo)
				v := newVaried(benchConversation(turns))
				b.ReportAllocs()
				cputime.Loop(b, func() { p.Process(v.next()) })
			})
		}
	}
}

// BenchmarkProcessTypicalCall scans the events of one small call, a new
// one every iteration.
func BenchmarkProcessTypicalCall(b *testing.B) {
	p := New(detect.Options{}, 1000)
	v := newVaried([]*sink.Event{
		ev(sink.SessionStart, map[string]any{"prompt": "You are a helpful assistant."}),
		ev(sink.LLMCallStart, map[string]any{"llm.request.data": map[string]any{"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "system", "content": "You are a helpful assistant."}, map[string]any{"role": "user", "content": "Hello! Can you tell me about the weather in Paris in the spring, and what I should pack? " + counterMark}}}}),
		ev(sink.LLMCallFinish, map[string]any{"llm.response.content": []any{map[string]any{"type": "text", "text": "Hello there, how may I assist you today? Paris in spring is mild, pack layers and an umbrella."}}}),
	})
	b.ReportAllocs()
	cputime.Loop(b, func() { p.Process(v.next()) })
}

// BenchmarkMemoMiss is the memo's cost for an input it has not seen: the
// key of a 300-byte message, a lookup and a put in a full table.
func BenchmarkMemoMiss(b *testing.B) {
	for _, size := range []int{256 << 10, 1 << 20, DefaultMemoBytes} {
		b.Run(strconv.Itoa(size>>10)+"KiB", func(b *testing.B) { benchMemoMiss(b, size) })
	}
}

func benchMemoMiss(b *testing.B, size int) {
	m := newMemo(size)
	role := []byte("user")
	content := []byte(`"` + strings.Repeat("Paris in spring is mild; pack layers. ", 8) + `"`)
	var n uint64
	cputime.Loop(b, func() {
		n++
		copy(content[1:], strconv.FormatUint(n, 16))
		key := memoKey(memoMessage, role, content, nil)
		if _, hit := m.get(nil, key); !hit {
			m.put(key, nil)
		}
	})
}
