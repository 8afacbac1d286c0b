package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/edge/capture"
	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/session/peer"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/alert"
	"github.com/cylestio/perimeter/sink/chdb"
	"github.com/cylestio/perimeter/sink/clickhouse"
	"github.com/cylestio/perimeter/sink/content"
	"github.com/cylestio/perimeter/sink/files"
	"github.com/cylestio/perimeter/sink/inspect"
	"github.com/cylestio/perimeter/sink/otel"
	"github.com/cylestio/perimeter/sink/pricing"
	"github.com/cylestio/perimeter/sink/printer"
	"github.com/cylestio/perimeter/sink/prom"
)

// analytics is everything off the request path: the session table, event
// capture, detection, and the sink pipeline with its writers.
type analytics struct {
	sessions *session.Table
	capture  *capture.Capture
	pipeline *sink.Pipeline
	writers  []string
	store    sink.Store // nil with storage.engine none
	embedded *chdb.Store
	onWrite  atomic.Value // func(), called after each batch the store took (the dashboard's live stream)
	// pricer prices every captured call in the pipeline (sink/pricing);
	// stopPricer ends its refresh loop.
	pricer     *pricing.Pricer
	stopPricer func()
	// findings, when set, alerts on the findings of every processed
	// batch (alerts.go).
	findings atomic.Pointer[alert.FindingWatch]
	// content is storage.content, applied to every event before any
	// writer; otel is the OpenTelemetry exporter (nil when off).
	content *content.Reducer
	otel    *otel.Writer
	// detect is the pipeline's detection (nil when detect.enabled is
	// false); /metrics shows its memo counters.
	detect *inspect.Processor
	// traffic counts the captured calls for /metrics/prometheus.
	traffic *prom.Traffic
	// peers asks the other instances for sessions this one does not know;
	// peerServer answers theirs (session.peers; nil when not configured).
	peers      *peer.Client
	peerServer *peer.Server
}

