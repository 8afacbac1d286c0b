package target

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cylestio/perimeter/bench/sysinfo"
)

// Kind is what a target runs.
type Kind string

// Target kinds.
const (
	Direct    Kind = "direct"    // the load generator talks to the mock upstream itself
	Perimeter Kind = "perimeter" // cmd/perimeter in front of the mock
	Nginx     Kind = "nginx"     // nginx as a plain reverse proxy in front of the mock
)

// Spec names one target of a benchmark run.
type Spec struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// ConfigFile, for Perimeter, is a YAML config to start from (capture,
	// sinks, detection ...); the benchmark overrides server.host/port and
	// llm.base_url/type and raises llm.max_conns when the file leaves it
	// at or below the default.
	ConfigFile string `json:"config_file,omitempty"`
	// Config, for Perimeter without a ConfigFile, is inline YAML to start
	// from; "{{data}}" in it becomes a fresh directory for the target's
	// data (embedded engine, spill files).
	Config string `json:"config,omitempty"`
	// EventsPath and DroppedPath are dot paths into GET /metrics JSON that
	// count events captured and dropped ("sink.events_written"); empty
	// while the target captures nothing.
	EventsPath  string `json:"events_path,omitempty"`
	DroppedPath string `json:"dropped_path,omitempty"`
	Description string `json:"description"`
}

// BuiltinSpecs are the targets every run compares.
func BuiltinSpecs() []Spec {
	return []Spec{
		{Name: "direct", Kind: Direct, Description: "load generator → mock upstream (the floor)"},
		{Name: "perimeter", Kind: Perimeter, Config: captureOff, Description: "Perimeter, capture off (storage.engine none, no event writer; sessions tracked)"},
		{Name: "nginx", Kind: Nginx, Description: "nginx reverse proxy: keep-alive upstream pool, proxy_buffering off"},
	}
}

// OptionalSpecs are built-in targets a run includes only when named in
// --targets.
func OptionalSpecs() []Spec {
	return []Spec{
		{Name: "perimeter-capture", Kind: Perimeter, Config: captureEmbedded,
			EventsPath: "capture.events_published", DroppedPath: "capture.events_dropped",
			Description: "Perimeter, full capture into the embedded engine (chDB) with detection on"},
	}
}

const (
	captureOff = `storage: {engine: none}
detect: {enabled: false}
`
	captureEmbedded = `storage:
  engine: embedded
  embedded: {path: "{{data}}/chdb"}
  spill: {dir: "{{data}}/spill"}
detect: {enabled: true}
`
)

// ParseExtraSpec reads NAME=CONFIG.yaml[,events=PATH][,dropped=PATH]: a
// further Perimeter target started with that config.
func ParseExtraSpec(s string) (Spec, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" || rest == "" {
		return Spec{}, fmt.Errorf("--target %q: want NAME=CONFIG.yaml[,events=PATH][,dropped=PATH]", s)
	}
	parts := strings.Split(rest, ",")
	sp := Spec{Name: name, Kind: Perimeter, ConfigFile: parts[0], Description: "Perimeter with " + filepath.Base(parts[0])}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "events":
			sp.EventsPath = v
		case "dropped":
			sp.DroppedPath = v
		default:
			return Spec{}, fmt.Errorf("--target %q: unknown option %q (events=, dropped=)", s, k)
		}
	}
	if _, err := os.Stat(sp.ConfigFile); err != nil {
		return Spec{}, fmt.Errorf("--target %s: %w", name, err)
	}
	return sp, nil
}

// Env is what starting targets needs.
type Env struct {
	Dir          string // work directory: configs and logs
	Pin          sysinfo.Pinning
	MockBin      string
	PerimeterBin string
	NginxBin     string // "" when nginx is not available
	Upstream     string // host:port of the running mock
	MaxStreams   int    // most concurrent streams any scenario opens
}

// Running is a started target.
type Running struct {
	Spec    Spec
	Addr    string   // host:port the load generator sends to
	Proc    *Process // the proxy process; nil for Direct
	Version string
}

// Group is the set of processes whose CPU and memory count as the proxy's
// (nginx: master and workers). ok is false for Direct.
func (r *Running) Group() (sysinfo.Group, bool) {
	if r.Proc == nil {
		return sysinfo.Group{}, false
	}
	return sysinfo.Group{Root: r.Proc.PID()}, true
}

// Stop ends the target's process.
func (r *Running) Stop() {
	if r.Proc != nil {
		r.Proc.Stop(5 * time.Second)
	}
}

// StartMock runs the mock upstream.
func StartMock(ctx context.Context, env *Env) (*Process, string, error) {
	port, err := FreePort()
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := Start("mockllm", env.Pin.Command(env.MockBin, "--addr", addr), filepath.Join(env.Dir, "mockllm.log"))
	if err != nil {
		return nil, "", err
	}
	if err := WaitReady(ctx, p, addr, "/v1/models", 15*time.Second); err != nil {
		p.Stop(time.Second)
		return nil, "", err
	}
	return p, addr, nil
}

// Start starts the target described by sp in front of env.Upstream.
func (sp Spec) Start(ctx context.Context, env *Env) (*Running, error) {
	switch sp.Kind {
	case Direct:
		return &Running{Spec: sp, Addr: env.Upstream, Version: "mockllm"}, nil
	case Perimeter:
		return startPerimeter(ctx, sp, env)
	case Nginx:
		return startNginx(ctx, sp, env)
	}
	return nil, fmt.Errorf("target %s: unknown kind %q", sp.Name, sp.Kind)
}

