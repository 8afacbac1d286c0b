package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/internal/defaults"
	"github.com/cylestio/perimeter/sink"
)

// FindingWatch turns security.finding events into alerts: each finding at
// or above MinSeverity, and each session whose risk score (detect's
// formula over its findings so far) reaches RiskThreshold, once.
type FindingWatch struct {
	N             *Notifier
	MinSeverity   detect.Severity // SeverityInfo with Off set: no finding alerts
	Off           bool
	RiskThreshold float64 // 0: no session risk alerts

	mu       sync.Mutex
	sessions map[string]*sessionRisk
}

type sessionRisk struct {
	totals  detect.SeverityTotals
	alerted bool
	seen    time.Time
}

// maxRiskSessions bounds the sessions whose risk is followed; the least
// recently seen are forgotten.
const maxRiskSessions = 50_000

// Process reads a processed batch; it is a sink pipeline step that
// returns the batch unchanged.
func (w *FindingWatch) Process(batch []*sink.Event) []*sink.Event {
	for _, ev := range batch {
		if ev.Name != sink.SecurityFinding {
			continue
		}
		sev, _ := detect.ParseSeverity(ev.Severity)
		var attrs struct {
			Category   string  `json:"finding.category"`
			Evidence   string  `json:"finding.evidence"`
			OWASP      string  `json:"finding.owasp"`
			Confidence float32 `json:"finding.confidence"`
			Source     string  `json:"finding.source"`
		}
		_ = json.Unmarshal(ev.Attributes, &attrs)
		if !w.Off && sev >= w.MinSeverity {
			w.N.Notify(&Alert{Kind: KindFinding, Time: ev.Time, Severity: ev.Severity, Rule: ev.Rule, Agent: ev.AgentID, Session: ev.SessionID,
				Title: fmt.Sprintf("%s finding %s in agent %s", ev.Severity, ev.Rule, orUnknown(ev.AgentID)),
				Details: map[string]any{"category": attrs.Category, "owasp": attrs.OWASP, "evidence": attrs.Evidence, "confidence": attrs.Confidence,
					"source": attrs.Source, "model": ev.Model, "tool": ev.ToolName}})
		}
		if w.RiskThreshold > 0 && ev.SessionID != "" {
			w.risk(ev, sev, attrs.Confidence)
		}
	}
	return batch
}

func (w *FindingWatch) risk(ev *sink.Event, sev detect.Severity, conf float32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sessions == nil {
		w.sessions = map[string]*sessionRisk{}
	}
	s := w.sessions[ev.SessionID]
	if s == nil {
		if len(w.sessions) >= maxRiskSessions {
			w.forget()
		}
		s = &sessionRisk{}
		w.sessions[ev.SessionID] = s
	}
	s.seen = time.Now()
	s.totals.Add(&detect.Finding{Severity: sev, Confidence: conf})
	if score := s.totals.Score(); !s.alerted && score >= w.RiskThreshold {
		s.alerted = true
		w.N.Notify(&Alert{Kind: KindSessionRisk, Time: ev.Time, Severity: detect.RiskLevel(score), Agent: ev.AgentID, Session: ev.SessionID,
			Rule:    "session:" + ev.SessionID, // one alert per session, not deduplicated with other sessions of the agent
			Title:   fmt.Sprintf("session %s of agent %s reached risk score %.0f (threshold %.0f)", ev.SessionID, orUnknown(ev.AgentID), score, w.RiskThreshold),
			Details: map[string]any{"risk_score": score, "threshold": w.RiskThreshold, "last_rule": ev.Rule}})
	}
}

// forget drops the older half of the followed sessions.
func (w *FindingWatch) forget() {
	var oldest time.Time
	for _, s := range w.sessions {
		if oldest.IsZero() || s.seen.Before(oldest) {
			oldest = s.seen
		}
	}
	cut := oldest.Add(time.Since(oldest) / 2)
	for k, s := range w.sessions {
		if s.seen.Before(cut) {
			delete(w.sessions, k)
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// Sample is what Watch reads on each tick: cumulative request and
// failure counts, and the health of each store or exporter.
type Sample struct {
	Requests, Failed uint64
	Stores           []StoreHealth
}

// StoreHealth is one writer's state.
type StoreHealth struct {
	Name    string
	Healthy bool
	Error   string
}

// WatchOptions configure Watch.
type WatchOptions struct {
	Every time.Duration // sampling interval
	// ErrorRate alerts when Failed/Requests over Window reaches it, with
	// at least MinRequests requests in the window; 0 disables.
	ErrorRate   float64
	Window      time.Duration
	MinRequests uint64
	// Stores alerts on writers turning unhealthy and back.
	Stores bool
}

// Watch samples until ctx ends, alerting on error-rate spikes and on
// stores going down and up. The first alert of a spike fires when the
// window's rate reaches the threshold; the next only after it fell below.
func (n *Notifier) Watch(ctx context.Context, o WatchOptions, sample func() Sample) {
	defaults.Set(&o.Every, 5*time.Second)
	type point struct {
		at               time.Time
		requests, failed uint64
	}
	var hist []point
	spiking := false
	healthy := map[string]bool{}
	t := time.NewTicker(o.Every)
	defer t.Stop()
	for {
		s := sample()
		now := time.Now()
		if o.ErrorRate > 0 {
			hist = append(hist, point{now, s.Requests, s.Failed})
			for len(hist) > 1 && now.Sub(hist[1].at) >= o.Window {
				hist = hist[1:]
			}
			first := hist[0]
			req, failed := s.Requests-first.requests, s.Failed-first.failed
			rate := 0.0
			if req > 0 {
				rate = float64(failed) / float64(req)
			}
			switch {
			case req >= o.MinRequests && rate >= o.ErrorRate && !spiking:
				spiking = true
				n.Notify(&Alert{Kind: KindErrorRate, Severity: "high",
					Title:   fmt.Sprintf("%.0f%% of calls failed over the last %s (%d of %d; threshold %.0f%%)", 100*rate, o.Window, failed, req, 100*o.ErrorRate),
					Details: map[string]any{"failed": failed, "requests": req, "rate": rate, "window_seconds": o.Window.Seconds()}})
			case rate < o.ErrorRate:
				spiking = false
			}
		}
		if o.Stores {
			for _, st := range s.Stores {
				was, known := healthy[st.Name]
				healthy[st.Name] = st.Healthy
				switch {
				case !st.Healthy && (was || !known):
					n.Notify(&Alert{Kind: KindStoreDown, Severity: "high", Rule: st.Name,
						Title:   "writer " + st.Name + " is failing: events are spilled to disk until it recovers",
						Details: map[string]any{"error": st.Error}})
				case st.Healthy && known && !was:
					n.Notify(&Alert{Kind: KindStoreUp, Severity: "info", Rule: st.Name, Title: "writer " + st.Name + " recovered"})
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
