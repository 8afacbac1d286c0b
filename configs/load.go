package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the YAML file at path onto Default(). See Parse.
func Load(path string, lookup func(string) (string, bool)) (*Config, []Problem, error) {
	return loadOnto(Default(), path, lookup)
}

// LoadLayered builds the configuration the way the CLI layers it below its
// flags: defaults, then the LLM_BASE_URL / LLM_TYPE / LLM_API_KEY /
// LOG_LEVEL environment (ApplyEnv), then the file at path on top. With an
// empty path there is no file. Apply flags afterwards with WithOverrides.
func LoadLayered(path string, lookup func(string) (string, bool)) (*Config, []Problem, error) {
	c := Default()
	c.ApplyEnv(lookup)
	if path == "" {
		return c, nil, nil
	}
	return loadOnto(c, path, lookup)
}

func loadOnto(base *Config, path string, lookup func(string) (string, bool)) (*Config, []Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	c, ps, err := parseOnto(base, data, lookup)
	if le, ok := err.(*LoadError); ok {
		le.Source = path
	}
	return c, ps, err
}

// Parse decodes YAML config data onto Default(): keys the data lacks keep
// their defaults.
//
// String values have ${NAME}, ${NAME:-default} and ${NAME-default}
// substituted from lookup, whether they are the whole value (as in the
// original) or embedded in it; an unset variable without a default is left
// as written, with a warning. A nil lookup means no variable is set.
//
// The returned problems are warnings about the file: unknown keys at every
// level (with a "did you mean" when one is close) and unset variables,
// each with its YAML path and line. YAML syntax errors and values of the
// wrong type make Parse fail with a *LoadError listing every one of them
// (the returned problems then hold only the warnings).
// Checks of the values themselves are Validate's job.
func Parse(data []byte, lookup func(string) (string, bool)) (*Config, []Problem, error) {
	return parseOnto(Default(), data, lookup)
}

func parseOnto(c *Config, data []byte, lookup func(string) (string, bool)) (*Config, []Problem, error) {
	if lookup == nil {
		lookup = noEnv
	}
	root, err := parseYAML(data)
	if err != nil {
		return nil, nil, err
	}
	lines := map[string]int{}
	ps := &problems{lines: lines}
	if root == nil {
		c.lines = lines
		return c, nil, nil
	}
	sub := &substituter{lookup: lookup, ps: ps, original: map[*yaml.Node]string{}}
	sub.node(root, "")
	newChecker(ps, lines, sub.original).walk(root, reflect.TypeFor[Config](), "")
	if HasErrors(ps.list) {
		return nil, Warnings(ps.list), &LoadError{Problems: Errors(ps.list)}
	}
	if err := decodeNode(root, c); err != nil {
		return nil, Warnings(ps.list), err
	}
	c.lines = lines
	return c, ps.list, nil
}

// parseYAML returns the first document's top node, nil for an empty one.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	defer recoverInto(&err)
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(err)
	}
	n := &doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == nullTag {
		return nil, nil
	}
	var more yaml.Node
	if dec.Decode(&more) == nil {
		return nil, &LoadError{Problems: []Problem{{
			Message: "more than one YAML document (---); put the whole configuration in one",
			Line:    more.Line,
		}}}
	}
	return n, nil
}

func decodeNode(n *yaml.Node, out any) (err error) {
	defer recoverInto(&err)
	if err := n.Decode(out); err != nil {
		return syntaxError(err)
	}
	return nil
}

// syntaxError turns a yaml.v3 error ("yaml: line 3: …", or a TypeError with
// several "line N: …" lines) into a *LoadError with one Problem per line.
func syntaxError(err error) error {
	var msgs []string
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	le := &LoadError{}
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		le.Problems = append(le.Problems, Problem{Message: stripLine(m), Line: lineOf(m)})
	}
	return le
}

func lineOf(msg string) int {
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	n, _ := strconv.Atoi(rest[:end])
	return n
}

// recoverInto turns a panic inside yaml.v3 into an error: config bytes are
// untrusted and must never take the process down.
func recoverInto(err *error) {
	if r := recover(); r != nil {
		*err = &LoadError{Problems: []Problem{{Message: fmt.Sprintf("cannot parse YAML: %v", r)}}}
	}
}

func noEnv(string) (string, bool) { return "", false }
