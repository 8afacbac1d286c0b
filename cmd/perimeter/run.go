package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/edge"
)

type runCommand struct {
	configPath string
	baseURL    string
	llmType    string
	apiKey     string
	host       string
	port       int
	logLevel   string
	set        map[string]*bool
	dash       dashboardFlags
}

func newRunCommand(app *kingpin.Application) *runCommand {
	c := &runCommand{set: map[string]*bool{}}
	cmd := app.Command("run", "Run the proxy.").Default()
	flag := func(name, help string) *kingpin.FlagClause {
		b := new(bool)
		c.set[name] = b
		return cmd.Flag(name, help).IsSetByUser(b)
	}
	cmd.Flag("config", "YAML config file (see perimeter generate-config).").Short('c').StringVar(&c.configPath)
	flag("base-url", "Upstream base URL, e.g. https://api.openai.com (env LLM_BASE_URL).").PlaceHolder("URL").StringVar(&c.baseURL)
	flag("type", "Provider type: openai or anthropic (env LLM_TYPE).").PlaceHolder("openai|anthropic").StringVar(&c.llmType)
	flag("api-key", "Provider key to inject (prefer env LLM_API_KEY: flags show up in ps).").PlaceHolder("KEY").StringVar(&c.apiKey)
	flag("host", "Listen address (default 127.0.0.1).").StringVar(&c.host)
	flag("port", "Listen port (default 4000).").IntVar(&c.port)
	flag("log-level", "DEBUG, INFO, WARNING or ERROR (env LOG_LEVEL).").PlaceHolder("INFO").StringVar(&c.logLevel)
	addDashboardFlags(cmd, &c.dash)
	return c
}

// load builds the effective config: defaults, then env, then the file, then
// the flags the user gave.
func (c *runCommand) load() (*configs.Config, []configs.Problem, error) {
	cfg, problems, err := configs.LoadLayered(c.configPath, os.LookupEnv)
	if err != nil {
		return nil, problems, err
	}
	if *c.set["base-url"] {
		cfg.LLM.BaseURL = c.baseURL
	}
	if *c.set["type"] {
		cfg.LLM.Type = c.llmType
	}
	if *c.set["api-key"] {
		cfg.LLM.APIKey = c.apiKey
	}
	if *c.set["host"] {
		cfg.Server.Host = c.host
	}
	if *c.set["port"] {
		cfg.Server.Port = c.port
	}
	if *c.set["log-level"] {
		cfg.Logging.Level = c.logLevel
	}
	defaultInstanceID(cfg)
	return cfg, append(problems, cfg.Validate()...), nil
}

func (c *runCommand) run() int {
	if *c.set["api-key"] {
		fmt.Fprintln(os.Stderr, "warning: --api-key is visible to other users of this machine (ps, shell history); prefer LLM_API_KEY or ${VAR} in the config file")
	}
	cfg, problems, err := c.load()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error loading configuration: %v\n", err)
		return 1
	}
	if cfg.LLM.BaseURL == "" || cfg.LLM.Type == "" {
		fmt.Fprintln(os.Stderr, "Error: --base-url and --type are required (or provide --config, or set LLM_BASE_URL and LLM_TYPE)")
		return 1
	}
	if configs.HasErrors(problems) {
		fmt.Fprintln(os.Stderr, "Error: the configuration is invalid:")
		printProblems(os.Stderr, problems)
		return 1
	}
	return serve(cfg, problems, serveHooks{dashboard: c.dash})
}

// defaultInstanceID fills an empty server.instance_id with
// <hostname>:<port>, so that /config shows the id the events carry.
func defaultInstanceID(cfg *configs.Config) {
	if cfg.Server.InstanceID == "" {
		host, _ := os.Hostname()
		cfg.Server.InstanceID = configs.DefaultInstanceID(host, cfg.Server.Port)
	}
}

// serveHooks are what the run command adds to a config.
type serveHooks struct {
	// dashboard holds run's dashboard flags (dashboard.go).
	dashboard dashboardFlags
}

