package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// nextRecID is "REC-" + one more than the highest numbered REC- id stored
// or handed out (at least three digits). The original took the number of
// the most recently created id, which fails on REC-DYN-… ids and restarts
// at REC-001, colliding with an existing one; dynamic ids do not take part
// here. Callers hold s.mu.
func (s *Service) nextRecID(ctx context.Context) (string, error) {
	rows, err := s.query(ctx, "recommendation ids",
		"SELECT max(toUInt64OrZero(substring(recommendation_id, 5))) FROM "+s.o.Table(RecsTable)+
			" WHERE match(recommendation_id, '^REC-[0-9]+$')")
	if err != nil {
		return "", err
	}
	var n int64
	if len(rows.Data) > 0 && len(rows.Data[0]) > 0 {
		n = (&reader{r: rows.Data[0]}).i64()
	}
	s.clockMu.Lock()
	n = max(n, s.lastREC) + 1
	s.lastREC = n
	s.clockMu.Unlock()
	return fmt.Sprintf("REC-%03d", n), nil
}

// rec reads one recommendation.
func (s *Service) rec(ctx context.Context, id string) (*Recommendation, error) {
	return byKey(ctx, s, recsT, "recommendation", id, scanRec)
}

// recs reads a workflow's recommendations: CRITICAL, HIGH, MEDIUM, others,
// then newest first.
func (s *Service) recs(ctx context.Context, wf string) ([]*Recommendation, error) {
	return selectSorted(ctx, s, recsT, "recommendations", scanRec, func(a, b *Recommendation) int {
		return cmp.Or(severityThenNewest(a.Severity, b.Severity, a.createdUS, b.createdUS), strings.Compare(b.RecommendationID, a.RecommendationID))
	}, "workflow_id = ?", wf)
}

func (s *Service) recsByID(ctx context.Context, wf string) (map[string]*Recommendation, error) {
	rs, err := s.recs(ctx, wf)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*Recommendation, len(rs))
	for _, r := range rs {
		m[r.RecommendationID] = r
	}
	return m, nil
}

// saveRec writes a recommendation's new version and audits the change
// (old status → its status).
func (s *Service) saveRec(ctx context.Context, r *Recommendation, old, action, by, reason string, meta any) error {
	r.updatedUS = s.nowUS()
	r.UpdatedAt = isoUS(r.updatedUS)
	r.FixedAt, r.VerifiedAt, r.DismissedAt = isoUS(r.fixedUS), isoUS(r.verifiedUS), isoUS(r.dismissedUS)
	if err := s.insert(ctx, recsT, "recommendation "+r.RecommendationID, r.row()); err != nil {
		return err
	}
	return s.audit(ctx, "recommendation", r.RecommendationID, action, old, r.Status, reason, by, meta)
}

// RecFilter narrows ListRecommendations. Empty fields match all.
type RecFilter struct {
	Status       string
	Severity     string
	Category     string
	BlockingOnly bool // CRITICAL or HIGH and not yet fixed, verified, dismissed, ignored, resolved or superseded
	Limit        int  // default 100
}

// RecList is get_recommendations / GET /api/workflow/{wf}/recommendations.
type RecList struct {
	Recommendations []*Recommendation `json:"recommendations"`
	TotalCount      int               `json:"total_count"`
	WorkflowID      string            `json:"workflow_id"`
}

// ListRecommendations lists a workflow's recommendations, most severe
// first.
func (s *Service) ListRecommendations(ctx context.Context, wf string, f RecFilter) (*RecList, error) {
	if err := required("workflow_id", wf); err != nil {
		return nil, err
	}
	status, err := optEnum("status", f.Status, RecStatuses)
	if err != nil {
		return nil, err
	}
	sev, err := optEnum("severity", f.Severity, Severities)
	if err != nil {
		return nil, err
	}
	cat := strings.ToUpper(strings.TrimSpace(f.Category))
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	all, err := s.recs(ctx, wf)
	if err != nil {
		return nil, err
	}
	out := []*Recommendation{}
	for _, r := range all {
		if (status == "" || r.Status == status) && (sev == "" || r.Severity == sev) &&
			(cat == "" || deref(r.Category) == cat) && (!f.BlockingOnly || r.blocking()) {
			out = append(out, r)
		}
	}
	total := len(out)
	return &RecList{Recommendations: head(out, f.Limit, 100), TotalCount: total, WorkflowID: wf}, nil
}

// RecDetail is get_recommendation_detail / GET /api/recommendations/{id}.
type RecDetail struct {
	Recommendation *Recommendation `json:"recommendation"`
	Finding        *Finding        `json:"finding"`
	AuditLog       []*AuditEntry   `json:"audit_log"`
}

