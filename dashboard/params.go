package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cylestio/perimeter/detect"
)

// apiError is an answer other than 200: a bad parameter (400, naming it),
// an unknown id (404).
type apiError struct {
	status     int
	msg        string
	param      string
	id         string
	retryAfter time.Duration // a 503's Retry-After
}

func (e *apiError) Error() string { return e.msg }

// write answers with the error: its status, Retry-After when set, and a
// JSON body of the message and the parameter and id it names.
func (e *apiError) write(w http.ResponseWriter) {
	setRetryAfter(w, e.retryAfter)
	body := map[string]string{"error": e.msg}
	if e.param != "" {
		body["param"] = e.param
	}
	if e.id != "" {
		body["id"] = e.id
	}
	writeJSON(w, e.status, body)
}

func badParam(param, format string, args ...any) error {
	return &apiError{status: 400, param: param, msg: param + ": " + fmt.Sprintf(format, args...)}
}

func notFound(what, id string) error {
	return &apiError{status: 404, msg: what + " not found", id: id}
}

// Limits on what a request may ask for. An id may be as long as the
// proxy's request header allows (server.max_request_header_size, 8 KiB by
// default), since x-cylestio-session-id and -agent-id carry them.
const (
	maxOffset  = 1_000_000
	maxIDLen   = 8 << 10
	maxWindow  = 366 * 24 * time.Hour
	maxBuckets = 1440
)

// params reads and validates query parameters; every error names the
// parameter.
type params struct {
	q   url.Values
	now time.Time
	id  string // the path's {id}
}

func (p params) str(name string) (string, error) {
	v := strings.TrimSpace(p.q.Get(name))
	if len(v) > maxIDLen || !utf8.ValidString(v) {
		return "", badParam(name, "must be valid UTF-8 of at most %d bytes", maxIDLen)
	}
	return v, nil
}

// firstStr is the first non-empty of several spellings (agent_id, agent).
func (p params) firstStr(names ...string) (string, error) {
	for _, n := range names {
		v, err := p.str(n)
		if err != nil || v != "" {
			return v, err
		}
	}
	return "", nil
}

func (p params) intIn(name string, def, lo, hi int) (int, error) {
	raw := strings.TrimSpace(p.q.Get(name))
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, badParam(name, "must be an integer between %d and %d", lo, hi)
	}
	return n, nil
}

// page reads limit and offset.
func (p params) page(def, hi int) (limit, offset int, err error) {
	if limit, err = p.intIn("limit", def, 1, hi); err != nil {
		return
	}
	offset, err = p.intIn("offset", 0, 0, maxOffset)
	return
}

// list splits a comma-separated parameter (repeated parameters too).
func (p params) list(name string) ([]string, error) {
	var out []string
	for _, v := range p.q[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				if len(s) > maxIDLen || !utf8.ValidString(s) {
					return nil, badParam(name, "each value must be valid UTF-8 of at most %d bytes", maxIDLen)
				}
				out = append(out, s)
			}
		}
	}
	if len(out) > 100 {
		return nil, badParam(name, "at most 100 values")
	}
	return out, nil
}

// window reads range or from/to. set is false when none was given (and def
// is 0).
func (p params) window(def time.Duration) (from, to time.Time, set bool, err error) {
	rng := strings.TrimSpace(p.q.Get("range"))
	fromS, toS := strings.TrimSpace(p.q.Get("from")), strings.TrimSpace(p.q.Get("to"))
	to = p.now
	if toS != "" {
		if to, err = parseTime(toS); err != nil {
			return from, to, false, badParam("to", "%v", err)
		}
	}
	switch {
	case rng != "" && fromS != "":
		return from, to, false, badParam("range", "give range or from, not both")
	case rng != "":
		d, err := parseDuration(rng)
		if err != nil {
			return from, to, false, badParam("range", "%v", err)
		}
		from = to.Add(-d)
	case fromS != "":
		if from, err = parseTime(fromS); err != nil {
			return from, to, false, badParam("from", "%v", err)
		}
	case toS != "":
		return from, to, false, badParam("from", "required with to")
	case def == 0:
		return time.Time{}, time.Time{}, false, nil
	default:
		from = to.Add(-def)
	}
	if !from.Before(to) {
		return from, to, false, badParam("from", "must be before to (%s)", isoTime(to))
	}
	if to.Sub(from) > maxWindow {
		return from, to, false, badParam("range", "the window may be at most 366 days")
	}
	return from.UTC(), to.UTC(), true, nil
}

