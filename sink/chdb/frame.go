package chdb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The worker protocol: both directions carry frames
//
//	length uint32 (big endian, bytes after this field) | op byte | id uint32 | payload
//
// The parent numbers its requests; the worker answers each id exactly once,
// in any order (reads and writes run on separate chDB connections).
const (
	opExec    byte = 'E' // parent → worker: a statement whose result is not wanted (INSERT, DDL)
	opQuery   byte = 'Q' // parent → worker: a SELECT; answered with opRows
	opExplore byte = 'S' // parent → worker: an explorer SELECT on its own connection; payload is a byte limit (uint64, 0 = none), then the statement; answered with opRows or opCut
	opInsert  byte = 'I' // parent → worker: an INSERT with binary data (insertPayload); answered like opExec

	opHello byte = 'H' // worker → parent, id 0, once: the engine is up; payload is its version
	opDone  byte = 'D' // worker → parent: opExec or opInsert succeeded; payload is rows written (uint64)
	opRows  byte = 'R' // worker → parent: opQuery or opExplore succeeded; payload is TabSeparatedWithNamesAndTypes
	opCut   byte = 'C' // worker → parent: opExplore's result passed its byte limit; payload is opRows' cut after the last whole row that fits (at least the two header lines)
	opError byte = 'X' // worker → parent: the request failed; payload is the engine's message. With id 0: the worker cannot start
)

const frameHeader = 4 + 1 + 4

// MaxFrame bounds a frame's length so that a corrupt or hostile length
// prefix cannot make the reader allocate without limit. Results larger than
// this are an error; dashboard queries aggregate and return kilobytes.
const MaxFrame = 256 << 20

var errFrameTooLarge = errors.New("frame larger than MaxFrame")

type frame struct {
	op      byte
	id      uint32
	payload []byte
}

// writeFrame writes one frame with a single Write of header then payload
// through w, which the caller serialises.
func writeFrame(w *bufio.Writer, op byte, id uint32, payload []byte) error {
	if len(payload) > MaxFrame-5 {
		return errFrameTooLarge
	}
	var h [frameHeader]byte
	binary.BigEndian.PutUint32(h[0:4], uint32(5+len(payload)))
	h[4] = op
	binary.BigEndian.PutUint32(h[5:9], id)
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	if _, err := w.Write(payload); err != nil {
		return err
	}
	return w.Flush()
}

// readFrame reads one frame. The payload is freshly allocated and owned by
// the caller. It returns io.EOF only at a clean frame boundary.
func readFrame(r *bufio.Reader) (frame, error) { return readFrameFrom(r, false) }

// readRequest is readFrame for the worker, which trusts its parent's
// length prefix: a large request (a second's inserts) is read into one
// buffer of its size instead of growing into it, which would allocate
// about twice its size on the way.
func readRequest(r *bufio.Reader) (frame, error) { return readFrameFrom(r, true) }

func readFrameFrom(r *bufio.Reader, trusted bool) (frame, error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(r, h[:4]); err != nil {
		return frame{}, err
	}
	n := binary.BigEndian.Uint32(h[0:4])
	if n < 5 {
		return frame{}, fmt.Errorf("frame length %d shorter than its header", n)
	}
	if n > MaxFrame {
		return frame{}, fmt.Errorf("frame length %d: %w", n, errFrameTooLarge)
	}
	if _, err := io.ReadFull(r, h[4:]); err != nil {
		return frame{}, unexpected(err)
	}
	f := frame{op: h[4], id: binary.BigEndian.Uint32(h[5:9])}
	size := int(n - 5)
	if size <= 1<<20 || trusted {
		f.payload = make([]byte, size)
		if _, err := io.ReadFull(r, f.payload); err != nil {
			return frame{}, unexpected(err)
		}
		return f, nil
	}
	// Grow with the bytes that actually arrive, doubling up to exactly
	// size: a length prefix alone never costs more memory than the data
	// behind it, and a large result no more than its size (and half of it
	// in outgrown buffers).
	b := make([]byte, 0, 1<<20)
	for len(b) < size {
		if len(b) == cap(b) {
			b = append(make([]byte, 0, min(size, 2*cap(b))), b...)
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil && len(b) < size {
			return frame{}, unexpected(err)
		}
	}
	f.payload = b
	return f, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// appendInsertPayload appends an opInsert payload: the INSERT statement
// without FORMAT or data, the input format, then the data, each of the
// first two after its length (uint32).
func appendInsertPayload(dst []byte, stmt, format string, data func([]byte) []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(stmt)))
	dst = append(dst, stmt...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(format)))
	dst = append(dst, format...)
	return data(dst)
}

// parseInsertPayload splits an opInsert payload.
func parseInsertPayload(p []byte) (stmt, format, data []byte, err error) {
	next := func() ([]byte, bool) {
		if len(p) < 4 {
			return nil, false
		}
		n := binary.BigEndian.Uint32(p)
		if uint64(len(p)-4) < uint64(n) {
			return nil, false
		}
		b := p[4 : 4+n]
		p = p[4+n:]
		return b, true
	}
	var ok bool
	if stmt, ok = next(); !ok {
		return nil, nil, nil, errors.New("insert request without its statement")
	}
	if format, ok = next(); !ok || len(format) == 0 {
		return nil, nil, nil, errors.New("insert request without its format")
	}
	return stmt, format, p, nil
}
