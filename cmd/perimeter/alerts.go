package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/edge"
	"github.com/cylestio/perimeter/edge/policy"
	"github.com/cylestio/perimeter/sink/alert"
)

// newAlerts starts the notifier of alerts:, nil without destinations.
func newAlerts(ac configs.AlertsConfig, log zerolog.Logger) *alert.Notifier {
	if !ac.Enabled() {
		return nil
	}
	var dests []alert.Destination
	for _, d := range ac.Destinations {
		client := &http.Client{Timeout: d.Timeout.D()}
		switch d.Type {
		case "webhook":
			dests = append(dests, &alert.Webhook{URL: d.URL, Secret: []byte(d.Secret), Client: client})
		case "slack":
			dests = append(dests, &alert.Slack{URL: d.URL, Client: client})
		case "log":
			dests = append(dests, &alert.Log{Logger: log.With().Str("component", "alerts").Logger()})
		}
	}
	retries := ac.Retries
	if retries == 0 {
		retries = -1 // the notifier reads 0 as its default
	}
	dedup := ac.DedupWindow.D()
	if dedup == 0 {
		dedup = -1
	}
	n := alert.New(alert.Options{Destinations: dests, DedupWindow: dedup, MaxPerMinute: ac.MaxPerMinute, Retries: retries,
		Backoff: ac.RetryBackoff.D(), QueueSize: ac.QueueSize, Logger: log.With().Str("component", "alerts").Logger()})
	names := make([]string, 0, len(dests))
	for _, d := range dests {
		names = append(names, d.Name())
	}
	log.Info().Strs("destinations", names).Str("min_severity", ac.MinSeverity).Msg("alerts on: delivered off the request path")
	return n
}

// alertHooks turns guard decisions and limit events into alerts: budget
// thresholds always, blocks, redactions and refusals with
// alerts.decisions.
func alertHooks(n *alert.Notifier, ac configs.AlertsConfig) guardHooks {
	if n == nil {
		return guardHooks{}
	}
	h := guardHooks{onLimit: func(e *policy.LimitEvent) {
		switch {
		case e.Action == "threshold":
			sev := "medium"
			if e.Fraction >= 1 {
				sev = "high"
			}
			n.Notify(&alert.Alert{Kind: alert.KindBudget, Time: e.Time, Severity: sev, Rule: e.Limit + "/" + e.Kind + "/" + fmt.Sprint(e.Fraction), Agent: e.Key,
				Title:   fmt.Sprintf("%s %s reached %.0f%% of %s (%s of %s)", e.Scope, e.Key, 100*e.Fraction, e.Kind, policy.Amount(e.Used), policy.Amount(e.Max)),
				Details: map[string]any{"limit": e.Limit, "scope": e.Scope, "key": e.Key, "kind": e.Kind, "used": e.Used, "max": e.Max, "fraction": e.Fraction}})
		case ac.Decisions:
			n.Notify(&alert.Alert{Kind: alert.KindLimit, Time: e.Time, Severity: "medium", Rule: e.Limit + "/" + e.Kind, Agent: e.Key,
				Title:   fmt.Sprintf("%s %s %s by limit %s (%s: %s of %s)", e.Scope, e.Key, e.Action, e.Limit, e.Kind, policy.Amount(e.Used), policy.Amount(e.Max)),
				Details: map[string]any{"limit": e.Limit, "scope": e.Scope, "key": e.Key, "kind": e.Kind, "action": e.Action, "used": e.Used, "max": e.Max}})
		}
	}}
	if ac.Decisions {
		h.onDecision = func(e *policy.Event) {
			if e.Action == "monitor" {
				return // findings alert through the pipeline
			}
			n.Notify(&alert.Alert{Kind: alert.KindDecision, Time: e.Time, Severity: e.Severity, Rule: e.Rule, Agent: e.Agent, Session: e.Session,
				Title:   fmt.Sprintf("policy %s: %s %s of agent %s (%s)", e.Policy, e.Action, e.Direction, e.Agent, e.Rule),
				Details: map[string]any{"policy": e.Policy, "action": e.Action, "direction": e.Direction, "source": e.Source, "evidence": e.Evidence, "owasp": e.OWASP, "workflow": e.Workflow}})
		}
	}
	return h
}

// findingWatch is the pipeline step that alerts on findings and session
// risk; nil when neither is asked for.
func findingWatch(n *alert.Notifier, ac configs.AlertsConfig) *alert.FindingWatch {
	if n == nil {
		return nil
	}
	w := &alert.FindingWatch{N: n, RiskThreshold: ac.SessionRiskThreshold, Off: ac.MinSeverity == "off"}
	w.MinSeverity, _ = detect.ParseSeverity(ac.MinSeverity)
	if w.Off && w.RiskThreshold == 0 {
		return nil
	}
	return w
}

// watchHealth samples the proxy's failures and the writers' health for
// error-rate and outage alerts until ctx ends.
func watchHealth(ctx context.Context, n *alert.Notifier, ac configs.AlertsConfig, srv *edge.Server, an *analytics) {
	if n == nil || (ac.ErrorRate == 0 && !ac.StorageDown) {
		return
	}
	o := alert.WatchOptions{Every: max(time.Second, ac.ErrorWindow.D()/6), ErrorRate: ac.ErrorRate, Window: ac.ErrorWindow.D(),
		MinRequests: uint64(ac.ErrorMinRequests), Stores: ac.StorageDown}
	go n.Watch(ctx, o, func() alert.Sample {
		var s alert.Sample
		snap := srv.Proxy().Snapshot()
		if r, ok := snap["requests"].(map[string]any); ok {
			s.Requests, _ = r["total"].(uint64)
		}
		if errs, ok := snap["errors"].(map[string]uint64); ok {
			for k, v := range errs {
				if k != "client_disconnected" && k != "guard_blocked" && k != "limit_exceeded" { // the proxy's own decisions are not failures
					s.Failed += v
				}
			}
		}
		if up, ok := snap["upstream"].(map[string]any); ok {
			if st, ok := up["status"].(map[string]uint64); ok {
				s.Failed += st["5xx"]
			}
		}
		if an.pipeline != nil {
			for _, w := range an.pipeline.Metrics().Writers {
				s.Stores = append(s.Stores, alert.StoreHealth{Name: w.Name, Healthy: w.Healthy, Error: w.LastError})
			}
		}
		return s
	})
}

// closeAlerts delivers what is queued until ctx, the shutdown's deadline,
// ends.
func closeAlerts(ctx context.Context, n *alert.Notifier, log zerolog.Logger) {
	if n == nil {
		return
	}
	if err := n.Close(ctx); err != nil {
		log.Warn().Err(err).Msg("alerts still queued at shutdown were not delivered")
	}
}