// serve runs the proxy with everything behind it (analytics, dashboard)
// until SIGINT or SIGTERM, then shuts down gracefully. cfg is valid.
func serve(cfg *configs.Config, problems []configs.Problem, hooks serveHooks) int {
	log, closeLog, err := newLogger(cfg.Logging)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		return 1
	}
	defer closeLog()
	for _, p := range problems {
		log.Warn().Str("path", p.Path).Msg(p.Message)
	}
	startPprof(log)
	fdLimit := raiseFDLimit(log)
	ensureProcs()
	shortenSlices(log)

	clock := &stopClock{timeout: cfg.Server.ShutdownTimeout.D()}
	defer clock.end()
	alerts := newAlerts(cfg.Alerts, log)
	defer func() { closeAlerts(clock.ctx(), alerts, log) }() // after the pipeline drained
	an, err := newAnalytics(cfg, log)
	if err != nil {
		log.Error().Err(err).Msg("cannot start")
		return 1
	}
	an.findings.Store(findingWatch(alerts, cfg.Alerts))
	_, stopMemoryGuard := applyMemoryLimit(cfg.Server, an.sessionMemoryMB(), an.pipeline != nil, log)
	defer stopMemoryGuard()
	defer func() {
		if err := an.close(clock.ctx()); err != nil {
			log.Warn().Err(err).Msg("event pipeline did not drain before the deadline")
		}
	}()
	opts, err := edgeOptions(cfg, log)
	if err != nil {
		log.Error().Err(err).Msg("cannot start")
		return 1
	}
	if opts.MaxConnsPerServer == 0 {
		opts.MaxConnsPerServer = autoMaxConns(fdLimit)
	}
	opts.Capture = an.capture
	opts.Guard, err = newGuard(cfg, an.pricer, alertHooks(alerts, cfg.Alerts), log)
	if err != nil {
		log.Error().Err(err).Msg("cannot start")
		return 1
	}
	opts.MetricsExtra = func() map[string]any {
		m := an.metrics()
		m["instance_id"] = cfg.Server.InstanceID
		if opts.Guard != nil {
			m["guard"] = opts.Guard.Stats()
		}
		if alerts != nil {
			m["alerts"] = alerts.Stats()
		}
		return m
	}
	opts.PrometheusExtra = func(b []byte) []byte { return an.appendPrometheus(b, opts.Guard, cfg.Server.InstanceID) }
	opts.ConfigView = func() any {
		v := cfg.Redacted()
		v["analytics"] = map[string]any{"storage": an.storageStatus(), "writers": an.writers, "capture": an.capture != nil, "pricing": an.pricer.Status()}
		ep := effectivePolicies(opts.Guard)
		if alerts != nil {
			ep["alerts"] = alerts.Stats()
		}
		v["effective_policies"] = ep
		return v
	}
	srv, err := edge.NewServer(opts)
	if err != nil {
		log.Error().Err(err).Msg("cannot start")
		return 1
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	watchHealth(watchCtx, alerts, cfg.Alerts, srv, an)
	dash, err := startDashboard(cfg, hooks.dashboard, an, opts.ConfigView, log)
	if err != nil {
		log.Error().Err(err).Msg("cannot start")
		return 1
	}
	defer func() { stopDashboard(clock.ctx(), dash, log) }()
	addr := net.JoinHostPort(cfg.Server.Host, strconv.Itoa(cfg.Server.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error().Err(err).Msgf("cannot listen on %s; is another process using the port? choose one with --port", addr)
		return 1
	}
	log.Info().Str("listen", "http://"+ln.Addr().String()).Str("upstream", configs.RedactURL(cfg.LLM.BaseURL)).
		Int("max_conns", opts.MaxConnsPerServer).
		Str("type", cfg.LLM.Type).Bool("api_key_configured", cfg.LLM.APIKey != "").
		Str("version", shortVersion()).Msg("perimeter is ready")

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case err := <-served:
		if err != nil {
			log.Error().Err(err).Msg("server stopped")
			return 1
		}
		return 0
	case s := <-sig:
		return shutdown(srv, clock, log, sig, s.String())
	}
}

