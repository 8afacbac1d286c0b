package behavior

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Limits of what an Analysis lists (its counts cover everything).
const (
	MaxClusterSessionIDs = 50  // session ids listed per cluster
	MaxOutliersListed    = 100 // outliers analysed and listed
	madOutlierScore      = 8.0 // |x − median| / MAD at which a feature is anomalous
)

// Analysis is the behavioural analysis of an agent's completed sessions
// (the original's behavioral_analysis).
type Analysis struct {
	TotalSessions       int                `json:"total_sessions"`
	NumClusters         int                `json:"num_clusters"`
	NumOutliers         int                `json:"num_outliers"`
	StabilityScore      float64            `json:"stability_score"`
	PredictabilityScore float64            `json:"predictability_score"`
	ClusterDiversity    float64            `json:"cluster_diversity"`
	Clusters            []Cluster          `json:"clusters"`
	Outliers            []Outlier          `json:"outliers"`
	CentroidDistances   []CentroidDistance `json:"centroid_distances"`
	Interpretation      string             `json:"interpretation"`
	Confidence          string             `json:"confidence"` // high | medium | low
	Error               string             `json:"error,omitempty"`

	// SessionCluster maps a clustered session's id to its cluster id.
	SessionCluster map[string]string `json:"-"`
}

// Cluster is a group of sessions that behave alike.
type Cluster struct {
	ClusterID       string          `json:"cluster_id"`
	Size            int             `json:"size"`
	Percentage      float64         `json:"percentage"` // of the analysed sessions, 1 decimal
	SessionIDs      []string        `json:"session_ids"`
	Characteristics Characteristics `json:"characteristics"`
	Insights        string          `json:"insights"`
	Confidence      string          `json:"confidence"` // normal (≥ 3 sessions) | low (2)
}

// Characteristics describe a cluster's members.
type Characteristics struct {
	DurationSeconds    Spread   `json:"duration_seconds"`
	ToolCalls          Spread   `json:"tool_calls"`
	TotalTokens        Spread   `json:"total_tokens"`
	CommonTools        []string `json:"common_tools"`         // used by ≥ 50 % of members
	CommonToolSequence string   `json:"common_tool_sequence"` // most frequent first five calls
	CommonModels       []string `json:"common_models"`        // top 3
}

// Spread is a median with its range (1 decimal).
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Outlier is a session that belongs to no cluster, with why.
type Outlier struct {
	SessionID                 string   `json:"session_id"`
	AnomalyScore              float64  `json:"anomaly_score"`
	Severity                  string   `json:"severity"` // low | medium | high | critical
	PrimaryCauses             []string `json:"primary_causes"`
	Recommendations           []string `json:"recommendations"`
	DistanceToNearestCentroid float64  `json:"distance_to_nearest_centroid"`
	NearestClusterID          string   `json:"nearest_cluster_id"`
}

// CentroidDistance is how far apart two clusters' centroids are.
type CentroidDistance struct {
	From            string  `json:"from_cluster"`
	To              string  `json:"to_cluster"`
	Distance        float64 `json:"distance"`         // 1 − similarity, 3 decimals
	SimilarityScore float64 `json:"similarity_score"` // 3 decimals
}

