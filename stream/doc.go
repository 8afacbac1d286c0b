// Package stream passes Server-Sent Events from an upstream to a client
// without buffering them and lets an observer see every complete event in
// place.
//
// Copy forwards each upstream read to the client as one write: events that
// arrived together leave together (one write, one flush), and no byte waits
// for an event boundary. While the bytes are still in Copy's buffer it splits them into
// SSE events (a blank line ends an event; lines end with CRLF, LF or CR as in
// the WHATWG spec) and hands each complete event to a Tap. The slice a Tap
// receives aliases the copy buffer: it is valid only during the call and must
// not be retained. Partial events stay in the buffer until their end arrives
// (the search for it resumes where the last read ended, ResumeAt, so an event
// of megabytes costs time linear in its size); an event larger than
// MaxEventSize (16 MiB by default) is still forwarded but not tapped, and is
// counted. Without a tap (and without CountEvents) Copy does not look at the
// bytes at all: it moves them, as a plain reverse proxy does.
//
// Fields lets a tap walk the lines of one event (event, data, id, retry)
// without allocating.
//
// stream never parses JSON and knows nothing of providers: what an event
// means is the tap's business.
package stream