// openStore opens the analytics store of storage.engine. A store that cannot
// run here (no libchdb, ClickHouse down) is still opened: it reports why in
// its Status, the pipeline spills its events, and it comes back by itself.
func (a *analytics) openStore(cfg *configs.Config, log zerolog.Logger) error {
	switch strings.ToLower(cfg.Storage.Engine) {
	case "none":
		log.Info().Msg("storage.engine is none: events are not stored; dashboard analytics are off")
		return nil
	case "", "embedded":
		o := chdb.OptionsFromConfig(cfg.Storage)
		o.Logger = log.With().Str("component", "chdb").Logger()
		// The original's storage_mode applies only where it is written:
		// analytics persist unless asked not to.
		if ltc, ok, err := cfg.LiveTraceSettings(); ok && err == nil && ltc.StorageMode != "" {
			log.Info().Msg(o.ApplyLiveTraceMode(ltc.StorageMode, ltc.DBPath))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		st, err := chdb.Open(ctx, o)
		if o.Memory {
			log.Warn().Str("path", st.Dir()).Str("reason", o.MemoryReason).Msg(chdb.EphemeralWarning(o.MemoryReason))
		}
		if err != nil {
			stat := st.Status()
			log.Warn().Str("reason", stat.Reason).Str("fix", stat.Fix).
				Msg("embedded analytics unavailable: the proxy runs, events are kept in the spill directory until it works")
		} else {
			log.Info().Str("version", st.Status().Version).Str("path", st.Dir()).Bool("ephemeral", o.Memory).Msg("embedded ClickHouse (chDB) ready")
		}
		a.store, a.embedded = st, st
		return nil
	case "clickhouse":
		o := clickhouse.OptionsFromConfig(cfg.Storage)
		o.Logger = log.With().Str("component", "clickhouse").Logger()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := clickhouse.Open(ctx, o)
		if err != nil {
			return fmt.Errorf("storage.clickhouse: %w", err)
		}
		if stat := st.Status(); !stat.Available {
			log.Warn().Str("reason", stat.Reason).Str("fix", stat.Fix).
				Msg("ClickHouse unavailable: the proxy runs, events are kept in the spill directory until it is back")
		} else {
			log.Info().Str("version", stat.Version).Msg("ClickHouse server ready")
		}
		a.store = st
		return nil
	default:
		return fmt.Errorf("storage.engine %q: use embedded, clickhouse or none", cfg.Storage.Engine)
	}
}

// implementedInterceptors are the interceptor types this build runs
// (live_trace is the dashboard's configuration: dashboard.go).
var implementedInterceptors = map[string]bool{"printer": true, "message_logger": true, "event_recorder": true, "http_recorder": true, "live_trace": true}

func newAnalytics(cfg *configs.Config, log zerolog.Logger) (*analytics, error) {
	defaultInstanceID(cfg)
	a := &analytics{}
	var writers []sink.Writer
	var recorder *files.HTTPRecorder
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
		case "message_logger", "event_recorder", "http_recorder":
			w, err := files.New(ic, cfg.LLM.Type, log)
			if err != nil {
				return nil, fmt.Errorf("interceptors: %s: %w", ic.Type, err)
			}
			if r, ok := w.(*files.HTTPRecorder); ok {
				recorder = r
			}
			writers = append(writers, w)
		default:
			if !implementedInterceptors[ic.Type] {
				log.Warn().Str("interceptor", ic.Type).
					Msg("interceptor configured but not part of this build yet; traffic is proxied without it")
			}
		}
	}
	if err := a.openStore(cfg, log); err != nil {
		return nil, err
	}
	if a.store != nil {
		writers = append(writers, notifyWrites{Store: a.store, fn: &a.onWrite})
	}
	if oc := cfg.Telemetry.OTel; oc.Enabled {
		w, err := otel.New(otelOptions(oc, log))
		if err != nil {
			return nil, err
		}
		a.otel = w
		writers = append(writers, w) // its Close keeps to the pipeline's deadline (sink.ContextCloser)
	}
	for _, w := range writers {
		a.writers = append(a.writers, w.Name())
	}
	if recorder != nil {
		writers = files.Route(writers) // raw exchanges reach the http_recorder only
	}

	pricer, stop, err := startPricer(cfg.Pricing, log)
	if err != nil {
		return nil, err
	}
	a.pricer, a.stopPricer = pricer, stop

	if err := a.openSessions(cfg.Session, log); err != nil {
		a.stopPricer()
		return nil, err
	}
	if len(writers) == 0 {
		log.Info().Msg("no event writer configured (printer, storage): sessions are tracked, events are not captured")
		return a, nil
	}
	a.traffic = prom.NewTraffic(prom.Options{MaxAgents: cfg.Telemetry.Prometheus.MaxAgents})
	writers = append(writers, a.traffic)

	opts := sink.OptionsFromConfig(cfg.Storage)
	opts.Logger = log.With().Str("component", "sink").Logger()
	opts.Instance = cfg.Server.InstanceID
	// Price, detect (on the text as captured), reduce the text to what
	// storage.content keeps, then mask credentials in what every writer
	// stores.
	mode, err := content.ParseMode(cfg.Storage.Content)
	if err != nil {
		a.stopPricer()
		return nil, err
	}
	a.content = content.New(mode)
	analyse := a.pricer.Apply
	if cfg.Detect.Enabled {
		proc := inspect.New(detect.Options{}, cfg.Session.MaxSessions)
		proc.Extra = pipelineRules(cfg) // policies.custom_rules
		a.detect = proc
		detectBatch := proc.Process
		analyse = func(b []*sink.Event) []*sink.Event { return detectBatch(a.pricer.Apply(b)) }
	}
	process := func(b []*sink.Event) []*sink.Event { return files.RedactEvents(a.content.Process(analyse(b))) }
	// Raw exchanges (http_recorder) are not calls: they skip pricing,
	// detection and RedactEvents (capture masks their credential headers,
	// query parameters and the configured key as it builds them), but not
	// storage.content.
	reduceExchanges := false
	if recorder != nil {
		process = files.SkipProcess(process, httprec.EventName)
		reduceExchanges = mode != content.Full
	}
	opts.Process = func(b []*sink.Event) []*sink.Event {
		b = process(b)
		if reduceExchanges {
			for _, ev := range b {
				if ev.Name == httprec.EventName {
					a.content.Event(ev)
				}
			}
		}
		if w := a.findings.Load(); w != nil {
			w.Process(b)
		}
		return b
	}
	if mode != content.Full {
		log.Info().Str("storage.content", mode.String()).Msg("stored events keep no raw message text beyond what storage.content allows")
	}
	p, err := sink.NewPipeline(opts, writers...)
	if err != nil {
		a.stopPricer()
		return nil, fmt.Errorf("event pipeline: %w", err)
	}
	if opts.Durable {
		log.Info().Str("durability", configs.DurabilitySpill).Dur("commit_interval", opts.CommitInterval).Str("spill_dir", opts.SpillDir).
			Msg("events are in the spill log within the commit interval: a crash loses at most that much")
	} else {
		log.Info().Str("durability", configs.DurabilityNone).
			Msg("batches wait in memory for their writers: a crash loses what is queued (set storage.durability: spill)")
	}
	a.pipeline = p
	a.capture = capture.New(a.sessions, p, cfg.LLM.Type)
	if a.otel != nil {
		a.capture.ContinueTraces()
	}
	if recorder != nil {
		a.capture.RecordHTTP(recorder.MaxBodySize())
	}
	if a.peerServer != nil {
		// A peer asks for the session of a turn this instance may have
		// answered a moment ago: capture what is queued first, unless
		// this instance's capture itself waits on a peer.
		wait := cfg.Session.Peers.Timeout.D() / 2
		cp, cl := a.capture, a.peers
		a.peerServer.BeforeAnswer(func() { cp.Flush(wait, cl.Asking) })
	}
	return a, nil
}