// PerimeterConfig returns the YAML a Perimeter target runs with: base (a
// user's config, may be nil) with the benchmark's listener and upstream.
func PerimeterConfig(base []byte, listenPort int, upstream string, maxConns int) ([]byte, error) {
	doc := map[string]any{}
	if len(base) > 0 {
		if err := yaml.Unmarshal(base, &doc); err != nil {
			return nil, fmt.Errorf("parse config: %w", err)
		}
		if doc == nil {
			doc = map[string]any{}
		}
	}
	section := func(name string) map[string]any {
		m, ok := doc[name].(map[string]any)
		if !ok {
			m = map[string]any{}
			doc[name] = m
		}
		return m
	}
	srv := section("server")
	srv["host"] = "127.0.0.1"
	srv["port"] = listenPort
	llm := section("llm")
	llm["base_url"] = "http://" + upstream
	llm["type"] = "openai"
	if n, ok := llm["max_conns"].(int); !ok || n < maxConns {
		llm["max_conns"] = maxConns
	}
	logging := section("logging")
	if _, ok := logging["level"]; !ok {
		logging["level"] = "ERROR"
	}
	return yaml.Marshal(doc)
}

func startPerimeter(ctx context.Context, sp Spec, env *Env) (*Running, error) {
	var base []byte
	if sp.ConfigFile != "" {
		b, err := os.ReadFile(sp.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", sp.Name, err)
		}
		base = b
	} else if sp.Config != "" {
		data, err := os.MkdirTemp(env.Dir, sp.Name+"-data-")
		if err != nil {
			return nil, err
		}
		base = []byte(strings.ReplaceAll(sp.Config, "{{data}}", data))
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	conf, err := PerimeterConfig(base, port, env.Upstream, max(4096, 2*env.MaxStreams))
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", sp.Name, err)
	}
	confPath := filepath.Join(env.Dir, sp.Name+".yaml")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := Start(sp.Name, env.Pin.Command(env.PerimeterBin, "run", "--config", confPath), filepath.Join(env.Dir, sp.Name+".log"))
	if err != nil {
		return nil, err
	}
	if err := WaitReady(ctx, p, addr, "/health", 20*time.Second); err != nil {
		p.Stop(time.Second)
		return nil, err
	}
	ver := "dev"
	if out, err := exec.Command(env.PerimeterBin, "version").Output(); err == nil {
		ver = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	return &Running{Spec: sp, Addr: addr, Proc: p, Version: ver}, nil
}

func startNginx(ctx context.Context, sp Spec, env *Env) (*Running, error) {
	if env.NginxBin == "" {
		return nil, fmt.Errorf("nginx is not installed")
	}
	prefix := filepath.Join(env.Dir, sp.Name)
	for _, d := range []string{"", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o777); err != nil {
			return nil, err
		}
	}
	os.Chmod(prefix, 0o777) // workers may run as nobody
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	conf := filepath.Join(prefix, "nginx.conf")
	conns := max(20000, 3*env.MaxStreams)
	nofile := 2*conns + 1024
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Max < uint64(nofile) {
		nofile = int(lim.Max) // nginx may not raise past the hard limit
		conns = min(conns, nofile/2)
	}
	text := NginxConfig(NginxParams{Prefix: prefix, Listen: addr, Upstream: env.Upstream, Workers: env.Pin.ServerCPUN,
		WorkerConnections: conns, NoFile: nofile})
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, err
	}
	errLog := filepath.Join(prefix, "error.log")
	if out, err := execOutput(env.NginxBin, "-t", "-q", "-p", prefix, "-c", conf, "-e", errLog); err != nil {
		return nil, fmt.Errorf("nginx -t rejected %s: %v: %s", conf, err, out)
	}
	p, err := Start(sp.Name, env.Pin.Command(env.NginxBin, "-p", prefix, "-c", conf, "-e", errLog), filepath.Join(env.Dir, sp.Name+".log"))
	if err != nil {
		return nil, err
	}
	if err := WaitReady(ctx, p, addr, "/v1/models", 15*time.Second); err != nil {
		p.Stop(time.Second)
		return nil, err
	}
	return &Running{Spec: sp, Addr: addr, Proc: p, Version: NginxVersion(env.NginxBin)}, nil
}

func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Counters reads the target's captured and dropped event counters from its
// GET /metrics; ok is false when the Spec names no paths or they cannot be
// read.
func (r *Running) Counters(ctx context.Context) (events, dropped uint64, ok bool) {
	if r.Spec.EventsPath == "" || r.Proc == nil {
		return 0, 0, false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+r.Addr+"/metrics", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, 0, false
	}
	var doc any
	if json.Unmarshal(body, &doc) != nil {
		return 0, 0, false
	}
	events, ok = LookupNumber(doc, r.Spec.EventsPath)
	if r.Spec.DroppedPath != "" {
		dropped, _ = LookupNumber(doc, r.Spec.DroppedPath)
	}
	return events, dropped, ok
}

// LookupNumber follows a dot path through decoded JSON objects to a number.
func LookupNumber(doc any, path string) (uint64, bool) {
	cur := doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return 0, false
		}
		if cur, ok = m[k]; !ok {
			return 0, false
		}
	}
	f, ok := cur.(float64)
	if !ok || f < 0 {
		return 0, false
	}
	return uint64(f), true
}
