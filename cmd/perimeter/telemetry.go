package main

import (
	"maps"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/edge"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/otel"
	"github.com/cylestio/perimeter/sink/prom"
)

// otelOptions maps telemetry.otel onto the exporter's options.
func otelOptions(c configs.OTelConfig, log zerolog.Logger) otel.Options {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	retry := ms(c.RetryMaxElapsedMS)
	if c.RetryMaxElapsedMS == 0 {
		retry = -1 // no retries
	}
	return otel.Options{
		Protocol:           c.Protocol,
		Endpoint:           c.Endpoint,
		Headers:            c.Headers,
		ServiceName:        c.ServiceName,
		ResourceAttributes: c.ResourceAttributes,
		CaptureContent:     c.CaptureContent,
		QueueSize:          c.QueueSize,
		BatchSize:          c.BatchSize,
		BatchTimeout:       ms(c.BatchTimeoutMS),
		ExportTimeout:      ms(c.ExportTimeoutMS),
		RetryMaxElapsed:    retry,
		Version:            shortVersion(),
		Logger:             log.With().Str("component", "otel").Logger(),
	}
}

// appendPrometheus renders the analytics series after edge's own: the
// captured traffic, sessions, the pipeline and its writers, the store, the
// OpenTelemetry exporter and the guard's actions.
func (a *analytics) appendPrometheus(b []byte, guard *edge.Guard, instance string) []byte {
	e := &prom.Exposition{B: b}
	// One series whose label says which proxy this is (server.instance_id),
	// for joins in queries over several instances.
	e.Family("perimeter_instance_info", "gauge", "Always 1; instance_id is server.instance_id, the id this proxy stamps into its events.")
	e.Sample("perimeter_instance_info", 1, "instance_id", instance)
	if a.traffic != nil {
		a.traffic.Append(e)
	}
	if a.sessions != nil {
		st := a.sessions.Stats()
		e.Gauge("perimeter_sessions_active", "Sessions in the session table now.", float64(st.ActiveSessions))
		e.Counter("perimeter_sessions_created_total", "Sessions created.", float64(st.Created))
		e.Counter("perimeter_sessions_expired_total", "Sessions expired after session.session_ttl_seconds.", float64(st.Expired))
		e.Counter("perimeter_sessions_evicted_total", "Sessions evicted because session.max_sessions was reached.", float64(st.Evicted))
		if a.peers != nil {
			ps := a.peers.Stats()
			e.Family("perimeter_session_peer_lookups_total", "counter", "Lookups of a session on the peers (session.peers), by result.")
			e.Sample("perimeter_session_peer_lookups_total", float64(ps.Found), "result", "found")
			e.Sample("perimeter_session_peer_lookups_total", float64(ps.NotFound), "result", "not_found")
			e.Sample("perimeter_session_peer_lookups_total", float64(ps.Timeouts), "result", "timeout")
			e.Sample("perimeter_session_peer_lookups_total", float64(ps.AllDown), "result", "all_down")
			e.Counter("perimeter_session_peer_errors_total", "Failed questions to one peer (refused, wrong token or version).", float64(ps.Errors))
			e.Gauge("perimeter_session_peers_down", "Peers not asked now after a failure or a timeout.", float64(ps.Down))
		}
		e.Counter("perimeter_session_peer_lookups_served_total", "Peers' lookups this instance answered.", float64(st.PeerServed))
	}
	if a.capture != nil {
		cs := a.capture.Stats()
		e.Counter("perimeter_capture_events_dropped_total", "Events dropped because the pipeline's queue was full (storage.batch.queue_size).", promNum(cs["events_dropped"]))
	}
	if a.pipeline != nil {
		m := a.pipeline.Metrics()
		e.Gauge("perimeter_sink_queue_events", "Events waiting to be batched.", float64(m.QueueDepth))
		e.Gauge("perimeter_sink_queue_capacity_events", "storage.batch.queue_size.", float64(m.QueueCapacity))
		e.Counter("perimeter_sink_events_received_total", "Events taken from the queue.", float64(m.Received))
		e.Gauge("perimeter_sink_spill_bytes", "Bytes in the spill files now, all writers.", float64(m.SpillBytes))
		e.Gauge("perimeter_sink_spill_budget_bytes", "storage.spill.max_bytes.", float64(m.SpillBudget))
		e.Family("perimeter_sink_dropped_events_total", "counter", "Events dropped, by reason (all writers).")
		for _, r := range slices.Sorted(maps.Keys(m.DropReasons)) {
			e.Sample("perimeter_sink_dropped_events_total", float64(m.DropReasons[r]), "reason", r)
		}
		type wm = sink.WriterMetrics
		family := func(name, typ, help string, v func(w *wm) float64) {
			e.Family(name, typ, help)
			for i := range m.Writers {
				e.Sample(name, v(&m.Writers[i]), "writer", m.Writers[i].Name)
			}
		}
		family("perimeter_sink_writer_up", "gauge", "1 when the writer's last write succeeded.", func(w *wm) float64 { return bool01(w.Healthy) })
		family("perimeter_sink_writer_lag_seconds", "gauge", "Age of the oldest event the writer has not stored yet.", func(w *wm) float64 { return w.LagSeconds })
		family("perimeter_sink_writer_queue_batches", "gauge", "Batches waiting in the writer's memory queue.", func(w *wm) float64 { return float64(w.QueueDepth) })
		family("perimeter_sink_writer_events_total", "counter", "Events the writer stored.", func(w *wm) float64 { return float64(w.Events) })
		family("perimeter_sink_writer_retries_total", "counter", "Failed writes that were retried.", func(w *wm) float64 { return float64(w.Retries) })
		family("perimeter_sink_writer_spilled_bytes_total", "counter", "Bytes written to the writer's spill files.", func(w *wm) float64 { return float64(w.SpilledBytes) })
		family("perimeter_sink_writer_backlog_bytes", "gauge", "Spilled bytes not stored yet.", func(w *wm) float64 { return float64(w.BacklogBytes) })
		family("perimeter_sink_writer_dropped_events_total", "counter", "Events the writer dropped.", func(w *wm) float64 { return float64(w.Dropped) })
	}
	st := a.storageStatus()
	e.Family("perimeter_storage_up", "gauge", "1 when the analytics store is available (engine: embedded, clickhouse or none).")
	e.Sample("perimeter_storage_up", bool01(st.Available), "engine", st.Engine)
	if a.otel != nil {
		m := a.otel.Metrics()
		e.Gauge("perimeter_otel_queue_spans", "Spans waiting for export.", float64(m.Queued))
		e.Counter("perimeter_otel_spans_exported_total", "Spans the collector accepted.", float64(m.Exported))
		e.Counter("perimeter_otel_spans_dropped_total", "Spans dropped because the export queue was full (telemetry.otel.queue_size).", float64(m.Dropped))
		e.Counter("perimeter_otel_spans_failed_total", "Spans of batches whose export failed after its retries.", float64(m.FailedSpans))
	}
	if guard != nil {
		gs := guard.Stats()
		e.Family("perimeter_guard_actions_total", "counter", "Requests and answers the guard acted on, by action.")
		for _, k := range slices.Sorted(maps.Keys(gs)) {
			if k == "policies" || k == "limits" {
				continue
			}
			if _, ok := gs[k].(uint64); ok {
				e.Sample("perimeter_guard_actions_total", promNum(gs[k]), "action", k)
			}
		}
	}
	return e.B
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func promNum(v any) float64 {
	switch x := v.(type) {
	case uint64:
		return float64(x)
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case float64:
		return x
	}
	return 0
}
