package behavior

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The hashes are the original's: the high 64 bits of
// md5(shingle + "_" + str(i*12345)) (values from Python's hashlib).
func TestHashesAreTheOriginals(t *testing.T) {
	h := newHasher()
	v := h.hashes("t:search")
	if v[0] != 0x8799b984734237ee || v[1] != 0xfe3d8e73c14d98e5 {
		t.Errorf("h0 = %x, h1 = %x", v[0], v[1])
	}
	if w := h.hashes("llm:gpt-4o"); w[511] != 0x8c28e5a9929d32df {
		t.Errorf("h511 = %x", w[511])
	}
	if h.hashes("t:search") != v {
		t.Error("hashes not cached")
	}
	var zero signature
	if *h.sign(nil) != zero {
		t.Error("signature of no shingles is not all zeros")
	}
}

// MinHash similarity estimates the Jaccard index.
func TestSimilarityEstimatesJaccard(t *testing.T) {
	h := newHasher()
	var a, b []string
	for i := range 100 {
		s := "x" + strconv.Itoa(i)
		if i < 75 {
			a = append(a, s)
		}
		if i >= 25 {
			b = append(b, s)
		}
	}
	// |a∩b| = 50, |a∪b| = 100.
	sa, sb := h.sign(a), h.sign(b)
	if got := similarity(sa, sb); math.Abs(got-0.5) > 0.08 {
		t.Errorf("similarity = %v, want ≈ 0.5", got)
	}
	if similarity(sa, sa) != 1 {
		t.Error("self-similarity is not 1")
	}
	if got := similarity(sa, h.sign([]string{"y1", "y2", "y3"})); got > 0.05 {
		t.Errorf("disjoint similarity = %v", got)
	}
}

func TestShingles(t *testing.T) {
	s := sess("a", "search", "search", "search", "fetch")
	b := newBinning([]Session{s})
	sh := shingles(&s, &b)
	for _, want := range []string{"t:search", "t:fetch", "b:search>search", "b:search>fetch", "g:search>search>fetch",
		"s:search>search@1", "s:search>fetch@1", "s:search>fetch@2", "r:searchx3+", "r:fetchx1", "^:search", "$:fetch",
		"llm:gpt-4o-2024-08-06", "tool_diversity:moderate", "io_ratio:input_heavy", "pattern:tool_heavy"} {
		if !slices.Contains(sh, want) {
			t.Errorf("missing %q in %v", want, sh)
		}
	}
	if !slices.IsSorted(sh) || len(slices.Compact(slices.Clone(sh))) != len(sh) {
		t.Error("shingles not a sorted set")
	}
	// Alone, every feature equals its quartiles: "high".
	if !slices.Contains(sh, "tokens:high") || !slices.Contains(sh, "duration:high") {
		t.Errorf("bins: %v", sh)
	}
	none := sess("b")
	if got := shingles(&none, &b); !slices.Contains(got, "tools:none") || slices.ContainsFunc(got, func(x string) bool { return strings.HasPrefix(x, "pattern:") }) {
		t.Errorf("no tools: %v", got)
	}
	// Fallback thresholds for a feature without values.
	if (binning{}).duration.bin(10) != "high" || fallbackTokens.bin(999) != "very_low" || fallbackTokens.bin(5000) != "medium" {
		t.Error("bins")
	}
}

func TestIdenticalSessionsFormOneCluster(t *testing.T) {
	a := Analyze(sessions(8, "search", "fetch", "summarize"), 0)
	if a.NumClusters != 1 || a.NumOutliers != 0 || a.StabilityScore != 1 || a.PredictabilityScore != 1 {
		t.Fatalf("analysis = %+v", a)
	}
	c := a.Clusters[0]
	if c.ClusterID != "cluster_1" || c.Size != 8 || c.Percentage != 100 || c.Confidence != "normal" || len(c.SessionIDs) != 8 {
		t.Errorf("cluster = %+v", c)
	}
	ch := c.Characteristics
	if ch.CommonToolSequence != "search → fetch → summarize" || strings.Join(ch.CommonTools, ",") != "fetch,search,summarize" ||
		ch.ToolCalls != (Spread{3, 3, 3}) || ch.CommonModels[0] != "gpt-4o-2024-08-06" {
		t.Errorf("characteristics = %+v", ch)
	}
	if c.Insights != "Largest cluster representing dominant behavior pattern (100% of sessions)" {
		t.Errorf("insight %q", c.Insights)
	}
	if a.Interpretation != "Highly stable agent with highly predictable behavior - single dominant pattern" {
		t.Errorf("interpretation %q", a.Interpretation)
	}
	if a.SessionCluster["s7"] != "cluster_1" {
		t.Errorf("session cluster map %v", a.SessionCluster)
	}
	if math.Abs(a.ClusterDiversity-1/math.Sqrt(8)) > 1e-12 {
		t.Errorf("diversity %v", a.ClusterDiversity)
	}
}

