package workflow

import (
	"cmp"
	"context"
	"strings"
)

// CreateSessionParams are create_analysis_session's arguments.
type CreateSessionParams struct {
	WorkflowID   string // agent_workflow_id, required
	SessionType  string // STATIC (default), DYNAMIC, AUTOFIX
	WorkflowName string
	AgentID      string
}

// CreateAnalysisSession starts an analysis of a workflow: IN_PROGRESS,
// id "sess_" + 12 hex.
func (s *Service) CreateAnalysisSession(ctx context.Context, p CreateSessionParams) (*AnalysisSession, error) {
	if err := required("agent_workflow_id", p.WorkflowID); err != nil {
		return nil, err
	}
	typ, err := enum("session_type", p.SessionType, "STATIC", SessionTypes)
	if err != nil {
		return nil, err
	}
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	now := s.nowUS()
	a := &AnalysisSession{SessionID: analysisIDPrefix + randomHex(6), AgentWorkflowID: p.WorkflowID, AgentWorkflowName: opt(p.WorkflowName),
		AgentID: opt(p.AgentID), SessionType: typ, Status: "IN_PROGRESS", createdUS: now}
	a.CreatedAt = isoUS(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.insert(ctx, sessionsT, "analysis session "+a.SessionID, a.row()); err != nil {
		return nil, err
	}
	return a, nil
}

// AnalysisSession returns one analysis session.
func (s *Service) AnalysisSession(ctx context.Context, id string) (*AnalysisSession, error) {
	return lookup(ctx, s, "session_id", id, s.session)
}

func (s *Service) session(ctx context.Context, id string) (*AnalysisSession, error) {
	return byKey(ctx, s, sessionsT, "analysis session", id, scanSession)
}

// SessionFilter narrows ListAnalysisSessions. Empty fields match all.
type SessionFilter struct {
	WorkflowID  string
	Status      string
	SessionType string
	Limit       int // default 100
}

// SessionList is GET /api/sessions/analysis.
type SessionList struct {
	Sessions   []*AnalysisSession `json:"sessions"`
	TotalCount int                `json:"total_count"`
}

// ListAnalysisSessions lists analysis sessions, newest first.
func (s *Service) ListAnalysisSessions(ctx context.Context, f SessionFilter) (*SessionList, error) {
	status, err := optEnum("status", f.Status, SessionStatuses)
	if err != nil {
		return nil, err
	}
	typ, err := optEnum("session_type", f.SessionType, SessionTypes)
	if err != nil {
		return nil, err
	}
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	all, err := s.sessions(ctx, f.WorkflowID)
	if err != nil {
		return nil, err
	}
	out := []*AnalysisSession{}
	for _, a := range all {
		if (status == "" || a.Status == status) && (typ == "" || a.SessionType == typ) {
			out = append(out, a)
		}
	}
	total := len(out)
	return &SessionList{Sessions: head(out, f.Limit, 100), TotalCount: total}, nil
}

// sessions reads a workflow's analysis sessions (all when wf is ""),
// newest first.
func (s *Service) sessions(ctx context.Context, wf string) ([]*AnalysisSession, error) {
	where, args := "", []any(nil)
	if wf != "" {
		where, args = "agent_workflow_id = ?", []any{wf}
	}
	return selectSorted(ctx, s, sessionsT, "analysis sessions", scanSession, func(a, b *AnalysisSession) int {
		return cmp.Or(cmp.Compare(b.createdUS, a.createdUS), strings.Compare(b.SessionID, a.SessionID))
	}, where, args...)
}

// CompletedSession is complete_analysis_session's answer.
type CompletedSession struct {
	Session   *AnalysisSession `json:"session"`
	RiskScore *int             `json:"risk_score"`
	// AutoResolved counts findings of older STATIC sessions closed because
	// this scan no longer reports them.
	AutoResolved int `json:"auto_resolved"`
}

// CompleteAnalysisSession marks a session COMPLETED with its findings
// count and, when calculateRisk, its risk score: min(100, Σ over its OPEN
// findings of CRITICAL 25, HIGH 15, MEDIUM 5, LOW 1). Completing a STATIC
// session resolves the OPEN findings of the workflow's older sessions
// whose (file_path, finding_type) this scan no longer reports, with their
// recommendations unless already fixed, verified, dismissed or ignored.
func (s *Service) CompleteAnalysisSession(ctx context.Context, id string, calculateRisk bool) (*CompletedSession, error) {
	return update(ctx, s, "session_id", id, s.session, func(a *AnalysisSession) (*CompletedSession, error) {
		fs, err := s.findings(ctx, "session_id = ?", id)
		if err != nil {
			return nil, err
		}
		now := s.nowUS()
		a.Status, a.completedUS, a.FindingsCount = "COMPLETED", now, int64(len(fs))
		a.CompletedAt = isoUS(now)
		if calculateRisk {
			score := 0
			for _, f := range fs {
				if f.Status == "OPEN" {
					score += riskWeight(f.Severity)
				}
			}
			score = min(score, 100)
			a.RiskScore = &score
		}
		resolved := 0
		if a.SessionType == "STATIC" {
			if resolved, err = s.resolveStale(ctx, a, fs); err != nil {
				return nil, err
			}
		}
		if err := s.insert(ctx, sessionsT, "analysis session "+id, a.row()); err != nil {
			return nil, err
		}
		return &CompletedSession{Session: a, RiskScore: a.RiskScore, AutoResolved: resolved}, nil
	})
}

// resolveStale closes OPEN findings of the workflow's other STATIC
// sessions that this scan (findings current) no longer reports.
func (s *Service) resolveStale(ctx context.Context, a *AnalysisSession, current []*Finding) (int, error) {
	seen := map[[2]string]bool{}
	for _, f := range current {
		seen[[2]string{f.FilePath, f.FindingType}] = true
	}
	all, err := s.findings(ctx, "agent_workflow_id = ?", a.AgentWorkflowID)
	if err != nil {
		return 0, err
	}
	recs, err := s.recsByID(ctx, a.AgentWorkflowID)
	if err != nil {
		return 0, err
	}
	n := 0
	note := "Auto-resolved: not reported by static analysis " + a.SessionID
	for _, f := range all {
		if f.SessionID == a.SessionID || f.SourceType != "STATIC" || f.Status != "OPEN" || seen[[2]string{f.FilePath, f.FindingType}] {
			continue
		}
		var r *Recommendation
		if f.RecommendationID != nil {
			r = recs[*f.RecommendationID]
		}
		if err := s.moveFinding(ctx, f, "RESOLVED", "", "AUTO_RESOLVED", "system", note); err != nil {
			return n, err
		}
		if r != nil && !resolvedRec[r.Status] {
			old := r.Status
			r.Status, r.FixMethod, r.FixNotes, r.fixedUS = "RESOLVED", ptr("AUTO_RESOLVED"), ptr(note), s.nowUS()
			if err := s.saveRec(ctx, r, old, "AUTO_RESOLVED", "system", note, nil); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}

func optEnum(param, v string, valid []string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	return enum(param, v, "", valid)
}

// head returns the first limit items (def when limit <= 0).
func head[T any](xs []T, limit, def int) []T {
	if limit <= 0 {
		limit = def
	}
	if len(xs) > limit {
		return xs[:limit]
	}
	return xs
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// analysisIDPrefix starts every analysis session's id.
const analysisIDPrefix = "sess_"

// IsAnalysisSessionID tells whether id has the shape of an analysis
// session's id (a runtime session's id never does: those are UUIDs or the
// client's own), so callers can tell the two apart without a query.
func IsAnalysisSessionID(id string) bool { return strings.HasPrefix(id, analysisIDPrefix) }
