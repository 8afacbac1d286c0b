package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/edge"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/printer"
	"github.com/cylestio/perimeter/sink/scan"
)

// analytics is everything off the request path: the session table, event
// capture, detection, and the sink pipeline with its writers.
type analytics struct {
	sessions *session.Table
	capture  *edge.Capture
	pipeline *sink.Pipeline
	writers  []string
	status   []sink.Status
}

// implementedInterceptors are the interceptor types this build runs.
var implementedInterceptors = map[string]bool{"printer": true}

func newAnalytics(cfg *configs.Config, log zerolog.Logger) (*analytics, error) {
	a := &analytics{}
	var writers []sink.Writer
	for _, ic := range cfg.Interceptors {
		if !ic.Enabled {
			continue
		}
		switch ic.Type {
		case "printer":
			pc, err := ic.Printer()
			if err != nil {
				return nil, fmt.Errorf("interceptors: printer: %w", err)
			}
			writers = append(writers, printer.New(os.Stdout, printer.Options{
				LogRequests: pc.LogRequests, LogResponses: pc.LogResponses, LogBody: pc.LogBody,
				ShowSessions: pc.ShowSessions, ShowTools: pc.ShowTools,
			}))
		default:
			if !implementedInterceptors[ic.Type] {
				log.Warn().Str("interceptor", ic.Type).
					Msg("interceptor configured but not part of this build yet; traffic is proxied without it")
			}
		}
	}
	for _, w := range writers {
		a.writers = append(a.writers, w.Name())
	}

	sc := cfg.Session
	a.sessions = session.New(session.Config{
		Enabled:     sc.Enabled,
		MaxSessions: sc.MaxSessions,
		TTL:         time.Duration(sc.SessionTTLSeconds) * time.Second,
		MemoryMB:    sc.MemoryMB,
		Fuzzy:       sc.Fuzzy,
	})
	if len(writers) == 0 {
		log.Info().Msg("no event writer configured (printer, storage): sessions are tracked, events are not captured")
		return a, nil
	}

	opts := sink.OptionsFromConfig(cfg.Storage)
	opts.Logger = log.With().Str("component", "sink").Logger()
	if cfg.Detect.Enabled {
		opts.Process = scan.New(detect.Options{}, sc.MaxSessions).Process
	}
	p, err := sink.NewPipeline(opts, writers...)
	if err != nil {
		return nil, fmt.Errorf("event pipeline: %w", err)
	}
	a.pipeline = p
	a.capture = edge.NewCapture(a.sessions, p, cfg.LLM.Type)
	return a, nil
}

// metrics is the analytics part of GET /metrics.
func (a *analytics) metrics() map[string]any {
	out := map[string]any{"sessions": a.sessions.Stats()}
	if a.capture != nil {
		out["capture"] = a.capture.Stats()
	}
	if a.pipeline != nil {
		out["sink"] = a.pipeline.Metrics()
	}
	return out
}

// close drains the pipeline: every queued event reaches its writers (or
// their spill files) before the process exits.
func (a *analytics) close(ctx context.Context) error {
	if a.pipeline == nil {
		return nil
	}
	return a.pipeline.Close(ctx)
}