// parseTime accepts RFC 3339 or unix seconds.
func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > 1<<32 {
			return time.Time{}, errors.New("unix seconds out of range")
		}
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("want RFC 3339 (2026-05-01T10:00:00Z) or unix seconds")
	}
	return t.UTC(), nil
}

// parseDuration is time.ParseDuration plus a "d" (day) unit, positive only.
func parseDuration(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n float64
		n, err = strconv.ParseFloat(days, 64)
		d = time.Duration(n * float64(24*time.Hour))
	} else if n, perr := strconv.ParseInt(s, 10, 64); perr == nil {
		d = time.Duration(n) * time.Second
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, errors.New("want a positive duration such as 15m, 1h, 24h or 7d")
	}
	if d > maxWindow {
		return 0, errors.New("the window may be at most 366 days")
	}
	return d, nil
}

// status reads a session status filter.
func (p params) status() (string, error) {
	s := strings.ToUpper(strings.TrimSpace(p.q.Get("status")))
	switch s {
	case "", "ACTIVE", "INACTIVE", "COMPLETED":
		return s, nil
	}
	return "", badParam("status", "must be ACTIVE, INACTIVE or COMPLETED")
}

// tags reads "k:v,k2".
func (p params) tags() ([]tagFilter, error) {
	items, err := p.list("tags")
	if err != nil {
		return nil, err
	}
	return parseTags(items, "tags")
}

func parseTags(items []string, param string) ([]tagFilter, error) {
	var out []tagFilter
	for _, it := range items {
		k, v, hasV := strings.Cut(it, ":")
		k = strings.TrimSpace(k)
		if k == "" {
			return nil, badParam(param, "%q has no key (want key:value or key)", it)
		}
		out = append(out, tagFilter{key: k, value: strings.TrimSpace(v), any: !hasV})
	}
	return out, nil
}

// severities reads a severity list and min_severity into one list.
func severities(list []string, min string) ([]string, error) {
	var out []string
	for _, s := range list {
		s = strings.ToLower(s)
		if severityRank(s) < 0 {
			return nil, badParam("severity", "%q is not one of info, low, medium, high, critical", s)
		}
		out = append(out, s)
	}
	if min != "" {
		r := severityRank(strings.ToLower(min))
		if r < 0 {
			return nil, badParam("min_severity", "%q is not one of info, low, medium, high, critical", min)
		}
		var keep []string
		for s := detect.Severity(r); s <= detect.SeverityCritical; s++ {
			if len(out) == 0 || contains(out, s.String()) {
				keep = append(keep, s.String())
			}
		}
		if keep == nil {
			keep = []string{"none"} // the two filters exclude each other
		}
		out = keep
	}
	return out, nil
}

func categories(list []string) ([]string, error) {
	for _, c := range list {
		if _, ok := detect.ParseCategory(c); !ok {
			return nil, badParam("category", "%q is not a detection category (pii, secret, prompt_injection, …)", c)
		}
	}
	return list, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pathID validates an id from the path.
func pathID(kind, id string) (string, error) {
	if id == "" || len(id) > maxIDLen || !utf8.ValidString(id) {
		return "", badParam(kind, "must be valid UTF-8 of 1 to %d bytes", maxIDLen)
	}
	return id, nil
}

// bucketFor picks or validates the time-series bucket.
func (p params) bucket(from, to time.Time) (int64, error) {
	span := to.Sub(from)
	raw := strings.TrimSpace(p.q.Get("bucket"))
	if raw == "" {
		for _, b := range []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour} {
			if span/b <= 360 {
				return int64(b / time.Second), nil
			}
		}
		return 86400, nil
	}
	d, err := parseDuration(raw)
	if err != nil || d < time.Second || d%time.Second != 0 {
		return 0, badParam("bucket", "want whole seconds (60) or a duration (1m, 5m, 1h)")
	}
	if span/d > maxBuckets {
		return 0, badParam("bucket", "%s over %s makes more than %d points; use a larger bucket", d, span, maxBuckets)
	}
	return int64(d / time.Second), nil
}

// severityRank orders severities for min_severity filters.
func severityRank(s string) int {
	sev, ok := detect.ParseSeverity(s)
	if !ok {
		return -1
	}
	return int(sev)
}