func TestDeviantSessionIsAnOutlier(t *testing.T) {
	ss := append(sessions(5, "search", "fetch", "search"), odd("weird"))
	a := Analyze(ss, 0)
	if a.NumClusters != 1 || a.NumOutliers != 1 || len(a.Outliers) != 1 {
		t.Fatalf("analysis = %+v", a)
	}
	o := a.Outliers[0]
	if o.SessionID != "weird" || o.NearestClusterID != "cluster_1" || o.DistanceToNearestCentroid < 0.6 {
		t.Errorf("outlier = %+v", o)
	}
	causes := strings.Join(o.PrimaryCauses, "|")
	for _, want := range []string{"never seen in normal sessions: delete_user, send_email, wire_money", "Skips most of the tools",
		"Excessive token usage (49000 vs median 1500)", "models not seen in normal sessions: gpt-4o", "Very long session (3600 s vs median 60 s)"} {
		if !strings.Contains(causes, want) {
			t.Errorf("causes lack %q: %v", want, o.PrimaryCauses)
		}
	}
	// The baseline's MADs are 0 (identical sessions): no robust z-score
	// counts, and a score below 0.5 is medium whatever the causes (the
	// original's rule).
	if o.AnomalyScore != 0 || o.Severity != "medium" || len(o.Recommendations) == 0 {
		t.Errorf("score %v severity %s", o.AnomalyScore, o.Severity)
	}
	if a.Interpretation != "Highly stable agent with moderately predictable behavior - single dominant pattern" {
		t.Errorf("interpretation %q", a.Interpretation)
	}
}

func TestMADScore(t *testing.T) {
	// Clustered sessions whose durations and tokens vary a little: MAD > 0.
	ss := sessions(6, "search", "fetch")
	for i := range ss {
		ss[i].DurationSeconds = 60 + float64(i)
		ss[i].InputTokens = 1200 + int64(10*i)
	}
	base := newBaseline(ss, []bool{true, true, true, true, true, true})
	x := sess("x", "search", "fetch")
	x.DurationSeconds = 200 // |200 − 62.5| / 1.5 ≫ 8
	// Tokens 1500..1550: median 1525, MAD 15; 1644 is 7.9 MADs off.
	x.InputTokens, x.OutputTokens = 1344, 300
	o := base.explain(&x)
	if o.AnomalyScore != 0.3 {
		t.Errorf("anomaly score %v, want 0.3 (duration only)", o.AnomalyScore)
	}
	if len(o.PrimaryCauses) != 1 || o.Severity != "medium" { // score 0.3 is not < 0.3
		t.Errorf("causes %v, severity %s", o.PrimaryCauses, o.Severity)
	}
}

func TestTwoModesAndAPair(t *testing.T) {
	ss := sessions(4, "search", "fetch", "search")
	for i := range 4 {
		s := sess("b"+strconv.Itoa(i), "translate", "translate", "upload")
		s.Models = []string{"claude-3-5-haiku-20241022"}
		ss = append(ss, s)
	}
	for i := range 2 {
		s := odd("p" + strconv.Itoa(i))
		ss = append(ss, s)
	}
	a := Analyze(ss, 0)
	if a.NumClusters != 3 || a.NumOutliers != 0 {
		t.Fatalf("clusters %d, outliers %d: %+v", a.NumClusters, a.NumOutliers, a.Clusters)
	}
	if a.Clusters[0].Confidence != "normal" || a.Clusters[1].Confidence != "normal" || a.Clusters[2].Confidence != "low" || a.Clusters[2].Size != 2 {
		t.Errorf("clusters %+v", a.Clusters)
	}
	if !strings.HasPrefix(a.Clusters[2].Insights, "Low-confidence pattern (20% of sessions)") || a.Clusters[0].Insights != "Secondary behavior pattern (40% of sessions)" {
		t.Errorf("insights %q / %q", a.Clusters[0].Insights, a.Clusters[2].Insights)
	}
	if len(a.CentroidDistances) != 3 {
		t.Fatalf("centroid distances %v", a.CentroidDistances)
	}
	for _, d := range a.CentroidDistances {
		if d.Distance < 0.5 || math.Abs(d.Distance+d.SimilarityScore-1) > 0.0011 {
			t.Errorf("distance %+v", d)
		}
	}
	if a.StabilityScore != 0.4 || a.Confidence != "high" ||
		a.Interpretation != "Unstable agent with highly predictable behavior - 3 distinct behavioral modes detected" {
		t.Errorf("stability %v confidence %s interpretation %q", a.StabilityScore, a.Confidence, a.Interpretation)
	}
}

