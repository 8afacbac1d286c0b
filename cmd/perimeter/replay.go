package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/configs"
	"github.com/cylestio/perimeter/edge"
	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/sink/files"
)

// replayCommand re-sends http_recorder recordings through the proxy: an
// in-process proxy on a loopback port with the configured upstream,
// capture and writers, so the replayed calls produce their events exactly
// as live traffic does.
type replayCommand struct {
	path       string
	configPath string
	delay      float64
}

func newReplayCommand(app *kingpin.Application) *replayCommand {
	c := &replayCommand{}
	cmd := app.Command("replay", "Re-send http_recorder recordings through the configured upstream and event pipeline.")
	cmd.Arg("path", "A recording_NNN.jsonl file, or the http_recorder output_dir (its recording_*.jsonl files are read in order).").
		Required().StringVar(&c.path)
	cmd.Flag("config", "YAML config file: upstream (llm), interceptors and storage for the replayed calls; the http_recorder is left out. "+
		"Without it the upstream comes from LLM_BASE_URL / LLM_TYPE and events go to the printer only: nothing is stored or written to disk.").Short('c').StringVar(&c.configPath)
	cmd.Flag("delay", "Seconds to wait between requests.").Default("0").PlaceHolder("S").Float64Var(&c.delay)
	return c
}

// replayResult is what a replay did.
type replayResult struct {
	sent, succeeded, failed int
	events                  uint64
	capturing               bool
	failures                []string
}

func (c *replayCommand) run(stdout, stderr io.Writer) int {
	if c.delay < 0 {
		fmt.Fprintln(stderr, "Error: --delay must be 0 or more seconds")
		return 1
	}
	cfg, problems, err := configs.LoadLayered(c.configPath, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "Error loading configuration: %v\n", err)
		return 1
	}
	if c.configPath != "" {
		fmt.Fprintf(stdout, "Loaded configuration from: %s\n", c.configPath)
	}

	fmt.Fprintf(stdout, "Reading recordings from: %s\n", c.path)
	rec, err := files.ReadRecordings(c.path)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	if rec.Skipped > 0 {
		fmt.Fprintf(stderr, "Warning: skipped %d line(s) that are not recording records (not JSON, or no \"type\")\n", rec.Skipped)
	}
	if len(rec.Pairs) == 0 {
		fmt.Fprintf(stderr, "Error: no requests to replay in %s (%d records read, none of type \"request\")\n", c.path, rec.Records)
		return 1
	}
	fmt.Fprintf(stdout, "Found %d request/response pairs to replay\n", len(rec.Pairs))
	if c.delay > 0 {
		fmt.Fprintf(stdout, "Replay delay: %g seconds between requests\n", c.delay)
	}

	if cfg.LLM.Type == "" {
		cfg.LLM.Type = rec.Pairs[0].Request.Provider
	}
	if cfg.LLM.BaseURL == "" || cfg.LLM.Type == "" {
		fmt.Fprintln(stderr, "Error: replay needs an upstream: set llm.base_url and llm.type in --config, or LLM_BASE_URL and LLM_TYPE")
		return 1
	}
	problems = append(problems, cfg.Validate()...)
	if configs.HasErrors(problems) {
		fmt.Fprintln(stderr, "Error: the configuration is invalid:")
		printProblems(stderr, problems)
		return 1
	}
	replayInterceptors(cfg, c.configPath == "")

	log, closeLog, err := newLogger(cfg.Logging)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	defer closeLog()
	res, err := replay(cfg, rec.Pairs, time.Duration(c.delay*float64(time.Second)), stderr, log)
	if err != nil {
		fmt.Fprintf(stderr, "Error during replay: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Replay summary: sent %d, succeeded %d, failed %d, events produced %d\n",
		res.sent, res.succeeded, res.failed, res.events)
	if !res.capturing {
		fmt.Fprintln(stdout, "  (no events: no event writer is configured; add an interceptor or a storage engine to the --config)")
	}
	for _, f := range res.failures {
		fmt.Fprintf(stdout, "  failed: %s\n", f)
	}
	if res.failed > 0 {
		return 1
	}
	fmt.Fprintln(stdout, "Replay completed successfully!")
	return 0
}

