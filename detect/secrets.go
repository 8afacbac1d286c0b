package detect

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
)

// Secret rules.
//
// The provider-key rules below are taken, as data (regular expression,
// keywords, entropy floor, allow-list), from the default rule set of
// gitleaks v8 (config/gitleaks.toml, https://github.com/gitleaks/gitleaks,
// MIT licence, Copyright (c) 2019 Zachary Rice). No gitleaks code is used.
// Rule ids keep gitleaks' names with a "secret." prefix so a finding can be
// traced back to its source rule. Deviations: the JWT keyword is "eyj"
// instead of "ey" (a JWT header always starts with `{"` = "eyJ", and "ey"
// hits every other English word), JWT headers are decoded and must be a JSON
// object with a JOSE parameter ("alg", "typ", "kid", …), private-key bodies must hold at least 64 base64
// characters, and placeholders ("xxxx", "your_key", "EXAMPLE", …) are
// dropped for every rule.
//
// Hand-written here: secret.openai-api-key-unmarked (project/service keys
// without the T3BlbkFJ marker), secret.aws-secret-access-key (a 40-character
// secret within 300 bytes of an access key id or its key name),
// secret.url-credentials (user:password@ in a URL) and
// secret.generic-assignment (gitleaks' generic-api-key idea — a key word,
// an assignment, a high-entropy value — as a byte scanner instead of its
// very broad regular expression, with its entropy floor of 3.5 and a subset
// of its stop words).

// glEnd is gitleaks' token end, widened with the punctuation that ends a
// token in prose and JSON (",", ")", "]", "}", "." before a space).
const glEnd = "(?:[\\x60'\"\\s;,)\\]}<>|&]|\\.(?:\\s|$)|\\\\[nr]|$)"

func secretRule(id string, sev Severity, re string, entropy float64, before, after int, kws ...string) *regexRule {
	return &regexRule{cat: CategorySecret, id: "secret." + id, re: regexp.MustCompile(re), kws: kws,
		before: before, after: after, sev: sev, conf: 0.9, group: 1, entropy: entropy, check: checkSecret}
}

