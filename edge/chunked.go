package edge

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// chunkedBody decodes a streamed answer's chunked framing (RFC 9112 §7.1)
// from the upstream connection's reader. Unlike a reader that returns one
// chunk per call, Read returns every chunk's data that has already arrived,
// up to len(p): events an upstream sent as separate chunks but that arrived
// together reach the client in one write, and so one flush. It blocks only
// while it holds no data for the caller, so no byte that has arrived waits
// for the next.
//
// The framing is read strictly: lines end in CRLF, the size is hex without
// sign or overflow, nothing follows a chunk's data but CRLF. Anything else is
// an error, which ends the stream and closes the connection.
type chunkedBody struct {
	br    *bufio.Reader
	left  int64 // data bytes left in the current chunk
	state uint8
	trail int // trailer bytes read so far
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

// Read fills p with the body's data that is available: it waits for the
// first byte only.
func (c *chunkedBody) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		// With data in hand, go on only as far as the buffered bytes reach.
		if n > 0 && !c.ready() {
			return n, nil
		}
		switch c.state {
		case chunkSize:
			if err := c.readSize(); err != nil {
				return n, err
			}
		case chunkData:
			want := int64(len(p) - n)
			if want > c.left {
				want = c.left
			}
			if n > 0 && want > int64(c.br.Buffered()) {
				want = int64(c.br.Buffered())
			}
			k, err := c.br.Read(p[n : n+int(want)])
			n += k
			c.left -= int64(k)
			if err != nil {
				return n, unexpectedEOF(err)
			}
			if c.left == 0 {
				c.state = chunkCRLF
			}
		case chunkCRLF:
			if err := c.readCRLF(); err != nil {
				return n, err
			}
			c.state = chunkSize
		case chunkTrailer:
			line, err := c.line()
			if err != nil {
				return n, err
			}
			c.trail += len(line)
			if c.trail > maxTrailer {
				return n, errChunkFraming
			}
			if len(line) == 2 {
				c.state = chunkDone
			}
		case chunkDone:
			return n, io.EOF
		}
	}
	return n, nil
}

// ready reports whether the next step can be taken from buffered bytes
// alone, without waiting on the connection.
func (c *chunkedBody) ready() bool {
	b := c.br.Buffered()
	switch c.state {
	case chunkData:
		return b > 0
	case chunkCRLF:
		return b >= 2
	case chunkSize, chunkTrailer:
		if b == 0 {
			return false
		}
		buf, _ := c.br.Peek(b)
		for _, ch := range buf {
			if ch == '\n' {
				return true
			}
		}
		return false
	case chunkDone:
		return true
	}
	return false
}

// arrived reports whether data of the body is in the read buffer: inside
// a chunk, any byte; at a chunk-size line, the whole line and a byte after
// it (a last chunk has no data, so it does not count).
func (c *chunkedBody) arrived() bool {
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

// line reads one CRLF-terminated line, CRLF included; it must fit the
// reader's buffer.
func (c *chunkedBody) line() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return nil, errChunkFraming
		}
		return nil, unexpectedEOF(err)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, errChunkFraming
	}
	return line, nil
}

// readSize reads a chunk-size line: 1*HEXDIG, then optional extensions
// (which are ignored), then CRLF.
func (c *chunkedBody) readSize() error {
	line, err := c.line()
	if err != nil {
		return err
	}
	line = line[:len(line)-2]
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

func (c *chunkedBody) readCRLF() error {
	b, err := c.br.Peek(2)
	if err != nil {
		return unexpectedEOF(err)
	}
	if b[0] != '\r' || b[1] != '\n' {
		return errChunkFraming
	}
	_, _ = c.br.Discard(2)
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
