package detect

import (
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// genericKeywords are gitleaks generic-api-key's key words.
var genericKeywords = []string{"key", "token", "secret", "password", "passwd", "pwd", "api", "auth", "credential", "creds", "access"}

// genericNameAllow are key names that hold no secret (after gitleaks'
// generic-api-key allow-list).
var genericNameAllow = []string{"keyboard", "keyword", "monkey", "donkey", "turkey", "author", "access_id", "accessid",
	"accessor", "access_log", "accesslog", "key_id", "keyid", "api_version", "apiversion", "api_name", "apiname",
	"public_key", "publickey", "public-key", "primary_key", "foreign_key", "keypair", "key_pair", "keyspace", "keystore",
	"key_name", "keyname", "token_url", "tokenurl", "token_endpoint", "csrf", "api_url", "apiurl", "api_base",
	"apibase", "api_endpoint", "keycode", "key_size", "keysize", "key_length", "token_type", "tokentype",
	"max_tokens", "maxtokens", "max_output_tokens", "tokens_", "_tokens", "tokenizer", "sort_key", "partition_key",
	"hotkey", "api_host", "auth_url", "authurl", "auth_type", "authtype", "credential_id", "credentials_file",
	"key_file", "keyfile", "token_file", "secret_name", "secretname", "secret_ref", "keyvault", "key_vault",
	"auth_method", "access_level", "accesslevel", "access_mode", "api_key_id", "api_key_name", "apikeyid",
	"pwd_length", "password_length", "password_policy", "passwordpolicy", "min_password", "key_alias", "token_count",
	"access_type", "accesstype", "idempotency_key", "cache_key", "cachekey", "key_prefix", "sortkey", "partitionkey",
	"_key_path", "keypath", "api_type", "apitype", "oauth_url", "authorization_url", "credential_source",
	"password_reset", "reset_token_expiry", "token_expiry", "token_ttl", "access_key_id", "accesskeyid", "publishable"}

// genericValueStop are words whose presence in a value marks it as an
// identifier, not a secret (a subset of gitleaks' stop words).
var genericValueStop = []string{"http", "localhost", "example", "config", "default", "function", "return",
	"string", "value", "null", "true", "false", "undefined", "process.env", "getenv", "environ", "secret",
	"password", "token", "bearer", "header", "request", "response", "param", "version", "session"}

func isNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-' || b == '.'
}

func isValueByte(b byte) bool {
	return isNameByte(b) || b == '=' || b == '+' || b == '/' || b == '~'
}

// genericAssignment finds "<key word>… = <high-entropy value>".
func (c *scanCtx) genericAssignment() {
	rt := rules()
	t := c.t
	lastEnd := -1
	for _, h := range c.hits {
		if !slices.Contains(rt.genericKW, h.id) || int(h.end) <= lastEnd {
			continue
		}
		kwLen := len(rt.words[h.id])
		ns := int(h.end) - kwLen
		for k := 0; ns > 0 && k < 50 && isNameByte(t[ns-1]); k++ {
			ns--
		}
		ne := int(h.end)
		for k := 0; ne < len(t) && k < 20 && isNameByte(t[ne]); k++ {
			ne++
		}
		p := ne
		for k := 0; p < len(t) && k < 3 && (t[p] == ' ' || t[p] == '\t' || t[p] == '"' || t[p] == '\''); k++ {
			p++
		}
		op := 0
		switch {
		case strings.HasPrefix(t[p:], ":="), strings.HasPrefix(t[p:], "=>"), strings.HasPrefix(t[p:], "?="), strings.HasPrefix(t[p:], "||"):
			op = 2
		case p < len(t) && (t[p] == '=' || t[p] == ':'):
			op = 1
		}
		if op == 0 {
			continue
		}
		p += op
		for k := 0; p < len(t) && k < 5 && (t[p] == ' ' || t[p] == '\t' || t[p] == '"' || t[p] == '\'' || t[p] == '`' || t[p] == '='); k++ {
			p++
		}
		vs := p
		for p < len(t) && p-vs <= 150 && isValueByte(t[p]) {
			p++
		}
		ve := p
		for ve > vs && (t[ve-1] == '.' || t[ve-1] == '-') {
			ve--
		}
		if strings.HasPrefix(t[ve:], "..") {
			continue // cut short for display ("…" normalises to "..."): not the secret
		}
		if ve-vs < 10 || ve-vs > 150 {
			continue
		}
		if ve < len(t) {
			switch t[ve] {
			case '"', '\'', '`', ' ', '\t', '\n', '\r', ';', ',', '}', ')', ']', '\\', '.', '&':
			default:
				continue
			}
		}
		v := t[vs:ve]
		if !genericValueOK(v) {
			continue
		}
		// The allow-list is read only for names that are assigned a value
		// that could be a secret (most key words in code are not:
		// "apiKey)", "key.length", "apiKey := os.Getenv(…)").
		var nameBuf [96]byte
		name := lowerInto(nameBuf[:0], t[ns:ne])
		allowed := false
		for _, a := range genericNameAllow {
			if strings.Contains(name, a) {
				allowed = true
				break
			}
		}
		if allowed || c.covered(CategorySecret, vs, ve) {
			continue
		}
		conf := float32(0.6)
		sev := SeverityMedium
		for _, w := range []string{"secret", "password", "passwd", "token", "apikey", "api_key", "api-key", "private", "credential"} {
			if strings.Contains(name, w) {
				conf += 0.15
				if w == "secret" || w == "password" || w == "passwd" || w == "private" {
					sev = SeverityHigh
				}
				break
			}
		}
		if len(v) >= 24 {
			conf += 0.1
		}
		lastEnd = ve
		c.emit(CategorySecret, "secret.generic-assignment", sev, conf, vs, ve,
			t[ns:ne]+"=…["+strconv.Itoa(len(v))+" chars]")
	}
}