// Analyze clusters completed sessions by behaviour and scores the agent's
// stability; active is the number of sessions still running (for the
// message when there are too few to analyse).
func Analyze(sessions []Session, active int) *Analysis {
	n := len(sessions)
	a := &Analysis{TotalSessions: n, Clusters: []Cluster{}, Outliers: []Outlier{}, CentroidDistances: []CentroidDistance{},
		SessionCluster: map[string]string{}, Confidence: "low"}
	if n < 2 {
		a.Interpretation = "Insufficient completed sessions for analysis (have " + strconv.Itoa(n) +
			", need 2+). " + strconv.Itoa(active) + " sessions are still active."
		a.Error = "Insufficient completed sessions"
		return a
	}

	b := newBinning(sessions)
	h := newHasher()
	sigs := make([]*signature, n)
	for i := range sessions {
		sigs[i] = h.sign(shingles(&sessions[i], &b))
	}
	comps := components(sigs)

	// Valid clusters: normal (≥ 3 sessions) first, then low (2), each in
	// the order of its first member; singletons are outliers.
	var valid [][]int
	for _, c := range comps {
		if len(c) >= 3 {
			valid = append(valid, c)
		}
	}
	normal := len(valid)
	for _, c := range comps {
		if len(c) == 2 {
			valid = append(valid, c)
		}
	}
	clustered := make([]bool, n)
	centroids := make([]*signature, len(valid))
	largest := 0
	for k, members := range valid {
		id := "cluster_" + strconv.Itoa(k+1)
		for _, m := range members {
			clustered[m] = true
			a.SessionCluster[sessions[m].ID] = id
		}
		centroids[k] = centroid(sigs, members)
		c := Cluster{ClusterID: id, Size: len(members), Percentage: pyRound(float64(len(members))/float64(n)*100, 1),
			Confidence: "low", Characteristics: characterize(sessions, members)}
		if k < normal {
			c.Confidence = "normal"
			largest = max(largest, len(members))
		}
		for _, m := range members[:min(len(members), MaxClusterSessionIDs)] {
			c.SessionIDs = append(c.SessionIDs, sessions[m].ID)
		}
		c.Insights = insight(k, len(members), float64(len(members))/float64(n)*100)
		a.Clusters = append(a.Clusters, c)
	}
	for i := range valid {
		for j := i + 1; j < len(valid); j++ {
			s := similarity(centroids[i], centroids[j])
			a.CentroidDistances = append(a.CentroidDistances, CentroidDistance{From: a.Clusters[i].ClusterID,
				To: a.Clusters[j].ClusterID, Distance: pyRound(1-s, 3), SimilarityScore: pyRound(s, 3)})
		}
	}

	var outliers []int
	for i := range sessions {
		if !clustered[i] {
			outliers = append(outliers, i)
		}
	}
	a.NumClusters, a.NumOutliers = len(valid), len(outliers)
	if len(outliers) < n { // a baseline exists
		base := newBaseline(sessions, clustered)
		for _, i := range outliers[:min(len(outliers), MaxOutliersListed)] {
			o := base.explain(&sessions[i])
			best := -1.0
			for k, c := range centroids {
				if s := similarity(sigs[i], c); s > best {
					best, o.NearestClusterID = s, a.Clusters[k].ClusterID
				}
			}
			o.DistanceToNearestCentroid = pyRound(1-best, 3)
			a.Outliers = append(a.Outliers, o)
		}
	}

	a.StabilityScore = float64(largest) / float64(n)
	a.PredictabilityScore = 1 - float64(len(outliers))/float64(n)
	a.ClusterDiversity = float64(len(valid)) / math.Sqrt(float64(n))
	a.Interpretation = interpret(a.StabilityScore, a.PredictabilityScore, a.NumClusters)
	switch {
	case a.NumClusters >= 3 && n >= 10:
		a.Confidence = "high"
	case a.NumClusters >= 2 && n >= 5:
		a.Confidence = "medium"
	}
	return a
}

func insight(k, size int, pct float64) string {
	p := strconv.FormatFloat(pct, 'f', 0, 64) + "% of sessions"
	switch {
	case size == 2:
		return "Low-confidence pattern (" + p + ") - needs more data to validate"
	case k == 0 && pct > 70:
		return "Largest cluster representing dominant behavior pattern (" + p + ")"
	case pct < 10:
		return "Small cluster representing edge case or specialized workflow (" + p + ")"
	}
	return "Secondary behavior pattern (" + p + ")"
}

