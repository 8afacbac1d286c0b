package configs

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// PoliciesConfig is the policies: block: custom detection rules and the
// guard policies that decide, per finding, what the proxy does inline. The
// first policy whose match holds wins; detect.guard, when not off, acts as
// one more policy after them (see edge/policy).
type PoliciesConfig struct {
	// CustomRules are patterns of your own, found like built-in rules
	// (their id can be matched by policies).
	CustomRules []CustomRuleConfig `yaml:"custom_rules"`
	// Guard lists the policies, in order.
	Guard []GuardPolicyConfig `yaml:"guard"`
	// StreamHoldbackBytes, when more than 0, holds back up to this many
	// bytes of a streamed answer (or until the first tool call is complete)
	// so that response policies can block or redact it before the client
	// sees it. 0 (default) streams every byte as it arrives.
	StreamHoldbackBytes ByteSize `yaml:"stream_holdback_bytes"`
}

// CustomRuleConfig is one user-supplied pattern: exactly one of Literal
// and Regex (RE2 syntax).
type CustomRuleConfig struct {
	ID      string `yaml:"id"`
	Literal string `yaml:"literal"`
	Regex   string `yaml:"regex"`
	// IgnoreCase matches the literal or regex case-insensitively.
	IgnoreCase bool `yaml:"ignore_case"`
	// Severity is low, medium, high (default) or critical.
	Severity string `yaml:"severity"`
	// Category is a detect category (default secret); it decides where the
	// finding is filed and what redact masks.
	Category string `yaml:"category"`
	// OWASP is the OWASP LLM Top-10 id reported (default LLM02:2025).
	OWASP string `yaml:"owasp"`
}

// GuardPolicyConfig is one policy: what it matches and what it does.
type GuardPolicyConfig struct {
	Name  string            `yaml:"name"`
	Match PolicyMatchConfig `yaml:"match"`
	// Action is monitor (finding only), block (error answer naming the
	// policy and rule) or redact (mask the match and forward).
	Action string `yaml:"action"`
}

// PolicyMatchConfig: every non-empty dimension must hold; within one, any
// listed value. Globs take * and ?.
type PolicyMatchConfig struct {
	Rules      []string `yaml:"rules"`      // rule id globs: "secret.*", "custom.codename"
	Categories []string `yaml:"categories"` // category globs: "pii", "prompt_*"
	// MinSeverity is the lowest severity matched (default: any).
	MinSeverity string   `yaml:"min_severity"`
	Agents      []string `yaml:"agents"`    // agent id globs
	Workflows   []string `yaml:"workflows"` // /agent-workflow/{id}/ globs
	Tags        []string `yaml:"tags"`      // "key" or "key:value-glob" of x-cylestio-tags
	// Directions: request (default) and/or response.
	Directions []string `yaml:"directions"`
	// Sources: user, tool_result, tool_args, tool_definition, model
	// (the answer's text); default all.
	Sources []string `yaml:"sources"`
}

// LimitConfig is one budget or rate limit, counted per key of its scope.
type LimitConfig struct {
	Name string `yaml:"name"`
	// Scope is agent, workflow, session or tag: what the counters are kept
	// per. Match is a glob over the scope's value ("support-*", for tag
	// "team:*" or "team"); default *.
	Scope string `yaml:"scope"`
	Match string `yaml:"match"`

	RequestsPerSecond int `yaml:"requests_per_second"`
	RequestsPerMinute int `yaml:"requests_per_minute"`
	// Tokens are input plus output tokens as the provider reports them.
	TokensPerHour int64 `yaml:"tokens_per_hour"`
	TokensPerDay  int64 `yaml:"tokens_per_day"`
	// Costs in USD, priced with pricing: (sink/pricing).
	CostPerHourUSD float64 `yaml:"cost_per_hour_usd"`
	CostPerDayUSD  float64 `yaml:"cost_per_day_usd"`
	// ToolCallsPerSession counts the tool results a session sends back.
	ToolCallsPerSession int `yaml:"tool_calls_per_session"`
	// IdenticalToolCalls is the loop breaker: the most consecutive
	// identical tool calls (name and arguments) a session may run.
	IdenticalToolCalls int `yaml:"identical_tool_calls"`
	// Action is block (429 with Retry-After, default) or monitor.
	Action string `yaml:"action"`
}

