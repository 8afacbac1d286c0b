package configs

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// expandEnv replaces ${NAME}, ${NAME:-default} (default when unset or
// empty) and ${NAME-default} (default when unset) in s. References to
// unset variables without a default are left as written and their names
// returned in missing. Malformed references ("${", "${1X}") stay literal.
func expandEnv(s string, lookup func(string) (string, bool)) (out string, missing []string) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		ref := s[i : i+end+1]
		name, def, hasDef, emptyUsesDef := splitRef(ref[2 : len(ref)-1])
		v, ok := lookup(name)
		switch {
		case !validEnvName(name):
			b.WriteString(ref)
		case ok && (v != "" || !emptyUsesDef):
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			b.WriteString(ref)
			missing = append(missing, name)
		}
		s = s[i+end+1:]
	}
	return b.String(), missing
}

func splitRef(body string) (name, def string, hasDef, emptyUsesDef bool) {
	if i := strings.Index(body, ":-"); i >= 0 {
		return body[:i], body[i+2:], true, true
	}
	if i := strings.IndexByte(body, '-'); i >= 0 {
		return body[:i], body[i+1:], true, false
	}
	return body, "", false, false
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// substituter expands ${VAR} in every string value of a YAML tree (keys
// are left alone) and remembers what each changed scalar said before, so
// error messages can show "${VAR}" instead of the secret it expanded to.
type substituter struct {
	lookup   func(string) (string, bool)
	ps       *problems
	original map[*yaml.Node]string
}

func (s *substituter) node(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = indexPath(path, i)
			}
			s.node(c, p)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			s.node(n.Content[i+1], keyPath(path, n.Content[i].Value))
		}
	case yaml.ScalarNode:
		s.scalar(n, path)
	}
	// Aliases point at nodes expanded where their anchor is defined.
}

func (s *substituter) scalar(n *yaml.Node, path string) {
	if n.ShortTag() != strTag || !strings.Contains(n.Value, "${") {
		return
	}
	out, missing := expandEnv(n.Value, s.lookup)
	for _, name := range missing {
		s.ps.list = append(s.ps.list, Problem{
			Path:    path,
			Message: "environment variable " + name + " is not set; ${" + name + "} is used literally (set it, or write ${" + name + ":-default})",
			Warning: true,
			Line:    n.Line,
		})
	}
	if out == n.Value {
		return
	}
	s.original[n] = n.Value
	n.Value = out
	// An unquoted value is typed by what it expands to (port: ${PORT} is
	// a number); a quoted one stays a string.
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && out != "" {
		n.Tag = ""
	} else {
		n.Tag = strTag
	}
}

func keyPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
