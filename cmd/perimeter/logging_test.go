package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestConsoleWriterNoColorOffTerminal: the text format written to a file or
// a pipe carries no ANSI colour codes.
func TestConsoleWriterNoColorOffTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, out := range []*os.File{f, w} {
		log := zerolog.New(consoleWriter(out))
		log.Warn().Str("k", "v").Msg("hello")
	}
	w.Close()
	piped := make([]byte, 4096)
	n, _ := r.Read(piped)
	filed, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]string{"file": string(filed), "pipe": string(piped[:n])} {
		if !strings.Contains(b, "hello") || strings.Contains(b, "\x1b[") {
			t.Errorf("%s: %q", name, b)
		}
	}
}