// AlertsConfig is where notifications go and what raises them.
type AlertsConfig struct {
	// MinSeverity: findings at or above it alert (default high; "off"
	// disables finding alerts).
	MinSeverity string `yaml:"min_severity"`
	// SessionRiskThreshold: a session whose risk score (0..100) reaches it
	// alerts once; 0 disables.
	SessionRiskThreshold float64 `yaml:"session_risk_threshold"`
	// BudgetThresholds are fractions of a limit (0.8, 1.0) that alert
	// when a counter crosses them.
	BudgetThresholds []float64 `yaml:"budget_thresholds"`
	// Guard decisions (block, redact, limited) alert too.
	Decisions bool `yaml:"decisions"`
	// ErrorRate alerts when the share of failed calls over Window reaches
	// it (with at least MinRequests calls); 0 disables.
	ErrorRate        float64  `yaml:"error_rate"`
	ErrorWindow      Duration `yaml:"error_window"`
	ErrorMinRequests int      `yaml:"error_min_requests"`
	// StorageDown alerts when the store or an exporter stops accepting
	// writes (and when it recovers).
	StorageDown bool `yaml:"storage_down"`
	// DedupWindow: one alert per (rule, agent) within it.
	DedupWindow Duration `yaml:"dedup_window"`
	// MaxPerMinute bounds deliveries per destination.
	MaxPerMinute int `yaml:"max_per_minute"`
	// Retries after a failed delivery, with exponential backoff from
	// RetryBackoff.
	Retries      int      `yaml:"retries"`
	RetryBackoff Duration `yaml:"retry_backoff"`
	// QueueSize bounds alerts waiting for delivery; beyond it they are
	// dropped and counted.
	QueueSize    int                `yaml:"queue_size"`
	Destinations []AlertDestination `yaml:"destinations"`
}

// AlertDestination is one receiver.
type AlertDestination struct {
	// Type is webhook (JSON, signed), slack (incoming webhook) or log.
	Type string `yaml:"type"`
	URL  string `yaml:"url"`
	// Secret signs webhook bodies: X-Perimeter-Signature: sha256=<hex
	// HMAC-SHA256 of timestamp "." body>, with X-Perimeter-Timestamp.
	Secret  string   `yaml:"secret"`
	Timeout Duration `yaml:"timeout"`
}

// Enabled reports whether any destination is configured.
func (a AlertsConfig) Enabled() bool { return len(a.Destinations) > 0 }

func defaultAlerts() AlertsConfig {
	return AlertsConfig{
		MinSeverity:      "high",
		BudgetThresholds: []float64{0.8, 1.0},
		ErrorWindow:      Seconds(60),
		ErrorMinRequests: 20,
		DedupWindow:      Seconds(600),
		MaxPerMinute:     30,
		Retries:          5,
		RetryBackoff:     Duration(500_000_000),
		QueueSize:        1024,
	}
}

var (
	severities     = []string{"low", "medium", "high", "critical"}
	categoriesList = []string{"pii", "secret", "prompt_injection", "improper_output", "excessive_agency", "system_prompt_leakage", "unbounded_consumption"}
	ruleID         = regexp.MustCompile(`^[a-z0-9][a-z0-9_.\-]*$`)
)

