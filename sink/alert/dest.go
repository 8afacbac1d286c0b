package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// errPermanent marks failures a retry cannot fix (a 4xx other than 408
// and 429).
var errPermanent = errors.New("permanent")

// Signature header names.
const (
	HeaderSignature = "X-Perimeter-Signature"
	HeaderTimestamp = "X-Perimeter-Timestamp"
	HeaderDelivery  = "X-Perimeter-Delivery"
)

// Sign returns the X-Perimeter-Signature value of body sent at ts.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery's signature and that its timestamp is within
// maxAge of now: what a receiver does.
func Verify(secret []byte, ts, signature string, body []byte, now time.Time, maxAge time.Duration) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad %s %q", HeaderTimestamp, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxAge || d < -maxAge {
		return fmt.Errorf("%s is %s away from now: a replay or a skewed clock", HeaderTimestamp, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature)) {
		return errors.New("signature mismatch")
	}
	return nil
}

// Webhook posts the Alert as JSON, signed when Secret is set.
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client
	Now    func() time.Time
}

// Name is the destination's name in Stats: its scheme and host only (a
// URL path may hold a token).
func (w *Webhook) Name() string { return "webhook " + hostOf(w.URL) }

// Send posts one alert.
func (w *Webhook) Send(ctx context.Context, a *Alert, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, redactURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "perimeter-alerts")
	req.Header.Set(HeaderDelivery, a.ID)
	if len(w.Secret) > 0 {
		now := time.Now
		if w.Now != nil {
			now = w.Now
		}
		ts := strconv.FormatInt(now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	}
	return post(w.client(), req)
}

func (w *Webhook) client() *http.Client {
	if w.Client != nil {
		return w.Client
	}
	return http.DefaultClient
}

// Slack posts to a Slack-compatible incoming webhook ({"text": …}; also
// read by Mattermost, Rocket.Chat and Discord's /slack endpoint).
type Slack struct {
	URL    string
	Client *http.Client
}

// Name: see Webhook.Name.
func (s *Slack) Name() string { return "slack " + hostOf(s.URL) }

// Send posts one alert as a message.
func (s *Slack) Send(ctx context.Context, a *Alert, _ []byte) error {
	body, _ := json.Marshal(map[string]string{"text": SlackText(a)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, redactURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	return post(c, req)
}

// SlackText is an alert as one Slack message (mrkdwn). Its title, rule,
// agent and session carry text from callers (an agent id is a request
// header), so &, < and > are escaped as Slack asks (no <!channel> mention
// or <url|label> link can be injected), a backtick becomes ˋ (U+02CB) and
// a line break a space (a value can neither close its code span nor start
// a line of its own).
func SlackText(a *Alert) string {
	icon := map[string]string{"critical": ":rotating_light:", "high": ":warning:", "medium": ":large_orange_diamond:"}[a.Severity]
	if icon == "" {
		icon = ":information_source:"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s *Perimeter %s* (%s): %s", icon, slackSafe.Replace(strings.ReplaceAll(a.Kind, "_", " ")),
		slackSafe.Replace(a.Severity), slackSafe.Replace(a.Title))
	for _, kv := range [][2]string{{"rule", a.Rule}, {"agent", a.Agent}, {"session", a.Session}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "\n• %s: `%s`", kv[0], slackSafe.Replace(kv[1]))
		}
	}
	if a.Suppressed > 0 {
		fmt.Fprintf(&b, "\n• %d similar alerts suppressed since the last one", a.Suppressed)
	}
	return b.String()
}

var slackSafe = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "ˋ", "\r\n", " ", "\n", " ", "\r", " ")

func post(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		return redactURL(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("receiver answered %s", resp.Status)
	default:
		return fmt.Errorf("%w: receiver answered %s (check the URL and the receiver's configuration)", errPermanent, resp.Status)
	}
}

// redactURL cuts the URL an *url.Error quotes (as in `Post "…": dial tcp
// …`) down to its scheme and host: the path and query of a webhook or
// Slack URL are its credential, and this error ends up in Stats (/metrics,
// /config) and the log. Other errors are returned as they are.
func redactURL(err error) error {
	ue, ok := err.(*url.Error)
	if !ok {
		return err
	}
	return &url.Error{Op: ue.Op, URL: hostOf(ue.URL), Err: ue.Err}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid url)"
	}
	return u.Scheme + "://" + u.Host
}

// Log writes alerts to the process log at warn level.
type Log struct{ Logger zerolog.Logger }

// Name is "log".
func (l *Log) Name() string { return "log" }

// Send logs one alert.
func (l *Log) Send(_ context.Context, a *Alert, _ []byte) error {
	ev := l.Logger.Warn().Str("alert", a.Kind).Str("severity", a.Severity).Str("id", a.ID)
	if a.Rule != "" {
		ev = ev.Str("rule", a.Rule)
	}
	if a.Agent != "" {
		ev = ev.Str("agent", a.Agent)
	}
	if a.Session != "" {
		ev = ev.Str("session", a.Session)
	}
	if a.Suppressed > 0 {
		ev = ev.Uint64("suppressed", a.Suppressed)
	}
	if len(a.Details) > 0 {
		ev = ev.Interface("details", a.Details)
	}
	ev.Msg(a.Title)
	return nil
}
