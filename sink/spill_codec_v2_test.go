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
	// A version 1 record is a version 2 record without the three trailing
	// strings (each one zero-length byte here).
	v2 := encodeBatch(nil, time.Now(), []*Event{{ID: NewID(), Time: time.Unix(1, 0), Name: "x"}})
	v1 := append([]byte{1}, v2[1:len(v2)-3]...)
	_, got, err = decodeBatch(v1)
	if err != nil || len(got) != 1 || got[0].Name != "x" || got[0].Rule != "" {
		t.Fatalf("version 1: %v %+v", err, got)
	}
}