// Recommendation returns a recommendation, its finding and its last 20
// audit entries.
func (s *Service) Recommendation(ctx context.Context, id string) (*RecDetail, error) {
	r, err := lookup(ctx, s, "recommendation_id", id, s.rec)
	if err != nil {
		return nil, err
	}
	d := &RecDetail{Recommendation: r}
	if r.SourceFindingID != "" {
		if d.Finding, err = s.finding(ctx, r.SourceFindingID); err != nil && !IsNotFound(err) {
			return nil, err
		}
	}
	log, err := s.AuditLog(ctx, AuditFilter{EntityType: "recommendation", EntityID: id, Limit: 20})
	if err != nil {
		return nil, err
	}
	d.AuditLog = log.Entries
	return d, nil
}

// Transition is the answer of start_fix, complete_fix, verify_fix and
// dismiss_recommendation.
type Transition struct {
	Recommendation *Recommendation `json:"recommendation"`
	Message        string          `json:"message"`
	NextStep       string          `json:"next_step,omitempty"`
	Success        *bool           `json:"success,omitempty"` // verify only
	Note           string          `json:"note,omitempty"`    // dismiss only
}

// The lifecycle: PENDING → FIXING (start) → FIXED (complete; also
// straight from PENDING) → VERIFIED (verify succeeded) or back to PENDING
// (verify failed); PENDING, FIXING or FIXED → DISMISSED or IGNORED. The
// linked finding follows: FIXED when the fix is complete (and stays so
// when verified), OPEN again when verification fails, DISMISSED or
// IGNORED with the recommendation.
var allowedFrom = map[string][]string{
	"start-fix":    {"PENDING"},
	"complete-fix": {"PENDING", "FIXING"},
	"verify":       {"FIXED"},
	"dismiss":      {"PENDING", "FIXING", "FIXED"},
}

// followFinding moves the recommendation's finding to status (when it is
// not already there).
func (s *Service) followFinding(ctx context.Context, r *Recommendation, status, action, by, reason string) error {
	if r.SourceFindingID == "" {
		return nil
	}
	f, err := s.finding(ctx, r.SourceFindingID)
	if IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if f.Status == status {
		return nil
	}
	return s.moveFinding(ctx, f, status, "", action, by, reason)
}

// step is a lifecycle step of a recommendation as the audit log records
// it: the step (allowedFrom's key), the audit action, who and why, and
// the status its finding follows to (none when empty) with that action.
type step struct {
	name, action, by, reason string
	meta                     any
	finding, findingAction   string
}

// move takes the recommendation id through st under s.mu: its status must
// allow the step, change sets its new fields and says what the step
// answers, its finding follows, then the new version is stored and
// audited.
func (s *Service) move(ctx context.Context, id string, st step, change func(r *Recommendation) *Transition) (*Transition, error) {
	return update(ctx, s, "recommendation_id", id, s.rec, func(r *Recommendation) (*Transition, error) {
		if !slices.Contains(allowedFrom[st.name], r.Status) {
			return nil, &TransitionError{ID: id, Action: st.name, From: r.Status, Allowed: allowedFrom[st.name]}
		}
		old := r.Status
		t := change(r)
		t.Recommendation = r
		if st.finding != "" {
			if err := s.followFinding(ctx, r, st.finding, st.findingAction, st.by, st.reason); err != nil {
				return nil, err
			}
		}
		if err := s.saveRec(ctx, r, old, st.action, st.by, st.reason, st.meta); err != nil {
			return nil, err
		}
		return t, nil
	})
}

// StartFix moves a PENDING recommendation to FIXING.
func (s *Service) StartFix(ctx context.Context, id, by string) (*Transition, error) {
	return s.move(ctx, id, step{name: "start-fix", action: "FIX_STARTED", by: by}, func(r *Recommendation) *Transition {
		r.Status, r.FixedBy = "FIXING", opt(by)
		return &Transition{Message: "Fix started for " + id,
			NextStep: "Apply the fix, then call complete_fix with notes and the files modified"}
	})
}

// FixParams are complete_fix's arguments.
type FixParams struct {
	Notes         string
	FilesModified []string
	Commit        string
	Method        string // default MANUAL
	By            string
}

// CompleteFix moves a PENDING or FIXING recommendation to FIXED and its
// finding to FIXED.
func (s *Service) CompleteFix(ctx context.Context, id string, p FixParams) (*Transition, error) {
	method := strings.ToUpper(strings.TrimSpace(p.Method))
	if method == "" {
		method = "MANUAL"
	}
	files := nonNil(p.FilesModified)
	st := step{name: "complete-fix", action: "FIX_COMPLETED", by: p.By, reason: p.Notes, finding: "FIXED", findingAction: "FIX_COMPLETED",
		meta: map[string]any{"files_modified": files, "fix_commit": p.Commit, "fix_method": method}}
	return s.move(ctx, id, st, func(r *Recommendation) *Transition {
		r.Status, r.fixedUS, r.FixMethod = "FIXED", s.nowUS(), &method
		r.FixNotes, r.FixCommit, r.FilesModified = opt(p.Notes), opt(p.Commit), files
		if p.By != "" {
			r.FixedBy = &p.By
		}
		return &Transition{Message: "Fix completed for " + id,
			NextStep: "Verify the fix (re-run the analysis or test it), then call verify_fix"}
	})
}

