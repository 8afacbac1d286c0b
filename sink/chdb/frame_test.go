package chdb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	frames := []frame{
		{opExec, 1, []byte("INSERT INTO t VALUES (1)")},
		{opQuery, 2, []byte("SELECT 1")},
		{opRows, 2, nil},
		{opError, 0, []byte("boom")},
		{opExec, 1 << 31, bytes.Repeat([]byte("x"), 3<<20)}, // above the small-frame fast path
	}
	for _, f := range frames {
		if err := writeFrame(w, f.op, f.id, f.payload); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(&buf)
	for _, want := range frames {
		got, err := readFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		if got.op != want.op || got.id != want.id || !bytes.Equal(got.payload, want.payload) {
			t.Fatalf("got %q/%d/%d bytes, want %q/%d/%d bytes", got.op, got.id, len(got.payload), want.op, want.id, len(want.payload))
		}
	}
	if _, err := readFrame(r); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestReadFrameRejects(t *testing.T) {
	header := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"length below header", append(header(4), 'E', 0, 0, 0), "shorter than its header"},
		{"length above MaxFrame", append(header(MaxFrame+1), 'E', 0, 0, 0, 1), "larger than MaxFrame"},
		{"truncated header", append(header(9), 'E', 0), "unexpected EOF"},
		{"truncated payload", append(header(9), 'E', 0, 0, 0, 1, 'a'), "unexpected EOF"},
		{"huge claimed payload, little data", append(header(MaxFrame), 'R', 0, 0, 0, 1, 'a', 'b'), "unexpected EOF"},
		{"partial length", []byte{0, 0}, "unexpected EOF"},
	}
	for _, tt := range tests {
		_, err := readFrame(bufio.NewReader(bytes.NewReader(tt.in)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if err := writeFrame(bufio.NewWriter(io.Discard), opExec, 1, make([]byte, MaxFrame)); !errors.Is(err, errFrameTooLarge) {
		t.Errorf("writing an oversized frame: %v", err)
	}
}

// FuzzReadFrame feeds the parent's frame reader what a broken or hostile
// worker could send: it must return frames or an error, never panic or
// allocate beyond what arrived.
func FuzzReadFrame(f *testing.F) {
	var ok bytes.Buffer
	w := bufio.NewWriter(&ok)
	_ = writeFrame(w, opHello, 0, []byte("chDB 26.7.3\n26.7.2.1"))
	_ = writeFrame(w, opRows, 7, []byte("x\nUInt8\n1\n"))
	f.Add(ok.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 'R'})
	f.Add([]byte{0, 0, 0, 5, 'D', 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		total := 0
		for {
			fr, err := readFrame(r)
			if err != nil {
				return
			}
			total += frameHeader + len(fr.payload)
			if total > len(b) {
				t.Fatalf("read %d bytes of frames from %d bytes of input", total, len(b))
			}
		}
	})
}

func TestInsertPayloadRoundTrip(t *testing.T) {
	data := []byte("\n\nbinary\x00data")
	p := appendInsertPayload(nil, "INSERT INTO t (a)", "Native", func(d []byte) []byte { return append(d, data...) })
	stmt, format, got, err := parseInsertPayload(p)
	if err != nil || string(stmt) != "INSERT INTO t (a)" || string(format) != "Native" || !bytes.Equal(got, data) {
		t.Fatalf("%q %q %q %v", stmt, format, got, err)
	}
	for _, bad := range [][]byte{nil, {0, 0, 0, 9, 'x'}, p[:len("INSERT INTO t (a)")+4+2], appendInsertPayload(nil, "INSERT", "", func(d []byte) []byte { return d })} {
		if _, _, _, err := parseInsertPayload(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestReadRequestAllocatesOnce: the worker reads a large request from its
// parent into one buffer of exactly its size (the parent's reader grows
// into it instead, see FuzzReadFrame), so a second's inserts never cost it
// about twice their size.
func TestReadRequestAllocatesOnce(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	payload := bytes.Repeat([]byte("n"), 12<<20)
	for range 2 {
		if err := writeFrame(w, opInsert, 9, payload); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReaderSize(bytes.NewReader(buf.Bytes()), 1<<20)
	var got frame
	var err error
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	got, err = readRequest(r)
	runtime.ReadMemStats(&ms1)
	if err != nil || got.op != opInsert || got.id != 9 || !bytes.Equal(got.payload, payload) || cap(got.payload) != len(payload) {
		t.Fatalf("readRequest: op %q id %d, %d bytes (cap %d), %v", got.op, got.id, len(got.payload), cap(got.payload), err)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > uint64(len(payload))+1<<20 {
		t.Errorf("readRequest allocated %d bytes for a %d-byte request", alloc, len(payload))
	}
	runtime.ReadMemStats(&ms0)
	got, err = readFrame(r)
	runtime.ReadMemStats(&ms1)
	if err != nil || !bytes.Equal(got.payload, payload) {
		t.Fatalf("readFrame: %d bytes, %v", len(got.payload), err)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc < uint64(len(payload))*3/2 {
		t.Errorf("readFrame allocated %d bytes for a %d-byte frame: it no longer grows with the bytes that arrive", alloc, len(payload))
	}
}