func secretRules() []*regexRule {
	gcpAllow := []string{"AIzaSyabcdefghijklmnopqrstuvwxyz1234567", "AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs",
		"AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM", "AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU",
		"AIzaSyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0", "AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A",
		"AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c", "AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4",
		"AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY", "AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM",
		"AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ", "AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g",
		"AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU", "AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw",
		"AIzaSyB8qGxt4ec15vitgn44duC5ucxaOi4FmqE", "AIzaSyA8vmApnrHNFE0bApF4hoZ11srVL_n0nvY"}
	gcp := secretRule("gcp-api-key", SeverityHigh, `\b(AIza[\w-]{35})`+glEnd, 4, 8, 48, "aiza")
	gcp.check = func(c *scanCtx, r *regexRule, m []int) (float32, Severity, bool) {
		v := c.t[m[2]:m[3]]
		for _, a := range gcpAllow {
			if v == a {
				return 0, 0, false
			}
		}
		return checkSecret(c, r, m)
	}
	aws := secretRule("aws-access-token", SeverityHigh, `\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`, 3, 8, 24, "a3t", "akia", "asia", "abia", "acca")
	aws.check = func(c *scanCtx, r *regexRule, m []int) (float32, Severity, bool) {
		if strings.HasSuffix(c.t[m[2]:m[3]], "EXAMPLE") {
			return 0, 0, false
		}
		return checkSecret(c, r, m)
	}
	stripe := secretRule("stripe-access-token", SeverityHigh, `\b((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99})`+glEnd, 2, 8, 110,
		"sk_test", "sk_live", "sk_prod", "rk_test", "rk_live", "rk_prod")
	stripe.check = func(c *scanCtx, r *regexRule, m []int) (float32, Severity, bool) {
		conf, sev, ok := checkSecret(c, r, m)
		if ok && c.t[m[2]+3:m[2]+7] == "test" {
			sev = SeverityLow // a test-mode key moves no money
		} else if ok {
			sev = SeverityCritical
		}
		return conf, sev, ok
	}
	jwt := secretRule("jwt", SeverityHigh, `\b(ey[a-zA-Z0-9]{15,}\.ey[a-zA-Z0-9\/\\_-]{17,}\.(?:[a-zA-Z0-9\/\\_-]{10,}={0,2})?)`+glEnd, 3, 4, 4096, "eyj")
	jwt.check = checkJWT
	pk := secretRule("private-key", SeverityCritical, `(?i)(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S-]{64,}?KEY(?: BLOCK)?-----)`, 0, 12, 12<<10, "-----begin")
	pk.check = checkPrivateKey
	pk.evidence = func(c *scanCtx, r *regexRule, m []int) string {
		v := c.t[m[2]:m[3]]
		head := v
		if i := strings.Index(v[5:], "-----"); i >= 0 {
			head = v[:i+10]
		}
		return head + "…[" + strconv.Itoa(len(v)) + " bytes]"
	}
	openaiLoose := secretRule("openai-api-key-unmarked", SeverityHigh, `\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250})`+glEnd, 4, 12, 260, "sk-proj-", "sk-svcacct-", "sk-admin-")
	openaiLoose.conf = 0.8

	return []*regexRule{
		pk,
		secretRule("anthropic-admin-api-key", SeverityCritical, `\b(sk-ant-admin01-[a-zA-Z0-9_\-]{93}AA)`+glEnd, 0, 16, 100, "sk-ant-admin01"),
		secretRule("anthropic-api-key", SeverityHigh, `\b(sk-ant-api03-[a-zA-Z0-9_\-]{93}AA)`+glEnd, 0, 16, 100, "sk-ant-api03"),
		secretRule("openai-api-key", SeverityHigh, `\b(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})\b|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})`+glEnd, 3, 100, 80, "t3blbkfj"),
		openaiLoose,
		aws,
		secretRule("github-fine-grained-pat", SeverityHigh, `(github_pat_\w{82})`, 3, 12, 84, "github_pat_"),
		secretRule("github-pat", SeverityHigh, `(ghp_[0-9a-zA-Z]{36})`, 3, 4, 38, "ghp_"),
		secretRule("github-oauth", SeverityHigh, `(gho_[0-9a-zA-Z]{36})`, 3, 4, 38, "gho_"),
		secretRule("github-app-token", SeverityHigh, `((?:ghu|ghs)_[0-9a-zA-Z]{36})`, 3, 4, 38, "ghu_", "ghs_"),
		secretRule("github-refresh-token", SeverityHigh, `(ghr_[0-9a-zA-Z]{36})`, 3, 4, 38, "ghr_"),
		secretRule("gitlab-pat-routable", SeverityHigh, `\b(glpat-[0-9a-zA-Z_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7})\b`, 4, 6, 320, "glpat-"),
		secretRule("gitlab-pat", SeverityHigh, `(glpat-[\w-]{20})`, 3, 6, 22, "glpat-"),
		secretRule("gitlab-ptt", SeverityHigh, `(glptt-[0-9a-f]{40})`, 3, 6, 42, "glptt-"),
		secretRule("gitlab-rrt", SeverityHigh, `(GR1348941[\w-]{20})`, 3, 9, 22, "gr1348941"),
		secretRule("gitlab-runner-authentication-token", SeverityHigh, `(glrt-[0-9a-zA-Z_\-]{20})`, 3, 5, 22, "glrt-"),
		secretRule("gitlab-deploy-token", SeverityHigh, `(gldt-[0-9a-zA-Z_\-]{20})`, 3, 5, 22, "gldt-"),
		secretRule("slack-config-access-token", SeverityHigh, `(?i)(xoxe.xox[bp]-\d-[A-Z0-9]{163,166})`, 2, 10, 180, "xoxe.xoxb-", "xoxe.xoxp-"),
		secretRule("slack-config-refresh-token", SeverityHigh, `(?i)(xoxe-\d-[A-Z0-9]{146})`, 2, 5, 160, "xoxe-"),
		secretRule("slack-bot-token", SeverityHigh, `(xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*)`, 3, 4, 120, "xoxb"),
		secretRule("slack-legacy-bot-token", SeverityHigh, `(xoxb-[0-9]{8,14}-[a-zA-Z0-9]{18,26})`, 2, 4, 50, "xoxb"),
		secretRule("slack-user-token", SeverityHigh, `(xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34})`, 2, 5, 90, "xoxp-", "xoxe-"),
		secretRule("slack-app-token", SeverityHigh, `(?i)(xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+)`, 2, 4, 160, "xapp"),
		secretRule("slack-legacy-token", SeverityHigh, `(xox[os]-\d+-\d+-\d+-[a-fA-F\d]+)`, 2, 4, 120, "xoxo", "xoxs"),
		secretRule("slack-legacy-workspace-token", SeverityHigh, `(xox[ar]-(?:\d-)?[0-9a-zA-Z]{8,48})`, 2, 4, 60, "xoxa", "xoxr"),
		secretRule("slack-webhook-url", SeverityMedium, `((?:https?://)?hooks.slack.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56})`, 0, 24, 80, "hooks.slack.com"),
		stripe,
		gcp,
		jwt,
		secretRule("huggingface-access-token", SeverityHigh, `\b(hf_(?i:[a-z]{34}))`+glEnd, 2, 3, 40, "hf_"),
		secretRule("npm-access-token", SeverityHigh, `(?i)\b(npm_[a-z0-9]{36})`+glEnd, 2, 4, 40, "npm_"),
		secretRule("pypi-upload-token", SeverityHigh, `(pypi-AgEIcHlwaS5vcmc[\w-]{50,1000})`, 3, 20, 1010, "pypi-ageichlwas5vcmc"),
		secretRule("sendgrid-api-token", SeverityHigh, `\b(SG\.(?i)[a-z0-9=_\-\.]{66})`+glEnd, 2, 3, 70, "sg."),
		secretRule("perplexity-api-key", SeverityHigh, `\b(pplx-[a-zA-Z0-9]{48})(?:[\x60'"\s;]|\\[nr]|$|\b)`, 4, 5, 52, "pplx-"),
		secretRule("databricks-api-token", SeverityHigh, `\b(dapi[a-f0-9]{32}(?:-\d)?)`+glEnd, 3, 4, 40, "dapi"),
		secretRule("digitalocean-pat", SeverityHigh, `\b(dop_v1_[a-f0-9]{64})`+glEnd, 3, 7, 68, "dop_v1_"),
		secretRule("shopify-access-token", SeverityHigh, `(shpat_[a-fA-F0-9]{32})`, 2, 6, 34, "shpat_"),
		secretRule("doppler-api-token", SeverityHigh, `(dp\.pt\.(?i)[a-z0-9]{43})`, 2, 6, 46, "dp.pt."),
		secretRule("grafana-service-account-token", SeverityHigh, `(?i)\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})`+glEnd, 3, 5, 46, "glsa_"),
		secretRule("vault-service-token", SeverityHigh, `\b(hvs\.[\w-]{90,120})`+glEnd, 3.5, 4, 124, "hvs."),
		secretRule("heroku-api-key-v2", SeverityHigh, `\b((HRKU-AA[0-9a-zA-Z_-]{58}))`+glEnd, 4, 7, 62, "hrku-aa"),
		secretRule("linear-api-key", SeverityHigh, `(lin_api_(?i)[a-z0-9]{40})`, 2, 8, 42, "lin_api_"),
		secretRule("notion-api-token", SeverityHigh, `\b(ntn_[0-9]{11}[A-Za-z0-9]{32}[A-Za-z0-9]{3})`+glEnd, 4, 4, 50, "ntn_"),
		secretRule("age-secret-key", SeverityCritical, `(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})`, 0, 16, 60, "age-secret-key-1"),
		secretRule("gitlab-pat-routable-v2", SeverityHigh, `\b(gl(?:pat|dt|rt|cbt|ft|oas)-[0-9a-zA-Z_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7})\b`, 4, 6, 320, "gldt-", "glrt-", "glcbt-", "glft-", "gloas-"),
		secretRule("azure-ad-client-secret", SeverityHigh, `(?:^|[\\'"\x60\s>=:(,)])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\'"\x60\s<),])`, 3, 8, 40, "q~"),
	}
}