func (c *Config) validatePolicies(ps *problems) {
	p := &c.Policies
	ids := map[string]bool{}
	for i := range p.CustomRules {
		r := &p.CustomRules[i]
		path := indexPath("policies.custom_rules", i)
		r.ID = strings.TrimSpace(r.ID)
		if !ruleID.MatchString(r.ID) {
			ps.errorf(path+".id", "must be a lower-case id of letters, digits, '.', '_' or '-' (e.g. custom.project_codename), got %q", r.ID)
		} else if ids[r.ID] {
			ps.errorf(path+".id", "%q is used by an earlier rule; ids must be unique", r.ID)
		}
		ids[r.ID] = true
		switch {
		case (r.Literal == "") == (r.Regex == ""):
			ps.errorf(path, "needs exactly one of literal and regex")
		case r.Regex != "":
			if re, err := regexp.Compile(r.Regex); err != nil {
				ps.errorf(path+".regex", "does not compile: %v (RE2 syntax: no look-around or back-references)", err)
			} else if re.MatchString("") {
				ps.errorf(path+".regex", "matches the empty string, so it would match every text; anchor it to something")
			}
		}
		r.Severity = lowerOr(r.Severity, "high")
		oneOf(ps, path+".severity", r.Severity, severities...)
		r.Category = lowerOr(r.Category, "secret")
		oneOf(ps, path+".category", r.Category, categoriesList...)
		if r.OWASP == "" {
			r.OWASP = "LLM02:2025"
		}
	}
	names := map[string]bool{}
	for i := range p.Guard {
		g := &p.Guard[i]
		path := indexPath("policies.guard", i)
		uniqueName(ps, names, path, &g.Name, "policy", i, "block answers and /metrics name them")
		oneOfLower(ps, path+".action", &g.Action, "monitor", "block", "redact")
		m := &g.Match
		globs(ps, path+".match.rules", m.Rules)
		globs(ps, path+".match.categories", m.Categories)
		for j, cat := range m.Categories {
			if !strings.ContainsAny(cat, "*?") {
				oneOf(ps, indexPath(path+".match.categories", j), cat, categoriesList...)
			}
		}
		if m.MinSeverity != "" {
			oneOfLower(ps, path+".match.min_severity", &m.MinSeverity, severities...)
		}
		globs(ps, path+".match.agents", m.Agents)
		globs(ps, path+".match.workflows", m.Workflows)
		globs(ps, path+".match.tags", m.Tags)
		for j := range m.Directions {
			oneOfLower(ps, indexPath(path+".match.directions", j), &m.Directions[j], "request", "response")
		}
		for j := range m.Sources {
			oneOfLower(ps, indexPath(path+".match.sources", j), &m.Sources[j], "user", "tool_result", "tool_args", "tool_definition", "model")
		}
	}
	if len(p.Guard) > 0 && !c.Detect.Enabled {
		ps.warnf("policies.guard", "detect.enabled is false: the policies still scan inline, but nothing is scanned in the pipeline")
	}
	if p.StreamHoldbackBytes < 0 || p.StreamHoldbackBytes > 16*MiB {
		ps.errorf("policies.stream_holdback_bytes", "must be 0..16MB, got %s", p.StreamHoldbackBytes)
	}
}

func (c *Config) validateLimits(ps *problems) {
	names := map[string]bool{}
	for i := range c.Limits {
		l := &c.Limits[i]
		path := indexPath("limits", i)
		uniqueName(ps, names, path, &l.Name, "limit", i, "429 answers name them")
		oneOfLower(ps, path+".scope", &l.Scope, "agent", "workflow", "session", "tag")
		if l.Match == "" {
			l.Match = "*"
		}
		globs(ps, path+".match", []string{l.Match})
		l.Action = lowerOr(l.Action, "block")
		oneOf(ps, path+".action", l.Action, "block", "monitor")
		atLeast(ps, path+".requests_per_second", l.RequestsPerSecond, 0)
		atLeast(ps, path+".requests_per_minute", l.RequestsPerMinute, 0)
		atLeast(ps, path+".tool_calls_per_session", l.ToolCallsPerSession, 0)
		atLeast(ps, path+".identical_tool_calls", l.IdenticalToolCalls, 0)
		if l.TokensPerHour < 0 || l.TokensPerDay < 0 {
			ps.errorf(path, "token limits must not be negative")
		}
		if l.CostPerHourUSD < 0 || l.CostPerDayUSD < 0 {
			ps.errorf(path, "cost limits must not be negative")
		}
		if l.RequestsPerSecond == 0 && l.RequestsPerMinute == 0 && l.TokensPerHour == 0 && l.TokensPerDay == 0 &&
			l.CostPerHourUSD == 0 && l.CostPerDayUSD == 0 && l.ToolCallsPerSession == 0 && l.IdenticalToolCalls == 0 {
			ps.errorf(path, "sets no limit: give at least one of requests_per_second, requests_per_minute, tokens_per_hour, tokens_per_day, cost_per_hour_usd, cost_per_day_usd, tool_calls_per_session, identical_tool_calls")
		}
		if (l.ToolCallsPerSession > 0 || l.IdenticalToolCalls > 0) && l.Scope != "session" {
			ps.errorf(path+".scope", "must be session for tool_calls_per_session and identical_tool_calls (they count per session)")
		}
	}
}

