package httprec

import "testing"

func TestIsSensitiveHeader(t *testing.T) {
	for _, h := range SensitiveHeaders {
		for _, name := range []string{h, toUpper(h)} {
			if !IsSensitiveHeader(name) {
				t.Errorf("%q not sensitive", name)
			}
		}
	}
	for _, name := range []string{"Authorization", "X-API-KEY", "Cookie", "proxy-Authorization"} {
		if !IsSensitiveHeader(name) {
			t.Errorf("%q not sensitive", name)
		}
	}
	for _, name := range []string{"content-type", "x-api-keys", "authorizatio", "", "x-cylestio-session-id"} {
		if IsSensitiveHeader(name) {
			t.Errorf("%q taken for a credential header", name)
		}
	}
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