// sessionMemoryMB is the session table's size in MiB as made (0 without
// one).
func (a *analytics) sessionMemoryMB() int {
	if a.sessions == nil {
		return 0
	}
	return a.sessions.Config().MemoryMB
}

// openSessions makes the session table and, with session.peers, the
// lookup client it asks and the listener that answers the peers.
func (a *analytics) openSessions(sc configs.SessionConfig, log zerolog.Logger) error {
	scfg := session.Config{
		Enabled:     sc.Enabled,
		MaxSessions: sc.MaxSessions,
		TTL:         time.Duration(sc.SessionTTLSeconds) * time.Second,
		MemoryMB:    sc.MemoryMB,
		Fuzzy:       sc.Fuzzy,
	}
	pc := sc.Peers
	if sc.Enabled && len(pc.Addresses) > 0 {
		cl, err := peer.NewClient(peer.Config{Addresses: pc.Addresses, Token: pc.Token, Timeout: pc.Timeout.D(), DownFor: pc.DownFor.D()})
		if err != nil {
			return err
		}
		a.peers = cl
		scfg.Peers = cl
	}
	a.sessions = session.New(scfg)
	if sc.Enabled && pc.Listen != "" {
		srv, err := peer.Listen(pc.Listen, a.sessions, pc.Token, "")
		if err != nil {
			a.peers.Close()
			return err
		}
		a.peerServer = srv
	}
	if sc.Enabled && pc.Enabled() {
		log.Info().Str("listen", pc.Listen).Strs("peers", pc.Addresses).Dur("timeout", pc.Timeout.D()).
			Msg("session peers: sessions this instance does not know are looked up on its peers")
	}
	return nil
}

// metrics is the analytics part of GET /metrics.
func (a *analytics) metrics() map[string]any {
	out := map[string]any{"sessions": a.sessions.Stats()}
	if a.peers != nil {
		out["session_peers"] = a.peers.Stats()
	}
	if a.capture != nil {
		out["capture"] = a.capture.Stats()
	}
	if a.pipeline != nil {
		out["sink"] = a.pipeline.Metrics()
	}
	if a.otel != nil {
		out["otel"] = a.otel.Metrics()
	}
	if a.detect != nil {
		out["detect"] = a.detect.Stats()
	}
	if a.traffic != nil {
		out["models"] = a.traffic.Models()
	}
	if a.store != nil {
		st := map[string]any{"status": a.store.Status()}
		if a.embedded != nil {
			st["embedded"] = a.embedded.Stats()
		}
		out["storage"] = st
	}
	return out
}

// storageStatus is the store's health for /config and the startup log.
func (a *analytics) storageStatus() sink.Status {
	if a.store == nil {
		return sink.Status{Engine: "none", Reason: "storage.engine is none", Fix: "set storage.engine to embedded or clickhouse"}
	}
	return a.store.Status()
}

// lastCaptures is how long close waits for the calls already answered to
// be captured when less than that is left of its deadline: their events
// then reach the pipeline, which spills what its writers cannot take.
const lastCaptures = time.Second

// close captures the calls still queued, then drains the pipeline: every
// event reaches its writers (or their spill files) before the process
// exits. Call it once the proxy has stopped. Past ctx's deadline it takes
// at most lastCaptures and the pipeline's grace for a stuck writer
// (sink.Pipeline.Close) more; the OpenTelemetry exporter gives up on
// the collector at the deadline.
func (a *analytics) close(ctx context.Context) error {
	if a.stopPricer != nil {
		a.stopPricer()
	}
	if a.peerServer != nil {
		_ = a.peerServer.Close() // peers stop asking this instance
	}
	var errCapture error
	if a.capture != nil {
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if d, ok := ctx.Deadline(); ok && time.Until(d) < lastCaptures {
			cctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), lastCaptures)
		}
		errCapture = a.capture.Close(cctx) // its last captures may still ask the peers
		cancel()
	}
	a.peers.Close()
	if a.pipeline != nil {
		// The pipeline owns its writers, the store included, and closes
		// them once drained.
		return errors.Join(errCapture, a.pipeline.Close(ctx))
	}
	if a.store != nil {
		return errors.Join(errCapture, a.store.Close())
	}
	return errCapture
}