func (c *Config) validateAlerts(ps *problems) {
	a := &c.Alerts
	a.MinSeverity = lowerOr(a.MinSeverity, "high")
	oneOf(ps, "alerts.min_severity", a.MinSeverity, "off", "low", "medium", "high", "critical")
	if a.SessionRiskThreshold < 0 || a.SessionRiskThreshold > 100 {
		ps.errorf("alerts.session_risk_threshold", "must be 0..100 (a risk score), got %g", a.SessionRiskThreshold)
	}
	for i, t := range a.BudgetThresholds {
		if t <= 0 || t > 10 {
			ps.errorf(indexPath("alerts.budget_thresholds", i), "must be a fraction of the limit such as 0.8 or 1.0, got %g", t)
		}
	}
	if a.ErrorRate < 0 || a.ErrorRate > 1 {
		ps.errorf("alerts.error_rate", "must be a fraction 0..1 of failed calls, got %g", a.ErrorRate)
	}
	positive(ps, "alerts.error_window", a.ErrorWindow)
	atLeast(ps, "alerts.error_min_requests", a.ErrorMinRequests, 1)
	nonNegative(ps, "alerts.dedup_window", a.DedupWindow)
	atLeast(ps, "alerts.max_per_minute", a.MaxPerMinute, 1)
	atLeast(ps, "alerts.retries", a.Retries, 0)
	positive(ps, "alerts.retry_backoff", a.RetryBackoff)
	atLeast(ps, "alerts.queue_size", a.QueueSize, 1)
	for i := range a.Destinations {
		d := &a.Destinations[i]
		path := indexPath("alerts.destinations", i)
		oneOfLower(ps, path+".type", &d.Type, "webhook", "slack", "log")
		if d.Type == "webhook" || d.Type == "slack" {
			if !strings.HasPrefix(d.URL, "http://") && !strings.HasPrefix(d.URL, "https://") {
				ps.errorf(path+".url", "must be an http(s) URL for a %s destination, got %q", d.Type, d.URL)
			}
		}
		if d.Type == "webhook" && d.Secret == "" {
			ps.warnf(path+".secret", "is empty: webhook bodies are sent unsigned; set a secret (e.g. ${ALERT_WEBHOOK_SECRET}) so the receiver can verify them")
		}
		if d.Timeout == 0 {
			d.Timeout = Seconds(5)
		}
		positive(ps, path+".timeout", d.Timeout)
	}
	if len(a.Destinations) == 0 && (a.SessionRiskThreshold > 0 || a.ErrorRate > 0 || a.StorageDown || a.Decisions) {
		ps.warnf("alerts.destinations", "is empty: no alert is delivered; add a webhook, slack or log destination")
	}
}

// uniqueName trims the name of entry i of a list of kind (policy, limit),
// names an unnamed one kind-<i+1>, and reports a name an earlier entry
// has taken (seen holds those); why says what shows the name.
func uniqueName(ps *problems, seen map[string]bool, path string, name *string, kind string, i int, why string) {
	*name = strings.TrimSpace(*name)
	if *name == "" {
		*name = kind + "-" + strconv.Itoa(i+1)
	} else if seen[*name] {
		ps.errorf(path+".name", "%q is used by an earlier %s; names must be unique (%s)", *name, kind, why)
	}
	seen[*name] = true
}

func globs(ps *problems, path string, gs []string) {
	for i, g := range gs {
		if strings.TrimSpace(g) == "" {
			ps.errorf(indexPath(path, i), "must not be empty (use * for any)")
		}
	}
}

func lowerOr(v, def string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return def
	}
	return v
}

// redactAlertURLs hides the path and query of alert destination URLs in a
// redacted view: an incoming webhook's URL is its credential
// (hooks.slack.com/services/T…/B…/secret).
func redactAlertURLs(v map[string]any) {
	a, _ := v["alerts"].(map[string]any)
	ds, _ := a["destinations"].([]any)
	for _, d := range ds {
		m, _ := d.(map[string]any)
		if u, ok := m["url"].(string); ok && u != "" {
			if p, err := url.Parse(u); err == nil && p.Host != "" {
				m["url"] = p.Scheme + "://" + p.Host + "/" + RedactedValue
			} else {
				m["url"] = RedactedValue
			}
		}
	}
}