// VerifyFix records a FIXED recommendation's verification: VERIFIED on
// success, back to PENDING (and its finding OPEN) on failure. result is
// required.
func (s *Service) VerifyFix(ctx context.Context, id, result string, success bool, by string) (*Transition, error) {
	if err := required("verification_result", result); err != nil {
		return nil, err
	}
	st := step{name: "verify", action: "VERIFIED", by: by, reason: result}
	if !success {
		st.action, st.finding, st.findingAction = "VERIFICATION_FAILED", "OPEN", "REOPENED"
	}
	return s.move(ctx, id, st, func(r *Recommendation) *Transition {
		r.VerificationResult, r.VerifiedBy, r.verifiedUS = &result, opt(by), s.nowUS()
		if success {
			r.Status = "VERIFIED"
			return &Transition{Message: "Fix verified for " + id, Success: &success}
		}
		r.Status = "PENDING"
		return &Transition{Message: "Verification failed for " + id + "; it is PENDING again", Success: &success}
	})
}

// Dismiss closes a recommendation without a fix: DISMISSED (a false
// positive or accepted risk) or IGNORED; its finding follows. reason is
// required.
func (s *Service) Dismiss(ctx context.Context, id, reason, dismissType, by string) (*Transition, error) {
	if err := required("reason", reason); err != nil {
		return nil, err
	}
	typ, err := enum("dismiss_type", dismissType, "DISMISSED", DismissTypes)
	if err != nil {
		return nil, err
	}
	st := step{name: "dismiss", action: typ, by: by, reason: reason, finding: typ, findingAction: typ}
	return s.move(ctx, id, st, func(r *Recommendation) *Transition {
		r.Status, r.DismissType, r.DismissedReason, r.DismissedBy, r.dismissedUS = typ, &typ, &reason, opt(by), s.nowUS()
		return &Transition{Message: "Recommendation " + id + " " + strings.ToLower(typ),
			Note: "The decision and its reason are in the audit log"}
	})
}

// AuditFilter narrows AuditLog. Empty fields match all.
type AuditFilter struct {
	EntityType string
	EntityID   string
	Action     string
	Limit      int // default 100
}

// AuditList is get_audit_log / GET /api/audit-log.
type AuditList struct {
	Entries    []*AuditEntry `json:"entries"`
	TotalCount int64         `json:"total_count"`
}

// AuditLog lists audit entries, newest first.
func (s *Service) AuditLog(ctx context.Context, f AuditFilter) (*AuditList, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	var conds []string
	var args []any
	for _, c := range [][2]string{{"entity_type", f.EntityType}, {"entity_id", f.EntityID}, {"action", f.Action}} {
		if c[1] != "" {
			conds = append(conds, c[0]+" = ?")
			args = append(args, c[1])
		}
	}
	where := "1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.query(ctx, "audit log", "SELECT "+auditT.selectList()+" FROM "+s.o.Table(AuditTable)+" FINAL WHERE "+where+
		" ORDER BY performed_us DESC, id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, err
	}
	out := &AuditList{Entries: make([]*AuditEntry, 0, len(rows.Data))}
	for _, r := range rows.Data {
		out.Entries = append(out.Entries, scanAudit(r))
	}
	cnt, err := s.query(ctx, "audit log", "SELECT count() FROM "+s.o.Table(AuditTable)+" FINAL WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	if len(cnt.Data) > 0 {
		out.TotalCount = (&reader{r: cnt.Data[0]}).i64()
	}
	return out, nil
}

// audit appends an entry. Ids are Unix microseconds made unique per
// process, so they order entries and stay exact in JavaScript.
func (s *Service) audit(ctx context.Context, entity, id, action, old, new, reason, by string, meta any) error {
	var m json.RawMessage
	if meta != nil {
		switch x := meta.(type) {
		case json.RawMessage:
			m = x
		default:
			m, _ = json.Marshal(x)
		}
	}
	now := s.nowUS()
	s.clockMu.Lock()
	aid := uint64(now)
	if aid <= s.lastAudit {
		aid = s.lastAudit + 1
	}
	s.lastAudit = aid
	s.clockMu.Unlock()
	e := &AuditEntry{ID: aid, EntityType: entity, EntityID: id, Action: action, PreviousValue: opt(old), NewValue: opt(new),
		Reason: opt(reason), PerformedBy: opt(by), Metadata: m, performedUS: now}
	return s.insert(ctx, auditT, "audit entry for "+entity+" "+id, e.row())
}