// Components are those of the similarity graph: a chain of similar
// signatures joins even when its ends are not similar.
func TestComponentsAreTransitive(t *testing.T) {
	h := newHasher()
	set := func(from int) []string {
		var out []string
		for i := from; i < from+90; i++ {
			out = append(out, "x"+strconv.Itoa(i))
		}
		return out
	}
	// Neighbours share 80 of 100 shingles; the ends 50 of 130.
	var chain []*signature
	for k := range 5 {
		chain = append(chain, h.sign(set(10*k)))
	}
	if s := similarity(chain[0], chain[4]); s >= SimilarityThreshold {
		t.Fatalf("ends similar: %v", s)
	}
	far := h.sign(set(1000))
	got := components([]*signature{chain[0], far, chain[2], chain[4], chain[1], chain[3]})
	if len(got) != 2 || !slices.Equal(got[0], []int{0, 2, 3, 4, 5}) || !slices.Equal(got[1], []int{1}) {
		t.Errorf("components = %v", got)
	}
}

// workload is n sessions of a few workflows with noise, as an agent makes.
func workload(n int) []Session {
	rng := rand.New(rand.NewPCG(1, 2))
	flows := [][]string{
		{"search", "fetch", "summarize"},
		{"search", "search", "fetch", "fetch", "summarize", "email"},
		{"lookup_user", "update_ticket"},
		{"translate"},
	}
	tools := []string{"search", "fetch", "summarize", "email", "lookup_user", "update_ticket", "translate", "upload", "delete"}
	out := make([]Session, n)
	for i := range out {
		seq := slices.Clone(flows[rng.IntN(len(flows))])
		if rng.IntN(5) == 0 {
			seq = append(seq, tools[rng.IntN(len(tools))])
		}
		if rng.IntN(20) == 0 {
			seq = nil
			for range 1 + rng.IntN(12) {
				seq = append(seq, tools[rng.IntN(len(tools))])
			}
		}
		s := sess("s"+strconv.Itoa(i), seq...)
		s.DurationSeconds = 20 + rng.Float64()*300
		s.Events = int64(4 + 2*len(seq) + rng.IntN(6))
		s.LLMRequests = int64(1 + len(seq)/2 + rng.IntN(3))
		s.InputTokens = int64(500 + rng.IntN(8000))
		s.OutputTokens = int64(100 + rng.IntN(2000))
		s.MeanInputTokens = float64(s.InputTokens) / float64(s.LLMRequests)
		s.MeanOutputTokens = float64(s.OutputTokens) / float64(s.LLMRequests)
		s.AvailableTools = tools[:6]
		if rng.IntN(3) == 0 {
			s.Models = []string{"gpt-4o-mini"}
		}
		out[i] = s
	}
	return out
}

func TestWorkloadClusters(t *testing.T) {
	a := Analyze(workload(400), 0)
	if a.NumClusters == 0 || a.PredictabilityScore < 0.5 {
		t.Errorf("clusters %d, predictability %v", a.NumClusters, a.PredictabilityScore)
	}
	total := a.NumOutliers
	for _, c := range a.Clusters {
		total += c.Size
		if len(c.SessionIDs) > MaxClusterSessionIDs {
			t.Errorf("cluster lists %d ids", len(c.SessionIDs))
		}
	}
	if total != 400 || len(a.Outliers) > MaxOutliersListed {
		t.Errorf("clusters and outliers cover %d of 400 sessions; %d outliers listed", total, len(a.Outliers))
	}
}
