package configs

import (
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	strTag   = "!!str"
	intTag   = "!!int"
	floatTag = "!!float"
	boolTag  = "!!bool"
	nullTag  = "!!null"
)

// walkBudget bounds how many nodes one check visits, so that aliases
// referring to aliases cannot make checking exponential.
const walkBudget = 1 << 16

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// checker compares a YAML tree with the Go type it will be decoded into,
// before yaml.v3 decodes it. It reports unknown keys (warnings), values of
// the wrong shape or type (errors), records each path's line, and coerces
// quoted scalars such as port: "8080" into the type the field wants, as the
// original (pydantic) did.
type checker struct {
	ps       *problems
	lines    map[string]int
	original map[*yaml.Node]string // text before ${VAR} substitution
	budget   int
	// tolerated keys are accepted silently in struct mappings.
	tolerated map[string]bool
}

func newChecker(ps *problems, lines map[string]int, original map[*yaml.Node]string) *checker {
	return &checker{ps: ps, lines: lines, original: original, budget: walkBudget}
}

func (c *checker) walk(n *yaml.Node, t reflect.Type, path string) {
	if c.budget--; c.budget < 0 {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		n = n.Alias
	}
	if _, seen := c.lines[path]; !seen && path != "" {
		c.lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == nullTag {
		return // null keeps the default
	}
	if t.Kind() != reflect.Struct && reflect.PointerTo(t).Implements(unmarshalerType) {
		u := reflect.New(t).Interface().(yaml.Unmarshaler)
		if err := u.UnmarshalYAML(n); err != nil {
			c.errorAt(path, n, stripLine(err.Error()))
		} else {
			c.recordLines(n, path) // lines of a mapping's keys (pricing.models.<name>.input)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		c.mapping(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.errorAt(path, n, "expected a list, got "+c.describe(n))
			return
		}
		for i, item := range n.Content {
			c.walk(item, t.Elem(), indexPath(path, i))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.errorAt(path, n, "expected a mapping (key: value), got "+c.describe(n))
			return
		}
		c.recordLines(n, path)
	case reflect.Interface:
		c.recordLines(n, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			c.errorAt(path, n, "expected a string, got "+c.describe(n))
		}
	case reflect.Bool:
		c.boolean(n, path)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.integer(n, path)
	case reflect.Float32, reflect.Float64:
		c.float(n, path)
	}
}

func (c *checker) mapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		what := "expected a mapping (key: value)"
		if path == "" {
			what = "expected a mapping of sections (server:, llm:, interceptors:, ...)"
		}
		c.errorAt(path, n, what+", got "+c.describe(n))
		return
	}
	fields := yamlFields(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			c.merge(v, t, path)
			continue
		}
		p := keyPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			c.lines[p] = k.Line
			c.errorAt(p, k, "defined twice (first at line "+strconv.Itoa(first)+")")
			continue
		}
		seen[k.Value] = k.Line
		f, known := fields[k.Value]
		if !known {
			c.lines[p] = k.Line
			if !c.tolerated[k.Value] {
				c.ps.warnf(p, "unknown key — ignored%s", suggest(k.Value, fields))
			}
			continue
		}
		c.lines[p] = k.Line
		c.walk(v, f.Type, p)
	}
}

func (c *checker) merge(v *yaml.Node, t reflect.Type, path string) {
	if v.Kind == yaml.SequenceNode {
		for _, item := range v.Content {
			c.walk(item, t, path)
		}
		return
	}
	c.walk(v, t, path)
}

func (c *checker) recordLines(n *yaml.Node, path string) {
	if c.budget--; c.budget < 0 {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := keyPath(path, n.Content[i].Value)
			if _, seen := c.lines[p]; !seen {
				c.lines[p] = n.Content[i].Line
			}
			c.recordLines(n.Content[i+1], p)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := indexPath(path, i)
			if _, seen := c.lines[p]; !seen {
				c.lines[p] = item.Line
			}
			c.recordLines(item, p)
		}
	}
}

func (c *checker) boolean(n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case boolTag:
			return
		case strTag:
			switch strings.ToLower(strings.TrimSpace(n.Value)) {
			case "true", "yes", "on", "y":
				coerce(n, "true")
				return
			case "false", "no", "off", "n":
				coerce(n, "false")
				return
			}
		}
	}
	c.errorAt(path, n, "expected true or false, got "+c.describe(n))
}

func (c *checker) integer(n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case intTag:
			var v int64
			if n.Decode(&v) == nil {
				return
			}
		case floatTag, strTag:
			text := strings.TrimSpace(n.Value)
			if i, err := strconv.ParseInt(text, 10, 64); err == nil {
				coerce(n, strconv.FormatInt(i, 10))
				return
			}
			var f float64
			if err := decodeFloat(n, &f); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<62 {
				coerce(n, strconv.FormatInt(int64(f), 10))
				return
			}
		}
	}
	c.errorAt(path, n, "expected a whole number, got "+c.describe(n))
}

func (c *checker) float(n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		var f float64
		if err := decodeFloat(n, &f); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			if n.ShortTag() == strTag {
				coerce(n, strconv.FormatFloat(f, 'g', -1, 64))
			}
			return
		}
	}
	c.errorAt(path, n, "expected a number, got "+c.describe(n))
}

func decodeFloat(n *yaml.Node, f *float64) error {
	if n.ShortTag() == strTag {
		v, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64)
		*f = v
		return err
	}
	return n.Decode(f)
}

// coerce makes a scalar a plain one reading text, which yaml.v3 then
// resolves to the type the field wants.
func coerce(n *yaml.Node, text string) {
	n.Value, n.Tag, n.Style = text, "", 0
}

func (c *checker) errorAt(path string, n *yaml.Node, msg string) {
	c.ps.list = append(c.ps.list, Problem{Path: path, Message: msg, Line: n.Line})
}

// describe names what a node is, for "expected X, got Y" messages. A value
// that came from ${VAR} is shown as the reference, never as its expansion,
// and key-shaped text is redacted.
func (c *checker) describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	text := n.Value
	if orig, ok := c.original[n]; ok {
		text = orig
	}
	text = redactString(text)
	if len(text) > 40 {
		text = text[:40] + "..."
	}
	return strconv.Quote(text)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a value"
}

// yamlFields maps each YAML key of struct type t to its field.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := make(map[string]reflect.StructField, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f
	}
	return fields
}

// suggest returns " (did you mean x?)" for the known key closest to key.
func suggest(key string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	for _, name := range names {
		if d := editDistance(strings.ToLower(key), name); d < bestDist {
			best, bestDist = name, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// stripLine drops yaml.v3's "line N: " prefix; Problem carries the line.
func stripLine(msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if _, err := strconv.Atoi(rest[:i]); err == nil {
				return rest[i+2:]
			}
		}
	}
	return msg
}