// replayInterceptors leaves the http_recorder out (a replay must not
// record itself) and, without a config file, prints events as the
// original's replay did and stores none: no store is opened and nothing
// is written to the current directory.
func replayInterceptors(cfg *configs.Config, noConfig bool) {
	kept := cfg.Interceptors[:0:0]
	for _, ic := range cfg.Interceptors {
		if ic.Enabled && !strings.EqualFold(strings.TrimSpace(ic.Type), "http_recorder") {
			kept = append(kept, ic)
		}
	}
	if noConfig {
		if len(kept) == 0 {
			kept = append(kept, configs.InterceptorConfig{Type: "printer", Enabled: true})
		}
		// Nor a spill log: printed events need no crash safety.
		cfg.Storage.Engine, cfg.Storage.Durability, cfg.Storage.Spill.MaxBytes = configs.EngineNone, configs.DurabilityNone, 0
	}
	cfg.Interceptors = kept
}

// replay starts the proxy with cfg on a loopback port, sends every pair's
// request to it in order and shuts it down, draining the event pipeline.
func replay(cfg *configs.Config, pairs []files.Pair, delay time.Duration, progress io.Writer, log zerolog.Logger) (*replayResult, error) {
	an, err := newAnalytics(cfg, log)
	if err != nil {
		return nil, err
	}
	drained := false
	drain := func() error {
		if drained {
			return nil
		}
		drained = true
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.Server.ShutdownTimeout))
		defer cancel()
		return an.close(ctx)
	}
	defer drain()
	opts, err := edgeOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	opts.Capture = an.capture
	if opts.Guard, err = newGuard(cfg, an.pricer, guardHooks{}, log); err != nil {
		return nil, err
	}
	srv, err := edge.NewServer(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on a loopback port for the replay proxy: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()

	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
	res := &replayResult{}
	bar := newProgressBar(progress, len(pairs))
	for i, p := range pairs {
		if i > 0 && delay > 0 {
			time.Sleep(delay)
		}
		status, err := sendRecorded(client, base, p.Request)
		res.sent++
		switch {
		case err != nil:
			res.failed++
			res.failures = append(res.failures, fmt.Sprintf("#%d %s %s (%s:%d): %v", i+1, p.Request.Method, p.Request.Path, p.Request.File, p.Request.Line, err))
		case status >= 400:
			res.failed++
			res.failures = append(res.failures, fmt.Sprintf("#%d %s %s (%s:%d): HTTP %d", i+1, p.Request.Method, p.Request.Path, p.Request.File, p.Request.Line, status))
		default:
			res.succeeded++
		}
		bar.update(i + 1)
	}
	bar.done()

	// Shutdown waits for every call and closing the capture for its
	// events, so they are published before they are counted; then the
	// pipeline drains into the writers.
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.Server.ShutdownTimeout))
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("replay proxy did not stop cleanly")
	}
	<-served
	if an.capture != nil {
		// Every call's events are published once the capture is closed.
		if err := an.capture.Close(ctx); err != nil {
			log.Warn().Err(err).Msg("replay capture did not finish before the deadline")
		}
		res.capturing = true
		if n, ok := an.capture.Stats()["events_published"].(uint64); ok {
			res.events = n
		}
	}
	if err := drain(); err != nil {
		return res, fmt.Errorf("event pipeline: %w", err)
	}
	return res, nil
}

// sendRecorded sends one recorded request to the proxy at base and reads
// the whole answer. Headers recorded as [REDACTED] are left out (the
// proxy injects the configured key), and so are those the HTTP client
// sets itself.
func sendRecorded(client *http.Client, base string, r *files.Record) (int, error) {
	if r.Body.Truncated() {
		return 0, fmt.Errorf("the request body was not recorded (larger than max_body_size_mb)")
	}
	body, err := r.Body.Bytes()
	if err != nil {
		return 0, fmt.Errorf("recorded body: %w", err)
	}
	target := r.Path
	if r.Query != nil && *r.Query != "" {
		target += "?" + *r.Query
	}
	if u, err := url.Parse(r.URL); err == nil && u.Path != "" {
		target = u.RequestURI()
	}
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, base+target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for _, h := range r.Headers {
		switch strings.ToLower(h[0]) {
		case "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "accept-encoding":
			continue
		}
		if h[1] == httprec.Redacted {
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, fmt.Errorf("reading the answer: %w", err)
	}
	return resp.StatusCode, nil
}

// progressBar draws "[#####     ] 12/40" on one line.
type progressBar struct {
	w     io.Writer
	total int
}

func newProgressBar(w io.Writer, total int) *progressBar {
	b := &progressBar{w: w, total: total}
	b.update(0)
	return b
}

const barWidth = 30

func (b *progressBar) update(n int) {
	filled := barWidth * n / max(1, b.total)
	fmt.Fprintf(b.w, "\r[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(" ", barWidth-filled), n, b.total)
}

func (b *progressBar) done() { fmt.Fprintln(b.w) }
