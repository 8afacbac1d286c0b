package edge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// pieces is a connection that delivers one piece per Read and fails the
// test when read past what the test allows to be waited for.
type pieces struct {
	pieceReader
	t     *testing.T
	reads int
	limit int // reads allowed
}

func (p *pieces) Read(b []byte) (int, error) {
	if p.reads >= p.limit {
		p.t.Fatalf("read %d would wait on the connection with data already in hand", p.reads+1)
	}
	p.reads++
	return p.pieceReader.Read(b)
}

func chunkedOver(t *testing.T, parts ...string) (*chunkedBody, *pieces) {
	src := &pieces{pieceReader: pieceReader{parts}, t: t, limit: 1}
	c := &chunkedBody{}
	c.reset(bufio.NewReaderSize(src, 4096))
	return c, src
}

func TestChunkedReadsEveryChunkThatArrived(t *testing.T) {
	c, src := chunkedOver(t, "5\r\nhello\r\n3;ext=1\r\nabc\r\n1\r\n!\r\n", "0\r\nX-T: 1\r\n\r\n")
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "helloabc!" {
		t.Fatalf("first read: %q, %v; want the three chunks that arrived together", buf[:n], err)
	}
	src.limit++
	n, err = c.Read(buf)
	if n != 0 || err != io.EOF {
		t.Fatalf("second read: %q, %v; want io.EOF after the trailer", buf[:n], err)
	}
	if c.br.Buffered() != 0 {
		t.Fatalf("%d bytes left after the body", c.br.Buffered())
	}
}

func TestChunkedNeverHoldsBackArrivedBytes(t *testing.T) {
	// Each read hands over what the connection delivered, without waiting
	// for the rest of the chunk, its CRLF or the next chunk's size line.
	for _, tc := range []struct {
		parts []string
		first string
	}{
		{[]string{"5\r\nhel", "lo\r\n0\r\n\r\n"}, "hel"},
		{[]string{"5\r\nhello", "\r\n0\r\n\r\n"}, "hello"},
		{[]string{"5\r\nhello\r", "\n0\r\n\r\n"}, "hello"},
		{[]string{"5\r\nhello\r\n", "0\r\n\r\n"}, "hello"},
		{[]string{"5\r\nhello\r\n1", "\r\n!\r\n0\r\n\r\n"}, "hello"},
		{[]string{"5\r\nhello\r\n0\r\n", "\r\n"}, "hello"},
	} {
		parts, want := tc.parts, tc.first
		c, src := chunkedOver(t, parts...)
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("%q: first read %q, %v; want %q", parts, buf[:n], err, want)
		}
		src.limit = 10
		rest, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("%q: %v", parts, err)
		}
		if got := want + string(rest); got != "hello" && got != "hello!" {
			t.Fatalf("%q: body %q", parts, got)
		}
	}
}

