package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/cylestio/perimeter/configs"
)

// newLogger builds the process logger: console text or JSON on stdout (like
// the original), plus a size-rotated file when logging.file is set.
func newLogger(lc configs.LoggingConfig) (zerolog.Logger, func(), error) {
	level, err := zerolog.ParseLevel(lc.ZerologLevel())
	if err != nil {
		return zerolog.Nop(), nil, fmt.Errorf("logging.level %q: use DEBUG, INFO, WARNING, ERROR or CRITICAL", lc.Level)
	}
	var out io.Writer = os.Stdout
	if !strings.EqualFold(lc.Format, "json") {
		out = consoleWriter(os.Stdout)
	}
	closeFn := func() {}
	if lc.File != "" {
		if err := os.MkdirAll(filepath.Dir(lc.File), 0o755); err != nil {
			return zerolog.Nop(), nil, fmt.Errorf("logging.file %s: %w", lc.File, err)
		}
		lj := &lumberjack.Logger{
			Filename:   lc.File,
			MaxSize:    lc.RotateMiB(), // lumberjack counts whole megabytes
			MaxBackups: lc.BackupCount,
		}
		out = zerolog.MultiLevelWriter(out, lj)
		closeFn = func() { _ = lj.Close() }
	}
	zerolog.DurationFieldUnit = time.Millisecond
	log := zerolog.New(out).Level(level).With().Timestamp().Logger()
	return log, closeFn, nil
}

// consoleWriter is the text format on f, coloured only when f is a
// terminal: a file or a pipe gets no ANSI escapes.
func consoleWriter(f *os.File) zerolog.ConsoleWriter {
	fi, err := f.Stat()
	tty := err == nil && fi.Mode()&os.ModeCharDevice != 0
	return zerolog.ConsoleWriter{Out: f, TimeFormat: time.DateTime, NoColor: !tty}
}