// checkSecret applies the entropy floor, the placeholder filter and
// "first rule wins" for overlapping matches.
func checkSecret(c *scanCtx, r *regexRule, m []int) (float32, Severity, bool) {
	s, e := m[0], m[1]
	if r.group > 0 && m[2*r.group] >= 0 {
		s, e = m[2*r.group], m[2*r.group+1]
	}
	v := c.t[s:e]
	if r.entropy > 0 && shannon(v) < r.entropy {
		return 0, 0, false
	}
	if isPlaceholder(v) {
		return 0.2, r.sev, true
	}
	if c.covered(CategorySecret, s, e) {
		return 0, 0, false
	}
	return r.conf, r.sev, true
}

func checkJWT(c *scanCtx, r *regexRule, m []int) (float32, Severity, bool) {
	v := c.t[m[2]:m[3]]
	parts := strings.SplitN(v, ".", 3)
	// A JOSE header names at least one of its registered parameters; "alg"
	// is required by the standard but tokens minted by hand or by lenient
	// libraries carry only "typ" or "kid", and they authenticate all the same.
	if len(parts) < 2 || !jsonObjectB64(parts[0], "alg", "typ", "kid", "enc", "cty", "x5t", "jku") || !jsonObjectB64(parts[1]) {
		return 0, 0, false
	}
	return checkSecret(c, r, m)
}

