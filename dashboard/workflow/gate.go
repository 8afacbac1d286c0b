package workflow

import (
	"context"
	"strconv"
)

// AnalysisState is one analysis type's part of the readiness answer.
type AnalysisState struct {
	Status        string  `json:"status"` // pending, running, completed
	CriticalCount int     `json:"critical_count"`
	SessionID     *string `json:"session_id"`
}

// Gate is the production gate: BLOCKED while any CRITICAL or HIGH
// recommendation is PENDING or FIXING, or any OPEN CRITICAL or HIGH
// finding has no recommendation (Finding.blockingUntracked).
type Gate struct {
	IsBlocked     bool   `json:"is_blocked"`
	BlockingCount int    `json:"blocking_count"`
	State         string `json:"state"` // BLOCKED, OPEN
}

// Readiness is GET /api/workflow/{wf}/production-readiness.
type Readiness struct {
	WorkflowID      string        `json:"workflow_id"`
	StaticAnalysis  AnalysisState `json:"static_analysis"`
	DynamicAnalysis AnalysisState `json:"dynamic_analysis"`
	Gate            Gate          `json:"gate"`

	blockingCritical, blockingHigh int
	blocking                       []*Recommendation
	blockingFindings               []*Finding
}

// ProductionReadiness says whether a workflow may ship. The per-type
// critical_count counts blocking CRITICAL and HIGH recommendations of
// that source, as the original's did, and the untracked blocking findings
// of that source.
func (s *Service) ProductionReadiness(ctx context.Context, wf string) (*Readiness, error) {
	if err := s.begin(ctx, "workflow_id", wf); err != nil {
		return nil, err
	}
	fs, err := s.findings(ctx, "agent_workflow_id = ?", wf)
	if err != nil {
		return nil, err
	}
	recs, sessions, err := s.recsAndSessions(ctx, wf)
	if err != nil {
		return nil, err
	}
	return readiness(wf, recs, fs, sessions), nil
}

// recsAndSessions reads what a workflow's readiness is computed from: its
// recommendations and its analysis sessions.
func (s *Service) recsAndSessions(ctx context.Context, wf string) ([]*Recommendation, []*AnalysisSession, error) {
	recs, err := s.recs(ctx, wf)
	if err != nil {
		return nil, nil, err
	}
	sessions, err := s.sessions(ctx, wf)
	return recs, sessions, err
}

func readiness(wf string, recs []*Recommendation, fs []*Finding, sessions []*AnalysisSession) *Readiness {
	out := &Readiness{WorkflowID: wf, StaticAnalysis: analysisState(sessions, "STATIC"), DynamicAnalysis: analysisState(sessions, "DYNAMIC")}
	count := func(source, severity string) {
		if source == "DYNAMIC" {
			out.DynamicAnalysis.CriticalCount++
		} else {
			out.StaticAnalysis.CriticalCount++
		}
		if severity == "CRITICAL" {
			out.blockingCritical++
		} else {
			out.blockingHigh++
		}
	}
	recIDs := make(map[string]bool, len(recs))
	for _, r := range recs {
		recIDs[r.RecommendationID] = true
		if r.blocking() {
			out.blocking = append(out.blocking, r)
			count(r.SourceType, r.Severity)
		}
	}
	for _, f := range fs {
		if f.blockingUntracked(recIDs) {
			out.blockingFindings = append(out.blockingFindings, f)
			count(f.SourceType, f.Severity)
		}
	}
	n := len(out.blocking) + len(out.blockingFindings)
	out.Gate = Gate{IsBlocked: n > 0, BlockingCount: n, State: "OPEN"}
	if n > 0 {
		out.Gate.State = "BLOCKED"
	}
	return out
}

// analysisState: running if any session of the type is IN_PROGRESS,
// completed if any is COMPLETED, else pending; session_id is the latest.
func analysisState(sessions []*AnalysisSession, typ string) AnalysisState {
	st := AnalysisState{Status: "pending"}
	for _, a := range sessions { // newest first
		if a.SessionType != typ {
			continue
		}
		if st.SessionID == nil {
			st.SessionID = &a.SessionID
		}
		switch {
		case a.Status == "IN_PROGRESS":
			st.Status = "running"
		case a.Status == "COMPLETED" && st.Status == "pending":
			st.Status = "completed"
		}
	}
	return st
}

// GateStatus is get_gate_status.
type GateStatus struct {
	WorkflowID       string        `json:"workflow_id"`
	GateState        string        `json:"gate_state"`
	IsBlocked        bool          `json:"is_blocked"`
	BlockingCount    int           `json:"blocking_count"`
	BlockingCritical int           `json:"blocking_critical"`
	BlockingHigh     int           `json:"blocking_high"`
	StaticAnalysis   AnalysisState `json:"static_analysis"`
	DynamicAnalysis  AnalysisState `json:"dynamic_analysis"`
	Message          string        `json:"message"`
}

// GateStatus is the gate with its counts by severity and a sentence for
// the assistant.
func (s *Service) GateStatus(ctx context.Context, wf string) (*GateStatus, error) {
	r, err := s.ProductionReadiness(ctx, wf)
	if err != nil {
		return nil, err
	}
	g := &GateStatus{WorkflowID: wf, GateState: r.Gate.State, IsBlocked: r.Gate.IsBlocked, BlockingCount: r.Gate.BlockingCount,
		BlockingCritical: r.blockingCritical, BlockingHigh: r.blockingHigh, StaticAnalysis: r.StaticAnalysis, DynamicAnalysis: r.DynamicAnalysis,
		Message: "✅ Production READY: No blocking security issues."}
	if r.Gate.IsBlocked {
		g.Message = "🚫 Production BLOCKED: " + strconv.Itoa(r.Gate.BlockingCount) + " blocking issue(s) (" +
			strconv.Itoa(r.blockingCritical) + " critical, " + strconv.Itoa(r.blockingHigh) + " high) must be fixed or dismissed."
	}
	return g, nil
}