// lowerInto returns s lower-cased (ASCII) in buf, which it grows only when s
// does not fit; the result is valid while buf is.
func lowerInto(buf []byte, s string) string {
	for i := 0; i < len(s); i++ {
		buf = append(buf, lowerASCII(s[i]))
	}
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}

func genericValueOK(v string) bool {
	if shannon(v) < 3.5 || isPlaceholder(v) {
		return false
	}
	lower, upper, digit := letterClasses(v)
	if !digit || !(lower || upper) {
		return false // gitleaks drops ^[a-zA-Z_.-]+$; a secret without digits is rare enough
	}
	var buf [160]byte
	l := lowerInto(buf[:0], v)
	for _, w := range genericValueStop {
		if strings.Contains(l, w) {
			return false
		}
	}
	if v[0] == '/' || v[0] == '.' || strings.HasPrefix(l, "v1.") || strings.Count(v, ".") >= 2 && !strings.HasPrefix(v, "ey") {
		return false // paths, versions, dotted identifiers (JWTs are matched by their own rule)
	}
	if strings.Count(v, "/") >= 2 && !strings.ContainsAny(v, "+=") && strings.Count(v, "/") > len(v)/20 {
		return false // a path
	}
	return true
}

// awsSecret finds a 40-character AWS secret access key near an access key
// id or its key name.
func (c *scanCtx) awsSecret() {
	rt := rules()
	ends := c.hitEnds(c.sc.ends[:0], rt.awsSecretKW, &rt.awsSecretMask)
	c.sc.ends = ends
	t := c.t
	done := -1
	for _, e := range ends {
		ws, we := max(int(e)-300, done), min(int(e)+300, len(t))
		if ws < 0 {
			ws = 0
		}
		for i := ws; i < we; {
			if !isB64Std(t[i]) {
				i++
				continue
			}
			j := i
			for j < len(t) && isB64Std(t[j]) {
				j++
			}
			if j-i == 40 && (i == 0 || t[i-1] != '=') && (j == len(t) || t[j] != '=') {
				v := t[i:j]
				if awsSecretShape(v) && !isPlaceholder(v) && !c.covered(CategorySecret, i, j) {
					c.emit(CategorySecret, "secret.aws-secret-access-key", SeverityCritical, 0.85, i, j, c.redact(v))
				}
			}
			i = j
		}
		done = we
	}
}

func isB64Std(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '+' || b == '/'
}

// letterClasses tells whether v holds a lower-case ASCII letter, an
// upper-case one and a digit.
func letterClasses(v string) (lower, upper, digit bool) {
	for i := 0; i < len(v); i++ {
		switch b := v[i]; {
		case b >= 'a' && b <= 'z':
			lower = true
		case b >= 'A' && b <= 'Z':
			upper = true
		case b >= '0' && b <= '9':
			digit = true
		}
	}
	return lower, upper, digit
}

func awsSecretShape(v string) bool {
	lower, upper, digit := letterClasses(v)
	return lower && upper && digit && shannon(v) >= 4.0 && strings.Count(v, "/") < 8
}

var defaultPasswords = []string{"password", "pass", "passwd", "secret", "pwd", "changeme", "admin", "root", "test",
	"user", "username", "pw", "guest", "example", "mypassword", "yourpassword", "postgres", "mysql", "redis", "xxx",
	"foo", "bar", "p", "pw", "secretpassword"}

// urlCredentials finds scheme://user:password@host.
func (c *scanCtx) urlCredentials() {
	rt := rules()
	t := c.t
	for _, h := range c.hits {
		if h.id != rt.urlCredKW[0] {
			continue
		}
		s := int(h.end) - 3
		ss := s
		for ss > 0 && s-ss < 20 && (t[ss-1] >= 'a' && t[ss-1] <= 'z' || t[ss-1] >= 'A' && t[ss-1] <= 'Z' || t[ss-1] == '+') {
			ss--
		}
		if ss == s {
			continue
		}
		p := int(h.end)
		colon, at := -1, -1
		for q := p; q < len(t) && q-p < 256; q++ {
			b := t[q]
			if b == '@' {
				at = q
				break
			}
			if b == ':' && colon < 0 {
				colon = q
			}
			if b <= ' ' || b == '/' || b == '"' || b == '\'' || b == '<' || b == '>' {
				break
			}
		}
		// An empty user name ("redis://:password@host") is how Redis and
		// a few others take a password alone.
		if colon < 0 || at < 0 || colon < p || at-colon-1 < 3 || colon == p && at-colon-1 < 8 {
			continue
		}
		pw := t[colon+1 : at]
		conf := float32(0.85)
		lpw := lowerString(pw)
		for _, d := range defaultPasswords {
			if lpw == d {
				conf = 0.3
			}
		}
		if pw[0] == '$' || pw[0] == '{' || pw[0] == '<' || pw[0] == '%' || isPlaceholder(pw) {
			conf = 0.2
		}
		c.emit(CategorySecret, "secret.url-credentials", SeverityHigh, conf, colon+1, at,
			t[ss:colon+1]+"…["+strconv.Itoa(len(pw))+" chars]@")
	}
}
