package configs

import (
	"fmt"
	"strconv"
	"strings"
)

// Problem is one thing wrong (or, with Warning, suspicious) in a
// configuration, located by its YAML path and, when read from a file, line.
type Problem struct {
	// Path is the YAML path: "llm.base_url", "interceptors[2].config.server_port".
	Path    string
	Message string
	Warning bool
	// Line is the 1-based line in the file, 0 when unknown (the value came
	// from a default, the environment or a flag).
	Line int
}

// String formats p as "path: message" plus " (line N)" when the line is known.
func (p Problem) String() string {
	var b strings.Builder
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	if p.Line > 0 {
		b.WriteString(" (line ")
		b.WriteString(strconv.Itoa(p.Line))
		b.WriteString(")")
	}
	return b.String()
}

// HasErrors reports whether any problem is an error rather than a warning.
func HasErrors(ps []Problem) bool {
	for _, p := range ps {
		if !p.Warning {
			return true
		}
	}
	return false
}

// Errors returns the problems that are errors.
func Errors(ps []Problem) []Problem { return filter(ps, false) }

// Warnings returns the problems that are warnings.
func Warnings(ps []Problem) []Problem { return filter(ps, true) }

func filter(ps []Problem, warning bool) []Problem {
	var out []Problem
	for _, p := range ps {
		if p.Warning == warning {
			out = append(out, p)
		}
	}
	return out
}

// LoadError is returned by Load and Parse when the file cannot be used:
// YAML syntax errors or values of the wrong type. Problems lists every one.
type LoadError struct {
	// Source is the file name, empty for Parse.
	Source   string
	Problems []Problem
}

func (e *LoadError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	if len(e.Problems) == 1 {
		b.WriteString(e.Problems[0].String())
		return b.String()
	}
	b.WriteString(strconv.Itoa(len(e.Problems)))
	b.WriteString(" problems:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects Problems with their lines looked up in the loaded file.
type problems struct {
	list  []Problem
	lines map[string]int
}

func (ps *problems) errorf(path, format string, args ...any) {
	ps.add(path, false, format, args...)
}

func (ps *problems) warnf(path, format string, args ...any) {
	ps.add(path, true, format, args...)
}

func (ps *problems) add(path string, warning bool, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	ps.list = append(ps.list, Problem{Path: path, Message: msg, Warning: warning, Line: lineFor(ps.lines, path)})
}

// lineFor returns the line of path or, when path was not in the file (a
// missing key), of its nearest ancestor that was.
func lineFor(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}