// jsonObjectB64 reports whether s is base64url of a JSON object (holding
// one of keys when keys are given).
func jsonObjectB64(s string, keys ...string) bool {
	s = strings.TrimRight(s, "=")
	if len(s) > 8192 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil {
		return false
	}
	for _, k := range keys {
		if _, ok := obj[k]; ok {
			return true
		}
	}
	return len(keys) == 0
}

func checkPrivateKey(c *scanCtx, r *regexRule, m []int) (float32, Severity, bool) {
	v := c.t[m[2]:m[3]]
	// Skip the BEGIN line and any header lines, count base64 body bytes.
	body := v
	if i := strings.Index(v[5:], "-----"); i >= 0 {
		body = v[i+10:]
	}
	n := 0
	for i := 0; i < len(body); i++ {
		ch := body[i]
		if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '+' || ch == '/' {
			n++
		}
	}
	if n < 64 || strings.Contains(body, "...") || strings.Contains(body, "…") {
		return 0, 0, false
	}
	if isPlaceholder(body) {
		return 0.2, r.sev, true
	}
	return 0.95, r.sev, true
}

// shannon is the Shannon entropy of s in bits per byte.
func shannon(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

var placeholderWords = []string{"****", "example", "sample", "placeholder", "your_", "your-", "yourkey",
	"yourtoken", "redacted", "dummy", "changeme", "replace", "insert", "abcdefghij", "1234567890", "0123456789",
	"000000", "<", ">", "...", "…", "fake", "lorem", "secret_here", "key_here", "token_here"}

// isPlaceholder reports documentation stand-ins for secrets.
func isPlaceholder(v string) bool {
	if strings.Contains(v, "xxxx") || strings.Contains(v, "XXXX") {
		return true
	}
	l := lowerString(v)
	for _, w := range placeholderWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	// A value dominated by one character ("aaaaaaaa…", "00000…").
	var counts [256]int
	max := 0
	for i := 0; i < len(v); i++ {
		counts[v[i]]++
		if counts[v[i]] > max {
			max = counts[v[i]]
		}
	}
	return len(v) > 0 && max*2 > len(v)
}

// redactSecret keeps a recognisable prefix (a vendor tag such as "ghp_",
// "sk-ant-api03-", "AKIA") and the length, nothing of the secret itself.
func redactSecret(v string) string { return string(appendRedacted(nil, v)) }

func (c *scanCtx) secrets() {
	t := rules()
	if fullPath {
		for _, r := range t.secrets {
			c.secretRule(r)
		}
	} else {
		c.sc.rules = c.candidates(&t.secretsByKW, c.sc.rules)
		for w, set := range c.sc.rules {
			for set != 0 {
				c.secretRule(t.secrets[w*64+bits.TrailingZeros64(set)])
				set &= set - 1
			}
		}
	}
	c.awsSecret()
	c.urlCredentials()
	c.contextSecrets()
	c.genericAssignment()
}

// secretRule runs one secret rule, in the order of the list (an earlier
// rule's finding wins an overlap).
func (c *scanCtx) secretRule(r *regexRule) {
	c.runRule(r, func(m []int) {
		conf, sev, ok := r.check(c, r, m)
		if !ok {
			return
		}
		s, e := m[2], m[3]
		ev := ""
		if r.evidence != nil {
			ev = r.evidence(c, r, m)
		} else {
			ev = c.redact(c.t[s:e])
		}
		c.emit(CategorySecret, r.id, sev, conf, s, e, ev)
	})
}
