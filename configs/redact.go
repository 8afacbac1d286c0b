package configs

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
)

// RedactedValue replaces every secret in Redacted.
const RedactedValue = "[REDACTED]"

// Redacted returns the effective configuration as JSON-ready maps and
// slices (keys as in the YAML; durations in seconds like the original's
// /config; sizes as "10MB"), with every secret replaced by "[REDACTED]":
//   - llm.api_key, plus llm.api_key_configured true/false as the original
//     reported it;
//   - any value, at any depth, under a key whose name contains key, token,
//     secret, password, passwd, auth, credential or cookie (booleans and
//     empty strings are kept: they reveal nothing);
//   - passwords in URLs (scheme://user:password@host) and URL query
//     parameters with such names;
//   - strings shaped like provider keys (sk-…, AKIA…, Bearer …, ghp_…,
//     xox…-, AIza…, JWTs) wherever they appear.
//
// It is meant for GET /config and startup logs and never modifies c.
func (c *Config) Redacted() map[string]any {
	out := jsonValue(reflect.ValueOf(*c)).(map[string]any)
	redactTree(out)
	redactOTelHeaders(out)
	redactAlertURLs(out)
	if llm, ok := out["llm"].(map[string]any); ok {
		llm["api_key_configured"] = c.LLM.APIKey != ""
	}
	return out
}

// jsonValue converts v into maps, slices and scalars encoding/json accepts.
func jsonValue(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch v.Type() {
	case reflect.TypeFor[Duration]():
		return v.Interface().(Duration).jsonValue()
	case reflect.TypeFor[ByteSize]():
		return v.Interface().(ByteSize).String()
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return jsonValue(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for name, f := range yamlFields(v.Type()) {
			m[name] = jsonValue(v.FieldByIndex(f.Index))
		}
		return m
	case reflect.Map:
		if v.IsNil() {
			return map[string]any{}
		}
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			m[fmt.Sprint(it.Key().Interface())] = jsonValue(it.Value())
		}
		return m
	case reflect.Slice, reflect.Array:
		s := make([]any, v.Len())
		for i := range s {
			s[i] = jsonValue(v.Index(i))
		}
		return s
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
		return fmt.Sprint(v.Float()) // JSON has no NaN or Inf
	}
	return fmt.Sprint(v.Interface())
}

// redactTree redacts in place a tree produced by jsonValue.
func redactTree(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if isSecretKey(k) {
				v[k] = redactSecret(e)
			} else {
				v[k] = redactTree(e)
			}
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = redactTree(e)
		}
		return v
	case string:
		return redactString(v)
	}
	return v
}

func redactSecret(v any) any {
	switch v := v.(type) {
	case nil, bool:
		return v
	case string:
		if v == "" {
			return v
		}
	}
	return RedactedValue
}

var secretKeyWords = []string{"key", "token", "secret", "password", "passwd", "auth", "credential", "cookie"}

func isSecretKey(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretKeyWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`sk-[A-Za-z0-9_\-]{16,}`),
	regexp.MustCompile(`AKIA[A-Z0-9]{16}`),
	regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{20,}`),
	regexp.MustCompile(`xox[abprs]-[A-Za-z0-9\-]{10,}`),
	regexp.MustCompile(`AIza[0-9A-Za-z_\-]{30,}`),
	regexp.MustCompile(`eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}`),
}

var bearerPattern = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{8,}`)

// redactString hides URL passwords, secret query parameters and
// key-shaped substrings of s.
func redactString(s string) string {
	if s == "" {
		return s
	}
	s = RedactURL(s)
	for _, re := range secretPatterns {
		s = re.ReplaceAllString(s, RedactedValue)
	}
	return bearerPattern.ReplaceAllString(s, "${1}"+RedactedValue)
}

// RedactURL replaces the password of scheme://user:password@host and the
// values of query parameters with secret names, for logs and views of a
// configured URL. Anything not shaped like a URL is returned unchanged.
func RedactURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	head, rest := s[:i+3], s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
			rest = rest[:colon+1] + RedactedValue + rest[at:]
		}
	}
	q := strings.IndexByte(rest, '?')
	if q < 0 {
		return head + rest
	}
	query, fragment := rest[q+1:], ""
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query, fragment = query[:h], query[h:]
	}
	params := strings.Split(query, "&")
	for j, p := range params {
		if name, _, ok := strings.Cut(p, "="); ok && isSecretKey(name) {
			params[j] = name + "=" + RedactedValue
		}
	}
	return head + rest[:q+1] + strings.Join(params, "&") + fragment
}
