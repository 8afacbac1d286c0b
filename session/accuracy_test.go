package session

import (
	"fmt"
	"strings"
	"testing"
)

// corpusSeed and corpusConversations fix the corpus the floors are set on.
// Other seeds give the same figures within a few thousandths.
const (
	corpusSeed          = 20260101
	corpusConversations = 600
)

type accuracyRow struct {
	name  string
	fuzzy bool
	mode  replyMode
}

// accuracyRows are the modes TestAccuracy and TestBehaviours measure.
var accuracyRows = []accuracyRow{
	{"exact", false, replies},
	{"fuzzy", true, replies},
	{"fuzzy-lossy-replies", true, lossyReplies},
	{"fuzzy-no-replies", true, noReplies},
}

// TestAccuracy measures session assignment on the generated corpus against
// its ground truth and holds each mode to a floor. The exact row is the
// original algorithm: it is not held to much, its numbers document what
// fuzzy matching buys.
func TestAccuracy(t *testing.T) {
	reqs := newCorpus(corpusSeed).traffic(corpusConversations)
	t.Logf("%d requests, %d conversations", len(reqs), corpusConversations)
	got := map[string]accuracy{}
	for _, row := range accuracyRows {
		acc := measure(reqs, row.fuzzy, row.mode)
		got[row.name] = acc
		t.Logf("%-20s precision %.4f recall %.4f fragmented %.4f extra sessions/conversation %.3f fuzzy matches %d tie-breaks %d",
			row.name, acc.precision, acc.recall, acc.fragmentation, acc.extraSessions, acc.fuzzy, acc.tieBreaks)
		var b strings.Builder
		for _, p := range firstCorpus {
			fmt.Fprintf(&b, " %s %.3f/%.3f", profileNames[p], acc.perProfilePrecision[p], acc.perProfileRecall[p])
		}
		t.Logf("%-20s by profile (precision/recall):%s", "", b.String())
	}
	floors := []struct {
		name                    string
		precision, recall, frag float64
	}{
		{"exact", 0.97, 0.92, 0.10},
		{"fuzzy", 0.995, 0.995, 0.002},
		{"fuzzy-lossy-replies", 0.98, 0.98, 0.005},
		{"fuzzy-no-replies", 0.97, 0.97, 0.01}, // ambiguous tails are refused (see tails.go)
	}
	for _, f := range floors {
		acc := got[f.name]
		if acc.precision < f.precision || acc.recall < f.recall || acc.fragmentation > f.frag {
			t.Errorf("%s: precision %.4f recall %.4f fragmented %.4f; floors %.3f %.3f, ceiling %.3f",
				f.name, acc.precision, acc.recall, acc.fragmentation, f.precision, f.recall, f.frag)
		}
	}
	exact := got["exact"]
	for _, name := range []string{"fuzzy", "fuzzy-lossy-replies", "fuzzy-no-replies"} {
		acc := got[name]
		if acc.precision < exact.precision-0.001 {
			t.Errorf("%s loses precision against the original: %.4f < %.4f", name, acc.precision, exact.precision)
		}
		if acc.recall <= exact.recall || acc.fragmentation >= exact.fragmentation {
			t.Errorf("%s does not improve on the original", name)
		}
	}
}

// BenchmarkAccuracy reports, per mode, pairwise precision and recall of
// session assignment over the corpus, the share of requests fragmented,
// and the cost per request (the corpus includes creations and fuzzy
// matches).
func BenchmarkAccuracy(b *testing.B) {
	benchmarkModes(b, newCorpus(corpusSeed).traffic(corpusConversations))
}

// benchmarkModes measures each mode of accuracyRows on reqs and reports
// its pairwise precision and recall, the share of requests fragmented and
// the time per request.
func benchmarkModes(b *testing.B, reqs []request) {
	for _, row := range accuracyRows {
		b.Run(row.name, func(b *testing.B) {
			var acc accuracy
			var ns float64
			for i := 0; i < b.N; i++ {
				acc = measure(reqs, row.fuzzy, row.mode)
				ns += acc.nsPerRequest
			}
			b.ReportMetric(acc.precision, "precision")
			b.ReportMetric(acc.recall, "recall")
			b.ReportMetric(acc.fragmentation, "fragmented")
			b.ReportMetric(ns/float64(b.N), "ns/request")
		})
	}
}