func interpret(stability, predictability float64, clusters int) string {
	if clusters == 0 {
		return "No clear behavioral patterns detected - agent behavior is highly variable"
	}
	s := grade(stability, 0.8, 0.6, "Highly stable", "Moderately stable", "Unstable")
	p := grade(predictability, 0.9, 0.7, "highly predictable", "moderately predictable", "unpredictable")
	if clusters == 1 {
		return s + " agent with " + p + " behavior - single dominant pattern"
	}
	return s + " agent with " + p + " behavior - " + strconv.Itoa(clusters) + " distinct behavioral modes detected"
}

// grade names v: high from hi up, mid from mid up, low below.
func grade(v, hi, mid float64, high, middle, low string) string {
	switch {
	case v >= hi:
		return high
	case v >= mid:
		return middle
	}
	return low
}

func spread(xs []float64) Spread {
	lo, hi := minMax(xs)
	return Spread{Median: pyRound(median(xs), 1), Min: pyRound(lo, 1), Max: pyRound(hi, 1)}
}

func characterize(ss []Session, members []int) Characteristics {
	var dur, tools, tok []float64
	toolUse := map[string]int{}
	seqs := map[string]int{}
	var seqOrder []string
	models := map[string]int{}
	var modelOrder []string
	for _, m := range members {
		s := &ss[m]
		dur = append(dur, s.DurationSeconds)
		tools = append(tools, float64(s.ToolCalls))
		tok = append(tok, float64(s.TotalTokens()))
		for t := range s.usedTools() {
			toolUse[t]++
		}
		head := strings.Join(s.ToolSequence[:min(5, len(s.ToolSequence))], " → ")
		if seqs[head] == 0 {
			seqOrder = append(seqOrder, head)
		}
		seqs[head]++
		for _, md := range s.Models {
			if models[md] == 0 {
				modelOrder = append(modelOrder, md)
			}
			models[md]++
		}
	}
	c := Characteristics{DurationSeconds: spread(dur), ToolCalls: spread(tools), TotalTokens: spread(tok),
		CommonTools: []string{}, CommonModels: []string{}}
	for t, k := range toolUse {
		if 2*k >= len(members) {
			c.CommonTools = append(c.CommonTools, t)
		}
	}
	slices.Sort(c.CommonTools)
	best := 0
	for _, s := range seqOrder {
		if seqs[s] > best {
			best, c.CommonToolSequence = seqs[s], s
		}
	}
	slices.SortStableFunc(modelOrder, func(x, y string) int { return cmp.Compare(models[y], models[x]) })
	c.CommonModels = append(c.CommonModels, modelOrder[:min(3, len(modelOrder))]...)
	return c
}

// baseline is what clustered sessions look like, to explain an outlier.
type baseline struct {
	med, mad   [4]float64 // duration, events, tool calls, tokens
	tools      map[string]bool
	models     map[string]bool
	medSeqLen  float64
	medTokens  float64
	medSeconds float64
}

var featureWeights = [4]float64{0.3, 0.2, 0.2, 0.3}

func features(s *Session) [4]float64 {
	return [4]float64{s.DurationSeconds, float64(s.Events), float64(s.ToolCalls), float64(s.TotalTokens())}
}

func newBaseline(ss []Session, clustered []bool) *baseline {
	b := &baseline{tools: map[string]bool{}, models: map[string]bool{}}
	var cols [4][]float64
	var seqLen []float64
	for i := range ss {
		if !clustered[i] {
			continue
		}
		f := features(&ss[i])
		for k := range f {
			cols[k] = append(cols[k], f[k])
		}
		seqLen = append(seqLen, float64(len(ss[i].ToolSequence)))
		for t := range ss[i].usedTools() {
			b.tools[t] = true
		}
		for _, m := range ss[i].Models {
			b.models[m] = true
		}
	}
	for k := range cols {
		b.med[k] = median(cols[k])
		dev := make([]float64, len(cols[k]))
		for i, x := range cols[k] {
			dev[i] = math.Abs(x - b.med[k])
		}
		b.mad[k] = median(dev)
	}
	b.medSeqLen, b.medSeconds, b.medTokens = median(seqLen), b.med[0], b.med[3]
	return b
}

