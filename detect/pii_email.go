package detect

import "strings"

func isLocalByte(b byte) bool {
	return isAlnum(b) || b == '.' || b == '_' || b == '%' || b == '+' || b == '-'
}

func isDomainByte(b byte) bool { return isAlnum(b) || b == '.' || b == '-' }

var fileExtTLDs = map[string]bool{"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true,
	"js": true, "ts": true, "css": true, "json": true, "html": true, "md": true, "txt": true, "py": true, "go": true,
	"rs": true, "java": true, "zip": true, "gz": true, "tar": true, "pdf": true, "yaml": true, "yml": true,
	"xml": true, "lock": true, "sh": true, "tsx": true, "jsx": true, "vue": true, "rb": true, "php": true, "ico": true,
	"mjs": true, "cjs": true, "map": true, "wasm": true, "bin": true, "exe": true, "dll": true, "so": true,
	"docx": true, "doc": true, "xlsx": true, "xls": true, "pptx": true, "csv": true, "log": true, "bak": true, "tmp": true,
	"jar": true, "war": true, "mp4": true, "mp3": true, "mov": true, "avi": true, "heic": true, "tiff": true, "bmp": true}

var emailWords = newWordList("email", "e-mail", "mail", "contact", "reach")

var exampleDomains = []string{"example.com", "example.org", "example.net", "example.edu", "test.com", "domain.com",
	"email.com", "company.com", "yourdomain.com", "acme.com", "foo.com", "bar.com", "mail.com"}

var roleLocals = map[string]bool{"noreply": true, "no-reply": true, "support": true, "info": true, "sales": true,
	"admin": true, "webmaster": true, "postmaster": true, "help": true, "team": true, "hello": true, "contact": true,
	"security": true, "abuse": true, "billing": true, "privacy": true}

// email checks the address around the '@' at i and returns where it ends.
func (c *scanCtx) email(at int) int {
	t := c.t
	s := at
	for s > 0 && at-s < 64 && isLocalByte(t[s-1]) {
		s--
	}
	for s < at && (t[s] == '.' || t[s] == '-') {
		s++
	}
	e := at + 1
	for e < len(t) && e-at < 255 && isDomainByte(t[e]) {
		e++
	}
	for e > at+1 && (t[e-1] == '.' || t[e-1] == '-') {
		e--
	}
	if s == at || e <= at+3 {
		return e
	}
	local, domain := t[s:at], t[at+1:e]
	if strings.Contains(local, "..") || strings.Contains(domain, "..") || local[len(local)-1] == '.' {
		return e
	}
	if s > 0 && (t[s-1] == ':' || t[s-1] == '/' || t[s-1] == '@') {
		return e // URL credentials or a path, not an address
	}
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 {
		return e
	}
	tld := domain[dot+1:]
	if len(tld) < 2 || len(tld) > 24 {
		return e
	}
	for i := 0; i < len(tld); i++ {
		if !isAlpha(tld[i]) {
			return e
		}
	}
	ltld := lowerString(tld)
	if fileExtTLDs[ltld] {
		return e
	}
	if local == "git" && e < len(t) && t[e] == ':' {
		return e
	}
	if domain[0] == '-' || isScaleSuffix(domain[:strings.IndexByte(domain, '.')]) {
		return e // "logo@2x.png"-style asset names
	}
	conf := float32(0.9)
	ldom := lowerString(domain)
	llocal := lowerString(local)
	switch {
	case ltld == "test" || ltld == "tld" || ltld == "invalid" || ltld == "example" || ltld == "localhost" || ltld == "local":
		conf = 0.2
	case roleLocals[llocal]:
		conf = 0.75
	}
	for _, d := range exampleDomains {
		if ldom == d || strings.HasSuffix(ldom, "."+d) {
			conf = 0.2
		}
	}
	if strings.HasPrefix(ldom, "your") || strings.HasPrefix(ldom, "my-company") || strings.HasPrefix(ldom, "mycompany") {
		conf = 0.2 // "you@yourcompany.com" placeholders
	}
	if conf > 0.5 && c.context(s, e, 40, 0, emailWords) {
		conf += 0.05
	}
	ev := local[:1] + "***@***" + domain[dot:]
	c.emit(CategoryPII, ruleEmail, SeverityLow, conf, s, e, ev)
	return e
}
