package files

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/internal/defaults"
	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/sink"
)

// HTTPRecorderOptions mirror the original's http_recorder config
// (configs.HTTPRecorderConfig).
type HTTPRecorderOptions struct {
	OutputDir        string // default ./http_recordings
	MaxEventsPerFile int    // records per file, default 100
	IncludeHeaders   bool
	IncludeTiming    bool
	MaxBodySizeMB    float64 // default 100; larger bodies are replaced by a marker
	// RedactSensitiveHeaders redacts httprec.SensitiveHeaders in what is written.
	// Credentials are redacted by the proxy before they reach the
	// pipeline whatever this says: keys never reach a recording.
	RedactSensitiveHeaders bool
	Provider               string // llm.type, for calls whose vendor is unknown
	Logger                 zerolog.Logger
}

// MaxBodySize is MaxBodySizeMB in bytes.
func (o HTTPRecorderOptions) MaxBodySize() int {
	return int(o.MaxBodySizeMB * (1 << 20))
}

// HTTPRecorder writes exchange events (httprec.EventName) as the
// original's recording files:
// {output_dir}/recording_NNN.jsonl, NNN from 001,
// each holding at most max_events_per_file records (a request and its
// response count as two), one JSON record per line: "request", then
// "response" or "error". On start it continues the highest-numbered file
// while it has room. Bodies are written as {"size","type","content"} with
// type json (parsed), text, or binary (base64); a body over
// max_body_size_mb is replaced by "[TRUNCATED - size exceeds NMB]". A
// compressed answer is decoded first (the original's HTTP client did the
// same), and its Content-Encoding dropped from the recorded headers.
// Events other than httprec.EventName are ignored.
type HTTPRecorder struct {
	opts HTTPRecorderOptions

	mu    sync.Mutex
	num   int // current file number
	count int // records in it
}

// NewHTTPRecorder creates the directory (mode 0700) and finds the file to
// continue.
func NewHTTPRecorder(o HTTPRecorderOptions) (*HTTPRecorder, error) {
	if o.OutputDir == "" {
		o.OutputDir = "./http_recordings"
	}
	defaults.Set(&o.MaxEventsPerFile, 100)
	defaults.Set(&o.MaxBodySizeMB, 100)
	if err := ensureDir(o.OutputDir); err != nil {
		return nil, err
	}
	r := &HTTPRecorder{opts: o}
	nums, err := recordingNumbers(o.OutputDir)
	if err != nil {
		return nil, err
	}
	r.num = 1
	if len(nums) > 0 {
		last := nums[len(nums)-1]
		n, err := countLines(r.file(last))
		if err != nil {
			return nil, err
		}
		r.num, r.count = last, n
		if n >= o.MaxEventsPerFile {
			r.num, r.count = last+1, 0
		}
	}
	return r, nil
}

// Name implements sink.Writer.
func (r *HTTPRecorder) Name() string { return "http_recorder" }

// MaxBodySize is the body limit in bytes: the proxy copies no more of a
// body than this (capture.Capture.RecordHTTP in edge/capture).
func (r *HTTPRecorder) MaxBodySize() int { return r.opts.MaxBodySize() }

// Close implements sink.Writer; every batch is on disk when WriteBatch
// returns.
func (r *HTTPRecorder) Close() error { return nil }

// CurrentFile is the file the next record goes to.
func (r *HTTPRecorder) CurrentFile() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.num
	if r.count >= r.opts.MaxEventsPerFile {
		n++
	}
	return r.file(n)
}

func (r *HTTPRecorder) file(n int) string {
	return filepath.Join(r.opts.OutputDir, RecordingFileName(n))
}

// RecordingFileName is recording_NNN.jsonl.
func RecordingFileName(n int) string { return fmt.Sprintf("recording_%03d.jsonl", n) }

