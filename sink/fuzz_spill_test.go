package sink

import (
	"testing"
	"time"
)

// FuzzDecodeBatch feeds arbitrary payloads to the spill record decoder: it
// must return an error or events that re-encode to the same bytes.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(encodeBatch(nil, time.Unix(1, 2), []*Event{fullEvent()}))
	f.Add(encodeBatch(nil, time.Unix(0, 0), []*Event{{}, {Attributes: []byte{}}}))
	f.Add([]byte{1, 0, 255, 255, 255, 255, 15})
	f.Fuzz(func(t *testing.T, payload []byte) {
		created, events, err := decodeBatch(payload)
		if err != nil {
			return
		}
		again := encodeBatch(nil, created, events)
		if _, events2, err := decodeBatch(again); err != nil || len(events2) != len(events) {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
	})
}