// stopClock is the one deadline of a shutdown, server.shutdown_timeout from
// the signal (or from the first stage that stops, when serve ends
// otherwise). The proxy's requests and streams, the dashboard, the event
// pipeline with its writers and the alerts share what is left of it, in
// that order; alerts are delivered all along. Past it the pipeline still
// spills what its writers hold (sink.Pipeline.Close, bounded by
// lastCaptures and the pipeline's own grace for a stuck writer).
type stopClock struct {
	timeout time.Duration
	once    sync.Once
	c       context.Context
	cancel  context.CancelFunc
}

// ctx starts the clock on its first call.
func (s *stopClock) ctx() context.Context {
	s.once.Do(func() { s.c, s.cancel = context.WithTimeout(context.Background(), s.timeout) })
	return s.c
}

// end ends the deadline now: a second signal, or serve returning.
func (s *stopClock) end() {
	s.ctx()
	s.cancel()
}

// shutdown stops accepting connections and waits for in-flight requests
// and streams until the clock's deadline; a further signal on sig ends the
// deadline of every stage at once.
func shutdown(srv *edge.Server, clock *stopClock, log zerolog.Logger, sig <-chan os.Signal, why string) int {
	log.Info().Str("signal", why).Int64("in_flight", srv.InFlight()).Dur("deadline", clock.timeout).
		Msg("shutting down: no new connections, waiting for in-flight requests and streams")
	ctx := clock.ctx()
	go func() {
		select {
		case <-sig:
			log.Warn().Msg("second signal: exiting now")
			clock.end()
		case <-ctx.Done():
		}
	}()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("shutdown deadline reached; remaining connections closed")
		return 0
	}
	log.Info().Msg("shutdown complete")
	return 0
}

// edgeOptions maps the config onto the proxy's options.
func edgeOptions(cfg *configs.Config, log zerolog.Logger) (edge.Options, error) {
	l := cfg.LLM
	o := edge.Options{
		BaseURL:                  l.BaseURL,
		Provider:                 edge.Provider(strings.ToLower(l.Type)),
		APIKey:                   l.APIKey,
		ConnectTimeout:           time.Duration(l.ConnectTimeout),
		ResponseHeaderTimeout:    l.HeaderTimeout(),
		StreamIdleTimeout:        l.StreamIdle(),
		MaxConns:                 l.MaxConns,
		MaxIdleConnDuration:      time.Duration(l.MaxIdleConnDuration),
		MaxResponseBufferSize:    int(l.MaxResponseBufferSize),
		MaxRequestBodySize:       int(cfg.Server.MaxRequestBodySize),
		MaxRequestHeaderSize:     int(cfg.Server.MaxRequestHeaderSize),
		ReadTimeout:              time.Duration(cfg.Server.ReadTimeout),
		IdleTimeout:              time.Duration(cfg.Server.IdleTimeout),
		WriteIdleTimeout:         time.Duration(cfg.Server.WriteIdleTimeout),
		MaxConnsPerServer:        cfg.Server.MaxConns,
		MaxConnsPerIP:            cfg.Server.MaxConnsPerIP,
		MaxInflightBodyBytes:     int64(cfg.Server.MaxInflightBodyBytes),
		MaxBufferedResponseBytes: int64(l.MaxBufferedResponseBytes),
		Logger:                   log,
		AccessLog:                cfg.AccessLogEnabled(),
		Version:                  shortVersion(),
		ConfigView:               func() any { return cfg.Redacted() },
	}
	if l.TLSCAFile != "" || l.InsecureSkipVerify {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: l.InsecureSkipVerify} //nolint:gosec // opt-in, warned by Validate
		if l.TLSCAFile != "" {
			pem, err := os.ReadFile(l.TLSCAFile)
			if err != nil {
				return o, fmt.Errorf("llm.tls_ca_file: %w", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return o, fmt.Errorf("llm.tls_ca_file %s: no PEM certificates found", l.TLSCAFile)
			}
			tc.RootCAs = pool
		}
		o.TLSConfig = tc
	}
	return o, nil
}
