package detect

import "math"

// Risk scores, 0..100. One formula serves an event and a session: it is a
// function of the confidence-weighted count of findings per severity, so a
// store can compute it with one GROUP BY (see the package documentation
// for the SQL). Each severity contributes weight × log2(1 + count): the
// first finding of a severity counts fully, repeats add less and less, so a
// support agent that sees a hundred e-mail addresses does not outrank one
// leaked private key, while repeated critical findings still saturate.

// SeverityWeights are the per-severity weights of the score, indexed by
// Severity.
var SeverityWeights = [5]float64{SeverityInfo: 0, SeverityLow: 3, SeverityMedium: 12, SeverityHigh: 35, SeverityCritical: 80}

// SeverityTotals sums finding confidences per severity.
type SeverityTotals [5]float64

// Add counts f.
func (t *SeverityTotals) Add(f *Finding) {
	if int(f.Severity) < len(t) {
		t[f.Severity] += float64(f.Confidence)
	}
}

// Score is min(100, Σ_s weight_s × log2(1 + total_s)).
func (t *SeverityTotals) Score() float64 {
	s := 0.0
	for sev, total := range t {
		if total > 0 {
			s += SeverityWeights[sev] * math.Log2(1+total)
		}
	}
	return math.Min(100, s)
}

// EventScore is the risk score of one event from its findings.
func EventScore(fs []Finding) float64 {
	var t SeverityTotals
	for i := range fs {
		t.Add(&fs[i])
	}
	return t.Score()
}

// AgentScore combines an agent's session scores: half the worst session,
// half the mean, so one bad session is visible without a long clean history
// hiding it, and a consistently risky agent ranks above an agent with a
// single incident.
func AgentScore(sessionScores []float64) float64 {
	if len(sessionScores) == 0 {
		return 0
	}
	mx, sum := 0.0, 0.0
	for _, s := range sessionScores {
		mx = math.Max(mx, s)
		sum += s
	}
	return 0.5*mx + 0.5*sum/float64(len(sessionScores))
}

// RiskLevel names a score: "none" (0), "low" (< 25), "medium" (< 50),
// "high" (< 75), "critical".
func RiskLevel(score float64) string {
	switch {
	case score <= 0:
		return "none"
	case score < 25:
		return "low"
	case score < 50:
		return "medium"
	case score < 75:
		return "high"
	}
	return "critical"
}