// recordingNumbers lists the numbers of the recording files in dir,
// ascending.
func recordingNumbers(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var nums []int
	for _, e := range ents {
		if n, ok := recordingNumber(e.Name()); ok && !e.IsDir() {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	return nums, nil
}

func recordingNumber(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "recording_")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".jsonl")
	if !ok || s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func countLines(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	n := strings.Count(string(b), "\n")
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n, nil
}

type chunk struct {
	num int
	buf []byte
}

// WriteBatch appends the records of the batch's exchanges, rotating files
// by record count. A failed write truncates every file it touched back and
// restores the position, so the pipeline's retry writes each record once.
func (r *HTTPRecorder) WriteBatch(_ context.Context, batch []*sink.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	num, count := r.num, r.count
	var chunks []chunk
	add := func(line []byte) {
		if count >= r.opts.MaxEventsPerFile {
			num, count = num+1, 0
		}
		if len(chunks) == 0 || chunks[len(chunks)-1].num != num {
			chunks = append(chunks, chunk{num: num})
		}
		c := &chunks[len(chunks)-1]
		c.buf = append(append(c.buf, line...), '\n')
		count++
	}
	for _, ev := range batch {
		if ev.Name != httprec.EventName {
			continue
		}
		x, err := DecodeExchange(ev)
		if err != nil {
			r.opts.Logger.Warn().Err(err).Msg("http_recorder: skipped an exchange it cannot read")
			continue
		}
		req, resp, err := r.records(ev, x)
		if err != nil {
			r.opts.Logger.Warn().Err(err).Msg("http_recorder: skipped an exchange it cannot encode")
			continue
		}
		add(req)
		add(resp)
	}
	type done struct {
		path string
		size int64
	}
	var written []done
	for _, c := range chunks {
		path := r.file(c.num)
		var size int64
		if st, err := os.Stat(path); err == nil {
			size = st.Size()
		}
		if err := appendFile(path, c.buf); err != nil {
			for _, d := range written {
				_ = os.Truncate(d.path, d.size)
			}
			return fmt.Errorf("http_recorder: %w", err)
		}
		written = append(written, done{path, size})
	}
	r.num, r.count = num, count
	return nil
}

type bodyRecord struct {
	Size    int             `json:"size"`
	Type    string          `json:"type,omitempty"`
	Content json.RawMessage `json:"content"`
}

type requestRecord struct {
	Type        string          `json:"type"`
	Timestamp   string          `json:"timestamp"`
	Method      string          `json:"method"`
	URL         string          `json:"url"`
	Path        string          `json:"path"`
	Query       *string         `json:"query"`
	Headers     json.RawMessage `json:"headers,omitempty"`
	Body        bodyRecord      `json:"body"`
	SessionID   *string         `json:"session_id"`
	Provider    string          `json:"provider"`
	Model       *string         `json:"model"`
	IsStreaming bool            `json:"is_streaming"`
	StartTime   *float64        `json:"start_time,omitempty"`
}

type responseRecord struct {
	Type       string          `json:"type"`
	Timestamp  string          `json:"timestamp"`
	StatusCode int             `json:"status_code"`
	Headers    json.RawMessage `json:"headers,omitempty"`
	Body       bodyRecord      `json:"body"`
	DurationMs *float64        `json:"duration_ms,omitempty"`
	EndTime    *float64        `json:"end_time,omitempty"`
}

type errorRecord struct {
	Type         string `json:"type"`
	Timestamp    string `json:"timestamp"`
	ErrorType    string `json:"error_type"`
	ErrorMessage string `json:"error_message"`
	Method       string `json:"method"`
	Path         string `json:"path"`
}

func (r *HTTPRecorder) records(ev *sink.Event, x *Exchange) (req, resp []byte, err error) {
	start, end := x.Start(), x.End()
	provider := ev.Vendor
	if provider == "" {
		provider = r.opts.Provider
	}
	rq := requestRecord{
		Type:        "request",
		Timestamp:   isoString(start, true),
		Method:      x.Method,
		URL:         x.URL,
		Path:        x.Path,
		Query:       nullable(x.Query),
		Body:        r.body(x.RequestBody, x.RequestTruncated || int64(len(x.RequestBody)) > int64(r.opts.MaxBodySize())),
		SessionID:   nullable(ev.SessionID),
		Provider:    provider,
		Model:       nullable(ev.Model),
		IsStreaming: x.Streaming,
	}
	if r.opts.IncludeHeaders {
		rq.Headers = r.headers(x.RequestHeaders, false)
	}
	if r.opts.IncludeTiming {
		t := unixSeconds(start)
		rq.StartTime = &t
	}
	if req, err = marshal(rq); err != nil {
		return nil, nil, err
	}
	if x.ErrorType != "" {
		resp, err = marshal(errorRecord{Type: "error", Timestamp: isoString(end, true), ErrorType: x.ErrorType,
			ErrorMessage: x.ErrorMessage, Method: x.Method, Path: x.Path})
		return req, resp, err
	}
	body, decoded := r.decode(x.ResponseHeaders, x.ResponseBody, x.ResponseTruncated)
	rs := responseRecord{
		Type:       "response",
		Timestamp:  isoString(end, true),
		StatusCode: x.Status,
		Body:       r.body(body, x.ResponseTruncated || len(body) > r.opts.MaxBodySize()),
	}
	if r.opts.IncludeHeaders {
		rs.Headers = r.headers(x.ResponseHeaders, decoded)
	}
	if r.opts.IncludeTiming {
		d := float64(x.EndUs-x.StartUs) / 1000
		t := unixSeconds(end)
		rs.DurationMs, rs.EndTime = &d, &t
	}
	resp, err = marshal(rs)
	return req, resp, err
}

// decode undoes the answer's Content-Encoding, within the body limit. It
// reports whether it did; a body it cannot decode is recorded as it came.
func (r *HTTPRecorder) decode(headers [][2]string, body []byte, truncated bool) ([]byte, bool) {
	var ce string
	for _, h := range headers {
		if strings.EqualFold(h[0], "content-encoding") {
			ce = strings.TrimSpace(h[1])
		}
	}
	if ce == "" || strings.EqualFold(ce, "identity") || truncated || len(body) == 0 {
		return body, false
	}
	var resp fasthttp.Response
	resp.Header.Set("Content-Encoding", ce)
	resp.SetBodyRaw(body)
	out, err := resp.BodyUncompressedWithLimit(r.opts.MaxBodySize() + 1)
	if err != nil {
		return body, false
	}
	return out, true
}

// headers renders a header list as the original's object: lower-case
// names, repeated headers joined by ", ". decoded drops the headers that
// described the encoded body.
func (r *HTTPRecorder) headers(hs [][2]string, decoded bool) json.RawMessage {
	var o orderedObject
	idx := map[string]int{}
	for _, h := range hs {
		name := strings.ToLower(h[0])
		if decoded && (name == "content-encoding" || name == "content-length") {
			continue
		}
		v := h[1]
		if r.opts.RedactSensitiveHeaders && httprec.IsSensitiveHeader(name) {
			v = httprec.Redacted
		}
		if i, ok := idx[name]; ok {
			var prev string
			_ = json.Unmarshal(o[i].value, &prev)
			if prev != httprec.Redacted || v != httprec.Redacted { // one [REDACTED] says it all
				o[i].value = appendString(nil, prev+", "+v)
			}
			continue
		}
		idx[name] = len(o)
		o = append(o, member{name, appendString(nil, v)})
	}
	return o.marshal()
}

// body encodes one body as the original: empty, json, text or binary; a
// body over the limit becomes the truncation marker (as text).
func (r *HTTPRecorder) body(b []byte, truncated bool) bodyRecord {
	if truncated {
		b = []byte("[TRUNCATED - size exceeds " + strconv.FormatFloat(r.opts.MaxBodySizeMB, 'f', -1, 64) + "MB]")
	}
	switch {
	case len(b) == 0:
		return bodyRecord{Size: 0}
	case !utf8.Valid(b):
		return bodyRecord{Size: len(b), Type: "binary", Content: appendString(nil, base64.StdEncoding.EncodeToString(b))}
	case json.Valid(b):
		return bodyRecord{Size: len(b), Type: "json", Content: b}
	default:
		return bodyRecord{Size: len(b), Type: "text", Content: appendString(nil, string(b))}
	}
}
