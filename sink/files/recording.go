package files

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"strings"
)

// Record is one line of a recording file.
type Record struct {
	Type      string   `json:"type"` // request | response | error
	Timestamp string   `json:"timestamp"`
	Method    string   `json:"method"`
	URL       string   `json:"url"`
	Path      string   `json:"path"`
	Query     *string  `json:"query"`
	Headers   Headers  `json:"headers"`
	Body      Body     `json:"body"`
	SessionID *string  `json:"session_id"`
	Provider  string   `json:"provider"`
	Model     *string  `json:"model"`
	Streaming bool     `json:"is_streaming"`
	Status    int      `json:"status_code"`
	Duration  *float64 `json:"duration_ms"`

	ErrorType    string `json:"error_type"`
	ErrorMessage string `json:"error_message"`

	File string `json:"-"` // where it was read
	Line int    `json:"-"`
}

// Headers is a recorded header object, in its order.
type Headers [][2]string

// UnmarshalJSON reads {"name": "value", …}.
func (h *Headers) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var o orderedObject
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	for _, m := range o {
		var v string
		if err := json.Unmarshal(m.value, &v); err != nil {
			return fmt.Errorf("header %s: %w", m.name, err)
		}
		*h = append(*h, [2]string{m.name, v})
	}
	return nil
}

// Body is a recorded body: {"size","type","content"}.
type Body struct {
	Size    int             `json:"size"`
	Type    string          `json:"type"`
	Content json.RawMessage `json:"content"`
}

const truncatedPrefix = "[TRUNCATED - size exceeds "

// Bytes returns the body's bytes: JSON content compacted, text as is,
// binary decoded from base64.
func (b Body) Bytes() ([]byte, error) {
	if len(b.Content) == 0 || string(b.Content) == "null" {
		return nil, nil
	}
	switch b.Type {
	case "json":
		var out bytes.Buffer
		if err := json.Compact(&out, b.Content); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	case "text", "binary":
		var s string
		if err := json.Unmarshal(b.Content, &s); err != nil {
			return nil, fmt.Errorf("%s body: %w", b.Type, err)
		}
		if b.Type == "text" {
			return []byte(s), nil
		}
		return base64.StdEncoding.DecodeString(s)
	}
	return nil, fmt.Errorf("unknown body type %q", b.Type)
}

// Truncated reports whether the recorder replaced the body by its
// size-limit marker.
func (b Body) Truncated() bool {
	if b.Type != "text" {
		return false
	}
	var s string
	return json.Unmarshal(b.Content, &s) == nil && strings.HasPrefix(s, truncatedPrefix)
}

// Pair is a recorded request and what answered it: a response or an
// error record, or nil when the recording has none.
type Pair struct {
	Request *Record
	Answer  *Record
}

// Recordings is what ReadRecordings found.
type Recordings struct {
	Files   []string
	Pairs   []Pair
	Records int // lines read as records
	Skipped int // lines that are not records (not JSON, no type)
}

// ReadRecordings reads an http_recorder recording: one .jsonl file, or a
// directory whose recording_NNN.jsonl files are read in number order as
// one sequence (a pair may span a rotation). Records are paired as the
// original's replay did: each request with the first response or error
// after it, unless another request comes first. Lines that are not
// records are skipped and counted.
func ReadRecordings(path string) (*Recordings, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist (give a recording_NNN.jsonl file or the http_recorder output_dir)", path)
		}
		return nil, err
	}
	rec := &Recordings{}
	if st.IsDir() {
		nums, err := recordingNumbers(path)
		if err != nil {
			return nil, err
		}
		if len(nums) == 0 {
			return nil, fmt.Errorf("no recordings in %s: expected recording_NNN.jsonl files written by the http_recorder interceptor", path)
		}
		for _, n := range nums {
			rec.Files = append(rec.Files, filepath.Join(path, RecordingFileName(n)))
		}
	} else {
		if !strings.HasSuffix(path, ".jsonl") {
			return nil, fmt.Errorf("%s: a recording file must end with .jsonl", path)
		}
		rec.Files = []string{path}
	}
	var all []*Record
	for _, f := range rec.Files {
		rs, skipped, err := readRecordFile(f)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
		rec.Skipped += skipped
	}
	rec.Records = len(all)
	rec.Pairs = pairRecords(all)
	return rec, nil
}

func readRecordFile(path string) ([]*Record, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var out []*Record
	skipped := 0
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if t := bytes.TrimSpace(b); len(t) > 0 {
			r := &Record{File: path, Line: line}
			if json.Unmarshal(t, r) != nil || r.Type == "" {
				skipped++
			} else {
				out = append(out, r)
			}
		}
		if err == io.EOF {
			return out, skipped, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read %s: %w", path, err)
		}
	}
}

func pairRecords(rs []*Record) []Pair {
	var pairs []Pair
	for i := 0; i < len(rs); i++ {
		if rs[i].Type != "request" {
			continue
		}
		p := Pair{Request: rs[i]}
		for j := i + 1; j < len(rs); j++ {
			if rs[j].Type == "request" {
				break
			}
			if rs[j].Type == "response" || rs[j].Type == "error" {
				p.Answer = rs[j]
				i = j
				break
			}
		}
		pairs = append(pairs, p)
	}
	return pairs
}
