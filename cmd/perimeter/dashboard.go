package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/dashboard"
	"github.com/cylestio/perimeter/edge"
	"github.com/cylestio/perimeter/internal/netlimit"
	"github.com/cylestio/perimeter/sink"
)

// dashboardMaxConns caps the dashboard's open connections: a browser
// holds a few, an MCP client one or two; past the cap a connection is
// answered 503 and closed, so the dashboard's clients never take the file
// descriptors the proxy's need.
const dashboardMaxConns = 256

// The dashboard (API, web UI, MCP) starts with every perimeter run:
//
//   - a live_trace interceptor configures it (server_host, server_port,
//     token, auto_open_browser, refresh_interval,
//     session_completion_timeout), as in the original; enabled: false on it
//     turns the dashboard off;
//   - without one (make run passes no config), it starts on
//     http://127.0.0.1:7100 with the defaults and does not open a browser;
//   - --no-dashboard turns it off; --dashboard-host and --dashboard-port
//     override the address.
//
// It never stops the proxy: a taken port or a dashboard that fails is
// logged and the proxy runs on. The proxy's own port is never taken: a
// live_trace server_port on it is a config error, and the default or
// --dashboard-port on it leaves the dashboard off with a warning.

// dashboardFlags are run's dashboard flags; the zero value changes nothing.
type dashboardFlags struct {
	on   *bool // --dashboard / --no-dashboard; nil: on
	host string
	port int
}

func (f dashboardFlags) off() bool { return f.on != nil && !*f.on }

func addDashboardFlags(cmd *kingpin.CmdClause, f *dashboardFlags) {
	f.on = cmd.Flag("dashboard", "Serve the dashboard, its API and MCP (default on; --no-dashboard turns it off).").Default("true").Bool()
	cmd.Flag("dashboard-host", "Dashboard address (default: live_trace server_host, else 127.0.0.1; beyond loopback it needs the live_trace token).").
		PlaceHolder("127.0.0.1").StringVar(&f.host)
	cmd.Flag("dashboard-port", "Dashboard port (default: live_trace server_port, else 7100).").PlaceHolder("7100").IntVar(&f.port)
}

// dashboardSettings decides whether the dashboard runs and with what
// options: the first enabled live_trace interceptor, else the defaults,
// then the flags.
func dashboardSettings(cfg *configs.Config, f dashboardFlags) (lt configs.LiveTraceConfig, explicit, on bool, err error) {
	if f.off() {
		return lt, false, false, nil
	}
	lt, explicit, err = cfg.LiveTraceSettings()
	if err != nil {
		return lt, explicit, false, err
	}
	if !explicit {
		for _, ic := range cfg.Interceptors {
			if strings.EqualFold(strings.TrimSpace(ic.Type), configs.TypeLiveTrace) {
				return lt, false, false, nil // configured and disabled
			}
		}
		lt, _ = configs.InterceptorConfig{Type: configs.TypeLiveTrace, Enabled: true}.LiveTrace()
		lt.AutoOpenBrowser = false // nobody asked for a dashboard: do not pop a browser up
		lt.SessionCompletionTimeout = cfg.LiveTrace.SessionCompletionTimeout
	}
	if f.host != "" {
		lt.ServerHost = f.host
	}
	if f.port != 0 {
		if f.port < 1 || f.port > 65535 {
			return lt, explicit, false, fmt.Errorf("--dashboard-port %d: must be 1..65535", f.port)
		}
		lt.ServerPort = f.port
	}
	return lt, explicit, true, nil
}

