package edge

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/edge/policy"
)

// TestCaptureStoresTheRedactedRequest: a request a redact policy rewrote
// is stored as forwarded, whether its answer is buffered or streamed (a
// streamed one was stored as the client sent it, unredacted), and its
// llm.call.start carries the client's request for detection alone
// (ScanAttributes), so its findings are still found.
func TestCaptureStoresTheRedactedRequest(t *testing.T) {
	rules, err := policy.CompileRules([]policy.RuleSpec{{ID: "custom.customer_id", Regex: `CUST-[0-9]{8}`, Severity: detect.SeverityMedium, Category: detect.CategoryPII}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewPolicyGuard(GuardConfig{
		Rules: rules,
		Policies: []policy.Spec{{Name: "red-pii", Action: policy.Redact,
			Match: policy.Match{Categories: []string{"pii"}, Agents: []string{"red-*"}, Directions: []detect.Direction{detect.Request}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h, rec := startCapturing(t, OpenAI, Options{Guard: g})
	for _, stream := range []string{"false", "true"} {
		body := `{"model":"gpt-4o-mini","stream":` + stream + `,"messages":[{"role":"user","content":"Refund customer CUST-12345678 today"}]}`
		readAll(t, h.post("/v1/chat/completions", body, "X-Cylestio-Agent-Id", "red-1", "X-Cylestio-Session-Id", "redact-"+stream).Body)
		evs := waitEvents(t, rec, 3)
		start := string(evs[1].Attributes)
		if strings.Contains(start, "CUST-12345678") || !strings.Contains(start, "today") {
			t.Errorf("stream %s: llm.call.start of a redacted request: %s", stream, start)
		}
		if scan := evs[1].ScanAttributes; !json.Valid(scan) || !strings.Contains(string(scan), `"llm.request.data":`+body) {
			t.Errorf("stream %s: what detection reads of a redacted request: %s", stream, scan)
		}
		for _, ev := range evs {
			if ev.Name != evs[1].Name && ev.ScanAttributes != nil {
				t.Errorf("stream %s: %s carries text for detection", stream, ev.Name)
			}
		}
	}
}
