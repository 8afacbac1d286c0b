package dashboard

import (
	"encoding/json"
	"time"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/sink"
)

// Envelope is what every analytics answer carries: the store's health
// (the empty state's reason and fix when it is down) and the answer's time.
type Envelope struct {
	Storage     sink.Status `json:"storage"`
	LastUpdated Time        `json:"last_updated"`
}

func (e *Envelope) envelope() *Envelope { return e }

// enveloped is every answer type.
type enveloped interface{ envelope() *Envelope }

// Time marshals as ISO 8601 UTC with milliseconds, or null when zero.
type Time time.Time

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + isoTime(tt) + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler (clients, tests).
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	tt, err := time.Parse(time.RFC3339Nano, s)
	*t = Time(tt)
	return err
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func short(id string, n int, ellipsis bool) string {
	if len(id) <= n {
		return id
	}
	if ellipsis {
		return id[:n] + "..."
	}
	return id[:n]
}

// AgentSummary is one agent in lists (API.md "AgentSummary").
type AgentSummary struct {
	ID                  string  `json:"id"`
	IDShort             string  `json:"id_short"`
	AgentWorkflowID     *string `json:"agent_workflow_id"`
	TotalSessions       int64   `json:"total_sessions"`
	ActiveSessions      int64   `json:"active_sessions"`
	CompletedSessions   int64   `json:"completed_sessions"`
	TotalMessages       int64   `json:"total_messages"`
	TotalRequests       int64   `json:"total_requests"`
	TotalTokens         int64   `json:"total_tokens"`
	InputTokens         int64   `json:"input_tokens"`
	OutputTokens        int64   `json:"output_tokens"`
	TotalTools          int64   `json:"total_tools"`
	UniqueTools         int64   `json:"unique_tools"`
	TotalErrors         int64   `json:"total_errors"`
	ErrorRate           float64 `json:"error_rate"`
	AvgResponseTimeMs   float64 `json:"avg_response_time_ms"`
	FirstSeen           Time    `json:"first_seen"`
	LastSeen            Time    `json:"last_seen"`
	LastSeenRelative    string  `json:"last_seen_relative"`
	FindingsCount       int64   `json:"findings_count"`
	RiskScore           float64 `json:"risk_score"`
	RiskLevel           string  `json:"risk_level"`
	RiskySessions       int64   `json:"risky_sessions"`
	RiskStatus          *string `json:"risk_status"`
	CurrentSessions     int64   `json:"current_sessions"`
	MinSessionsRequired int     `json:"min_sessions_required"`
	Cost

	// For the overview's totals.
	cost                            costSum
	maxRisk, durSum                 float64 // riskiest session's score; sum of call durations
	events, high, cached, responses int64
}

// SessionRow is one session in lists (API.md "SessionRow").
type SessionRow struct {
	ID                   string            `json:"id"`
	IDShort              string            `json:"id_short"`
	AgentID              string            `json:"agent_id"`
	AgentIDShort         string            `json:"agent_id_short"`
	AgentWorkflowID      *string           `json:"agent_workflow_id"`
	ClusterID            *string           `json:"cluster_id"`
	CreatedAt            Time              `json:"created_at"`
	LastActivity         Time              `json:"last_activity"`
	LastActivityRelative string            `json:"last_activity_relative"`
	DurationMinutes      float64           `json:"duration_minutes"`
	IsActive             bool              `json:"is_active"`
	IsCompleted          bool              `json:"is_completed"`
	Status               string            `json:"status"`
	MessageCount         int64             `json:"message_count"`
	ResponseCount        int64             `json:"response_count"`
	ToolUses             int64             `json:"tool_uses"`
	Errors               int64             `json:"errors"`
	TotalTokens          int64             `json:"total_tokens"`
	ErrorRate            float64           `json:"error_rate"`
	Model                string            `json:"model"`
	FindingsCount        int64             `json:"findings_count"`
	RiskScore            float64           `json:"risk_score"`
	RiskLevel            string            `json:"risk_level"`
	Tags                 map[string]string `json:"tags"`
	Cost
	cost costSum
}

// Event is one stored event (API.md "Event").
type Event struct {
	ID           string  `json:"id"`
	EventID      string  `json:"event_id"`
	TraceID      string  `json:"trace_id"`
	Name         string  `json:"name"`
	Level        string  `json:"level"`
	Timestamp    Time    `json:"timestamp"`
	SessionID    string  `json:"session_id"`
	AgentID      string  `json:"agent_id"`
	Vendor       string  `json:"vendor"`
	Model        string  `json:"model"`
	Status       int64   `json:"status"`
	DurationMs   float64 `json:"duration_ms"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	TotalTokens  int64   `json:"total_tokens"`
	CachedTokens int64   `json:"cached_tokens"`
	ToolName     string  `json:"tool_name"`
	FinishReason string  `json:"finish_reason"`
	ErrorType    string  `json:"error_type"`
	ErrorMessage string  `json:"error_message"`
	RiskScore    float64 `json:"risk_score"`
	// CostUSD and CostStatus are a finished call's cost (null unless
	// priced) and how it was priced; "" for other events.
	CostUSD    *float64        `json:"cost_usd"`
	CostStatus string          `json:"cost_status"`
	Attributes json.RawMessage `json:"attributes"`
	Finding    *Finding        `json:"finding,omitempty"`
}

// Finding is one security.finding event (API.md "Finding").
type Finding struct {
	ID              string  `json:"id"`
	Timestamp       Time    `json:"timestamp"`
	AgentID         string  `json:"agent_id"`
	SessionID       string  `json:"session_id"`
	Category        string  `json:"category"`
	Rule            string  `json:"rule"`
	Severity        string  `json:"severity"`
	Confidence      float64 `json:"confidence"`
	Evidence        string  `json:"evidence"`
	OWASP           string  `json:"owasp"`
	Source          string  `json:"source"`
	Decoded         bool    `json:"decoded"`
	SourceEventID   string  `json:"source_event_id"`
	SourceEventName string  `json:"source_event_name"`
	SpanID          string  `json:"span_id"`
	RiskScore       float64 `json:"risk_score"`
	Model           string  `json:"model"`
	ToolName        string  `json:"tool_name"`
}

// severityCounts is by_severity: every level present, zero or not.
func severityCounts() map[string]int64 {
	m := make(map[string]int64, 5)
	for s := detect.SeverityInfo; s <= detect.SeverityCritical; s++ {
		m[s.String()] = 0
	}
	return m
}

func riskStatus(sessions int64, score float64) *string {
	if sessions == 0 {
		return nil
	}
	s := "ok"
	switch detect.RiskLevel(score) {
	case "medium":
		s = "warning"
	case "high", "critical":
		s = "critical"
	}
	return &s
}

// riskyScore is the session score from which a session counts as risky
// (high or critical).
const riskyScore = 50