// startDashboard starts the dashboard over the analytics store, or returns
// nil when it is off or could not start (logged; the proxy runs on).
func startDashboard(cfg *configs.Config, f dashboardFlags, an *analytics, configView func() any, log zerolog.Logger) (*dashboard.Server, error) {
	lt, explicit, on, err := dashboardSettings(cfg, f)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	if !on {
		log.Info().Msg("dashboard off (--no-dashboard or live_trace enabled: false)")
		return nil, nil
	}
	// Validate refuses a live_trace on the proxy's port; this is the
	// default dashboard or --dashboard-port on it, which would take the
	// port before the proxy listens.
	if configs.ListenersClash(lt.ServerHost, lt.ServerPort, cfg.Server.Host, cfg.Server.Port) {
		log.Warn().Str("dashboard", net.JoinHostPort(lt.ServerHost, strconv.Itoa(lt.ServerPort))).
			Msg("dashboard not started: it would listen on the proxy's port; choose another with --dashboard-port or the live_trace server_port")
		return nil, nil
	}
	o := dashboard.Options{
		Host: lt.ServerHost, Port: lt.ServerPort, Token: lt.Token,
		RefreshInterval: lt.RefreshInterval.D(), SessionTimeout: lt.SessionCompletionTimeout.D(),
		OpenBrowser: lt.AutoOpenBrowser, ConfigView: configView, Version: shortVersion(), Instance: cfg.Server.InstanceID,
		DetectionOff: !cfg.Detect.Enabled,
		Logger:       log.With().Str("component", "dashboard").Logger(),
		Proxy: dashboard.ProxyInfo{ProviderType: cfg.LLM.Type, ProviderBaseURL: configs.RedactURL(cfg.LLM.BaseURL),
			ProxyHost: cfg.Server.Host, ProxyPort: cfg.Server.Port},
		Pricer: an.pricer,
		Replay: replayOptions(cfg.LLM),
	}
	if an.store != nil {
		o.Store = an.store
		if s, ok := an.store.(interface{ Schema() sink.SchemaOptions }); ok {
			o.Schema = s.Schema()
		}
	}
	o.Proxy.StorageMode, o.Proxy.DBPath = storageMode(cfg, an)
	o.StorageContent = cfg.Storage.Content
	if o.StorageContent == "" {
		o.StorageContent = "full"
	}
	dlog := log.With().Str("component", "dashboard").Logger()
	o.WrapListener = func(ln net.Listener) net.Listener {
		return netlimit.Wrap(ln, netlimit.Limits{MaxConns: dashboardMaxConns, Name: "dashboard",
			Reject: edge.RejectAnswer(503, "connection_limit", "too many connections to the dashboard: close idle ones and retry")}, dlog)
	}
	d, err := dashboard.New(o)
	if err != nil {
		return nil, err
	}
	if err := d.Start(); err != nil {
		log.Warn().Err(err).Msg("dashboard not started; the proxy runs without it")
		return nil, nil
	}
	an.onWrite.Store(d.Notify)
	ev := log.Info().Str("url", d.URL()).Str("mcp", d.URL()+"/mcp").Bool("token_required", o.Token != "")
	if !explicit {
		ev = ev.Str("configure", "live_trace interceptor, or --no-dashboard")
	}
	ev.Msg("dashboard ready")
	return d, nil
}

// replayOptions point the dashboard's replay at the proxy's upstream with
// its key; without llm.api_key, the provider's usual environment variable
// (OPENAI_API_KEY, ANTHROPIC_API_KEY) as the original did, else the key
// the user types for each replay.
func replayOptions(l configs.LLMConfig) dashboard.ReplayOptions {
	o := dashboard.ReplayOptions{ProviderType: l.Type, BaseURL: l.BaseURL, APIKey: l.APIKey, KeySource: "proxy_config"}
	if o.APIKey == "" {
		env := "OPENAI_API_KEY"
		if strings.EqualFold(l.Type, "anthropic") {
			env = "ANTHROPIC_API_KEY"
		}
		o.APIKey, o.KeySource = os.Getenv(env), "environment ("+env+")"
		if o.APIKey == "" {
			o.KeySource = ""
		}
	}
	return o
}

// storageMode is the original's /api/config storage_mode and db_path.
func storageMode(cfg *configs.Config, an *analytics) (mode, path string) {
	switch {
	case an.store == nil:
		return configs.EngineNone, ""
	case an.embedded != nil:
		mode = "disk"
		if an.embedded.Status().Ephemeral {
			mode = "memory"
		}
		return mode, an.embedded.Dir()
	}
	return configs.EngineClickHouse, ""
}

// stopDashboard ends live streams and waits for in-flight API calls until
// ctx, the shutdown's deadline, ends (5 s at most).
func stopDashboard(ctx context.Context, d *dashboard.Server, log zerolog.Logger) {
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.Shutdown(ctx); err != nil {
		log.Debug().Err(err).Msg("dashboard shutdown")
	}
}

// notifyWrites is the store as the pipeline's writer: after every batch it
// stored, the dashboard's live stream hears of it at once.
type notifyWrites struct {
	sink.Store
	fn *atomic.Value // func()
}

// Unwrap is the store (for sink.Pacer).
func (n notifyWrites) Unwrap() sink.Writer { return n.Store }

func (n notifyWrites) WriteBatch(ctx context.Context, batch []*sink.Event) error {
	err := n.Store.WriteBatch(ctx, batch)
	if err == nil {
		if f, ok := n.fn.Load().(func()); ok {
			f()
		}
	}
	return err
}
