// Package alert tells people what Perimeter saw: findings at or above a
// severity, sessions crossing a risk score, guard and limit decisions,
// budgets crossing a threshold, error-rate spikes, and the store or an
// exporter going down and coming back. It delivers them to a generic
// webhook (JSON signed with HMAC-SHA256), a Slack-compatible incoming
// webhook, or the process log.
//
// Nothing here is on the request path. Notify never blocks: an alert goes
// into a bounded queue (full: dropped and counted) and one dispatcher
// goroutine deduplicates it (one alert per key — kind, rule, agent —
// within DedupWindow), rate-limits it (MaxPerMinute across all kinds,
// beyond it dropped and counted), and hands it to one worker per
// destination, each with its own bounded queue. A worker retries a failed
// delivery with exponential backoff (Retries times from Backoff, doubling,
// capped at a minute); a delivery that still fails is counted with its
// last error in Stats, which, like the log, names a destination URL by its
// scheme and host only (its path and query may be its credential). Close drains the queues or gives up at its
// context's deadline.
//
// # Webhook signature
//
// A webhook body is the Alert as JSON. With a secret, the request carries
//
//	X-Perimeter-Timestamp: <unix seconds>
//	X-Perimeter-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// and the receiver recomputes it (Verify) and rejects old timestamps, so
// a captured delivery cannot be replayed later. X-Perimeter-Delivery is a
// unique id per alert, the same on every retry, for the receiver's own
// deduplication.
//
// # Sources
//
// FindingWatch reads processed event batches in the sink pipeline
// (security.finding events) for finding and session-risk alerts. Watch
// samples the proxy's request and error counters and the writers' health
// on an interval for error-rate and outage alerts. Guard and limit
// decisions arrive from edge through callbacks wired in cmd/perimeter.
package alert
