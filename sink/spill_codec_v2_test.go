package sink

import (
	"testing"
	"time"
)

func TestSpillCodecKeepsFindingFieldsAndReadsVersion1(t *testing.T) {
	ev := &Event{ID: NewID(), Time: time.Unix(1700000000, 5).UTC(), Name: SecurityFinding, Category: "pii", Rule: "pii.email", Severity: "medium", Attributes: []byte(`{}`)}
	_, got, err := decodeBatch(encodeBatch(nil, time.Now(), []*Event{ev}))
	if err != nil || len(got) != 1 || got[0].Rule != "pii.email" || got[0].Category != "pii" || got[0].Severity != "medium" {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	// A version 3 record is a version 4 record without the instance id
	// (empty: 1 byte), a version 2 record one without the cost fields
	// either (zero varints, cut byte, 8 bytes of cost, empty status: 12
	// bytes here), a version 1 record one without the three finding
	// strings either (zero-length: 3 bytes).
	v4 := encodeBatch(nil, time.Now(), []*Event{{ID: NewID(), Time: time.Unix(1, 0), Name: "x"}})
	v3 := append([]byte{3}, v4[1:len(v4)-1]...)
	v2 := append([]byte{2}, v3[1:len(v3)-12]...)
	v1 := append([]byte{1}, v2[1:len(v2)-3]...)
	for i, rec := range [][]byte{v1, v2, v3} {
		_, got, err = decodeBatch(rec)
		if err != nil || len(got) != 1 || got[0].Name != "x" || got[0].Rule != "" || got[0].CostStatus != "" {
			t.Fatalf("version %d: %v %+v", i+1, err, got)
		}
	}
}

func TestSpillCodecKeepsCostFields(t *testing.T) {
	ev := &Event{ID: NewID(), Time: time.Unix(1700000000, 5).UTC(), Name: LLMCallFinish, CacheWrite1h: 7, ReasoningTokens: 9, Cut: true,
		CostUSD: 0.0123, CostStatus: CostPartial}
	_, got, err := decodeBatch(encodeBatch(nil, time.Now(), []*Event{ev}))
	if err != nil || len(got) != 1 || got[0].CostUSD != 0.0123 || got[0].CostStatus != CostPartial || !got[0].Cut ||
		got[0].CacheWrite1h != 7 || got[0].ReasoningTokens != 9 {
		t.Fatalf("round trip: %v %+v", err, got)
	}
}
