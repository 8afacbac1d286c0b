package edge

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// chunkedBody decodes a streamed answer's chunked framing (RFC 9112 §7.1)
// in the upstream connection's read buffer. Next returns the data of every
// chunk that has already arrived as one slice of that buffer, the chunks'
// framing squeezed out in place: events an upstream sent as separate chunks
// but that arrived together reach the client in one write, and so one
// flush, without being copied out of the buffer. It blocks only while it
// holds no data for the caller, so no byte that has arrived waits for the
// next.
//
// The framing is read strictly: lines end in CRLF, the size is hex without
// sign or overflow, nothing follows a chunk's data but CRLF. Anything else is
// an error, which ends the stream and closes the connection.
type chunkedBody struct {
	br    *bufio.Reader
	left  int64 // data bytes left in the current chunk
	state uint8
	trail int    // trailer bytes read so far
	used  int    // buffered bytes the last next returned, consumed by the next call
	err   error  // met after data that next returned first
	rest  []byte // what Read has not yet copied of next's slice
}

const (
	chunkSize    uint8 = iota // at a chunk-size line
	chunkData                 // inside a chunk's data
	chunkCRLF                 // after a chunk's data
	chunkTrailer              // after the last chunk, in the trailer section
	chunkDone                 // the body has ended
)

// maxTrailer bounds the trailer section, which is read and dropped.
const maxTrailer = 16 << 10

var errChunkFraming = errors.New("the upstream's chunked framing is malformed")

func (c *chunkedBody) reset(br *bufio.Reader) {
	*c = chunkedBody{br: br}
}

// next returns the body's data that is in the read buffer, waiting for
// the first byte of it only, or the error that ended the body (io.EOF at
// its end). The slice is in the reader's buffer and valid until the next
// call, which consumes it; between the two the reader holds nothing else
// unless more has arrived.
func (c *chunkedBody) next() ([]byte, error) {
	if c.used > 0 {
		_, _ = c.br.Discard(c.used)
		c.used = 0
	}
	if c.err != nil {
		return nil, c.err
	}
	for c.state != chunkDone {
		if c.br.Buffered() == 0 {
			if _, err := c.br.Peek(1); err != nil {
				return nil, unexpectedEOF(err)
			}
		}
		buf, _ := c.br.Peek(c.br.Buffered())
		n, used, err := c.scan(buf)
		if n > 0 {
			c.used, c.err = used, err
			return buf[:n], nil
		}
		if err != nil {
			return nil, err
		}
		_, _ = c.br.Discard(used)
		if used == 0 {
			// A line or CRLF is incomplete: wait for the rest of it.
			b := c.br.Buffered()
			if b == c.br.Size() {
				return nil, errChunkFraming // a line longer than the buffer
			}
			if _, err := c.br.Peek(b + 1); err != nil {
				return nil, unexpectedEOF(err)
			}
		}
	}
	return nil, io.EOF
}

// scan decodes the framing in buf, moving the data of the chunks it holds
// to buf[:n]; used is how far the whole steps taken reach.
func (c *chunkedBody) scan(buf []byte) (n, used int, err error) {
	for used < len(buf) {
		switch c.state {
		case chunkSize, chunkTrailer:
			i := bytes.IndexByte(buf[used:], '\n')
			if i < 0 {
				return n, used, nil
			}
			line := buf[used : used+i+1]
			if len(line) < 2 || line[len(line)-2] != '\r' {
				return n, used, errChunkFraming
			}
			if c.state == chunkSize {
				if err := c.size(line[:len(line)-2]); err != nil {
					return n, used, err
				}
			} else {
				c.trail += len(line)
				if c.trail > maxTrailer {
					return n, used, errChunkFraming
				}
				if len(line) == 2 {
					c.state = chunkDone
				}
			}
			used += len(line)
		case chunkData:
			k := int(min(c.left, int64(len(buf)-used)))
			if n != used {
				copy(buf[n:], buf[used:used+k])
			}
			n, used = n+k, used+k
			if c.left -= int64(k); c.left == 0 {
				c.state = chunkCRLF
			}
		case chunkCRLF:
			if len(buf)-used < 2 {
				return n, used, nil
			}
			if buf[used] != '\r' || buf[used+1] != '\n' {
				return n, used, errChunkFraming
			}
			used += 2
			c.state = chunkSize
		case chunkDone:
			return n, used, nil
		}
	}
	return n, used, nil
}

// Read copies what next returns into p; it waits for the first byte only.
func (c *chunkedBody) Read(p []byte) (int, error) {
	if len(c.rest) == 0 {
		var err error
		if c.rest, err = c.next(); err != nil {
			return 0, err
		}
	}
	k := copy(p, c.rest)
	c.rest = c.rest[k:]
	if len(c.rest) == 0 && c.used > 0 {
		_, _ = c.br.Discard(c.used)
		c.used = 0
	}
	return k, nil
}

// arrived reports whether data of the body is in the read buffer: inside
// a chunk, any byte; at a chunk-size line, the whole line and a byte after
// it (a last chunk has no data, so it does not count).
func (c *chunkedBody) arrived() bool {
	if c.used > 0 {
		return false // only a Read or next finds out what follows
	}
	b := c.br.Buffered()
	switch c.state {
	case chunkData:
		return b > 0
	case chunkSize:
		buf, _ := c.br.Peek(b)
		i := bytes.IndexByte(buf, '\n')
		if i < 0 || i+1 == len(buf) {
			return false
		}
		for _, ch := range buf[:i] { // a size other than zero
			if _, ok := hexVal(ch); !ok {
				return false
			}
			if ch != '0' {
				return true
			}
		}
	}
	return false
}

// size reads a chunk-size line without its CRLF: 1*HEXDIG, then optional
// extensions (which are ignored).
func (c *chunkedBody) size(line []byte) error {
	var size int64
	i := 0
	for ; i < len(line); i++ {
		v, ok := hexVal(line[i])
		if !ok {
			break
		}
		if i == 15 { // 60 bits: no overflow, far past any answer
			return errChunkFraming
		}
		size = size<<4 | int64(v)
	}
	if i == 0 {
		return errChunkFraming
	}
	// Extensions: BWS ";" ...; no control characters.
	rest := line[i:]
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] != ';' {
		return errChunkFraming
	}
	for _, ch := range rest {
		if ch < ' ' && ch != '\t' || ch == 0x7f {
			return errChunkFraming
		}
	}
	if size == 0 {
		c.state = chunkTrailer
		return nil
	}
	c.left, c.state = size, chunkData
	return nil
}

// unexpectedEOF turns the connection's end inside a body into the error
// that says the answer was cut.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