func TestChunkedRefusesMalformedFraming(t *testing.T) {
	for _, body := range []string{
		"5\nhello\r\n0\r\n\r\n",                                    // bare LF after the size
		"5\r\nhelloX\r\n0\r\n\r\n",                                 // data longer than its size
		" 5\r\nhello\r\n0\r\n\r\n",                                 // space before the size
		"-5\r\nhello\r\n0\r\n\r\n",                                 // sign
		"1000000000000000\r\nx\r\n",                                // 64-bit size
		"5;a\rb\r\nhello\r\n0\r\n\r\n",                             // CR inside an extension
		"5 x\r\nhello\r\n0\r\n\r\n",                                // junk after the size
		"\r\nhello\r\n0\r\n\r\n",                                   // no size
		"5\r\nhello\r\n0\r\n" + strings.Repeat("X-T: 1\r\n", 3000), // endless trailer
	} {
		c, src := chunkedOver(t, body)
		src.limit = 100
		_, err := io.ReadAll(c)
		if !errors.Is(err, errChunkFraming) {
			t.Errorf("%q: %v, want errChunkFraming", body, err)
		}
	}
	c, src := chunkedOver(t, "5\r\nhel")
	src.limit = 100
	if _, err := io.ReadAll(c); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a body cut by the connection's end: %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestStreamedChunksArrivingTogetherAreOneWrite: an upstream that frames
// every event as its own chunk but whose chunks arrive together reaches the
// client in one chunk (one write, one flush), byte for byte.
func TestStreamedChunksArrivingTogetherAreOneWrite(t *testing.T) {
	var events, framed bytes.Buffer
	for i := range 20 {
		ev := fmt.Sprintf("data: {\"n\":%d}\n\n", i)
		events.WriteString(ev)
		fmt.Fprintf(&framed, "%x\r\n%s\r\n", len(ev), ev)
	}
	framed.WriteString("0\r\n\r\n")
	up := rawUpstream(t, func(c net.Conn) {
		// One write: the chunks arrive at the proxy together.
		c.Write(append([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"), framed.Bytes()...))
	})
	h := startProxy(t, Options{BaseURL: "http://" + up})
	_, br := postRaw(t, h.addr(), benchStream)
	if err := readHead(br); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	chunks := 0
	for {
		var size int
		if _, err := fmt.Fscanf(br, "%x\r\n", &size); err != nil {
			t.Fatal(err)
		}
		if size == 0 {
			break
		}
		chunks++
		if _, err := io.CopyN(&body, br, int64(size)); err != nil {
			t.Fatal(err)
		}
		br.Discard(2)
	}
	if body.String() != events.String() {
		t.Fatalf("the client got %q, want %q", body.String(), events.String())
	}
	if chunks > 2 {
		t.Fatalf("20 events that arrived together reached the client in %d chunks, want one write for them", chunks)
	}
}

func TestChunkedArrived(t *testing.T) {
	for in, want := range map[string]bool{
		"5\r\nh":        true,
		"05\r\nh":       true,
		"5;x=1\r\nh":    true,
		"5\r\n":         false, // the size, no data yet
		"5\r":           false,
		"0\r\n\r\n":     false, // the last chunk carries no data
		"00\r\n\r\n":    false,
		"\r\n\r\nxx":    false,
		"zz\r\nxx":      false,
		"10\r\nabcdefg": true,
	} {
		c, _ := chunkedOver(t, in)
		c.br.Peek(len(in)) // what arrived is in the buffer
		if got := c.arrived(); got != want {
			t.Errorf("%q: arrived = %v, want %v", in, got, want)
		}
	}
	c, src := chunkedOver(t, "5\r\nhel", "lo\r\n0\r\n\r\n")
	buf := make([]byte, 3)
	if n, err := c.Read(buf); n != 3 || err != nil {
		t.Fatal(n, err)
	}
	if c.arrived() {
		t.Error("inside a chunk with nothing buffered: arrived")
	}
	src.limit++
	c.br.Peek(1)
	if !c.arrived() {
		t.Error("inside a chunk with bytes buffered: not arrived")
	}
}

// FuzzChunkedMatchesFasthttp decodes the same chunked body with
// chunkedBody, read in arbitrary pieces, and with fasthttp's reader of whole
// answers: where both accept it they agree on the body and on where it
// ends, and what fasthttp accepts without a trailer chunkedBody accepts.
func FuzzChunkedMatchesFasthttp(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n"), uint8(3))
	f.Add([]byte("a\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nNEXT"), uint8(1))
	f.Add([]byte("5\nhello\r\n0\r\n\r\n"), uint8(7))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		n := int(step%16) + 1
		var parts []string
		for i := 0; i < len(in); i += n {
			parts = append(parts, string(in[i:min(i+n, len(in))]))
		}
		c, src := chunkedOver(t, parts...)
		src.limit = len(parts) + 2
		got, err := io.ReadAll(c)
		left := c.br.Buffered()

		var resp fasthttp.Response
		br := bufio.NewReader(bytes.NewReader(append([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), in...)))
		ferr := resp.ReadLimitBody(br, 1<<20)
		if errors.Is(ferr, fasthttp.ErrBodyTooLarge) {
			return
		}
		if len(in) > 3000 {
			return // beyond one fill of either reader's buffer
		}
		if err == nil && ferr == nil {
			if !bytes.Equal(got, resp.Body()) {
				t.Fatalf("body %q, fasthttp %q", got, resp.Body())
			}
			if left+src.rest() != br.Buffered() {
				t.Fatalf("%d bytes after the body, fasthttp %d", left+src.rest(), br.Buffered())
			}
		}
		// Control characters in a chunk extension and lines ending in a
		// bare LF are refused on purpose; fasthttp passes them.
		strict := bytes.ContainsFunc(in, func(r rune) bool { return r < ' ' && r != '\r' && r != '\n' && r != '\t' || r == 0x7f }) ||
			bytes.Count(in, []byte("\n")) != bytes.Count(in, []byte("\r\n"))
		if ferr == nil && err != nil && !strict {
			t.Fatalf("fasthttp reads %q, chunkedBody fails: %v", in, err)
		}
	})
}