// explain scores an outlier against the baseline (robust z-scores with the
// median absolute deviation) and names the likely causes.
func (b *baseline) explain(s *Session) Outlier {
	o := Outlier{SessionID: s.ID, PrimaryCauses: []string{}, Recommendations: []string{}}
	f := features(s)
	score := 0.0
	for k := range f {
		if b.mad[k] > 0 && math.Abs(f[k]-b.med[k])/b.mad[k] >= madOutlierScore {
			score += featureWeights[k]
		}
	}
	o.AnomalyScore = pyRound(score, 2)
	cause := func(c, rec string) {
		o.PrimaryCauses = append(o.PrimaryCauses, c)
		if rec != "" {
			o.Recommendations = append(o.Recommendations, rec)
		}
	}
	used := s.usedTools()
	var unseen []string
	for t := range used {
		if !b.tools[t] {
			unseen = append(unseen, t)
		}
	}
	slices.Sort(unseen)
	if len(unseen) > 0 {
		cause("Uses tools never seen in normal sessions: "+strings.Join(unseen, ", "),
			"Review why this session called "+strings.Join(unseen, ", ")+" and whether the agent should have access to it")
	}
	missing := 0
	for t := range b.tools {
		if !used[t] {
			missing++
		}
	}
	if len(b.tools) > 0 && 2*missing > len(b.tools) {
		cause("Skips most of the tools normal sessions use ("+strconv.Itoa(missing)+" of "+strconv.Itoa(len(b.tools))+" unused)",
			"Check whether the session ended early or took a shortcut")
	}
	seqLen := float64(len(s.ToolSequence))
	switch {
	case b.medSeqLen > 0 && seqLen < b.medSeqLen/3:
		cause("Very short workflow ("+strconv.Itoa(len(s.ToolSequence))+" tool calls vs median "+fmtF(b.medSeqLen)+")",
			"Check for failures or early termination")
	case b.medSeqLen > 0 && seqLen > 3*b.medSeqLen:
		cause("Very long workflow ("+strconv.Itoa(len(s.ToolSequence))+" tool calls vs median "+fmtF(b.medSeqLen)+")",
			"Look for loops or repeated tool calls; bound the tool calls per session")
	}
	if b.medTokens > 0 && float64(s.TotalTokens()) > 3*b.medTokens {
		cause("Excessive token usage ("+strconv.FormatInt(s.TotalTokens(), 10)+" vs median "+fmtF(b.medTokens)+")",
			"Set token limits per session and review the prompts of this session")
	}
	var newModels []string
	for _, m := range s.Models {
		if !b.models[m] {
			newModels = append(newModels, m)
		}
	}
	if len(newModels) > 0 {
		cause("Uses models not seen in normal sessions: "+strings.Join(newModels, ", "), "Pin the model the agent uses")
	}
	if b.medSeconds > 0 && s.DurationSeconds > 5*b.medSeconds {
		cause("Very long session ("+fmtF(s.DurationSeconds)+" s vs median "+fmtF(b.medSeconds)+" s)",
			"Set a session timeout")
	}
	if len(o.PrimaryCauses) == 0 {
		cause("Session behavior pattern does not match any established cluster", "Review the session to decide whether it is a new normal pattern")
	}
	n := len(o.PrimaryCauses)
	switch {
	case score < 0.3 && n <= 1:
		o.Severity = "low"
	case score < 0.5 || n <= 2:
		o.Severity = "medium"
	case score < 0.7 || n <= 3:
		o.Severity = "high"
	default:
		o.Severity = "critical"
	}
	return o
}

func fmtF(x float64) string { return strconv.FormatFloat(pyRound(x, 1), 'f', -1, 64) }
