package behavior

import "testing"

// BenchmarkEvaluate is the report and analysis of 1,000 sessions.
func BenchmarkEvaluate(b *testing.B) {
	ss := workload(1000)
	pii := &PIISummary{ByType: map[string]int64{}}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(&Input{AgentID: "a", Sessions: ss, PII: pii, Now: now})
	}
}

// BenchmarkAnalyzeMax is the analysis at the dashboard's bound, 2,000
// sessions.
func BenchmarkAnalyzeMax(b *testing.B) {
	ss := workload(2000)
	b.ReportAllocs()
	for b.Loop() {
		Analyze(ss, 0)
	}
}
