package ascii

import "testing"

func TestFold(t *testing.T) {
	for _, c := range []struct {
		b, s       string
		fold, dash bool
	}{
		{"Content-Type", "content-type", true, true},
		{"CONTENT_TYPE", "content-type", false, true},
		{"x-api-key", "X-Api-Key", true, true},
		{"x-api-kez", "x-api-key", false, false},
		{"x-api-key", "x-api-key-", false, false},
		{"[", "{", false, false}, // 0x5b and 0x7b differ by 0x20 but are not letters
	} {
		if got := EqualFold([]byte(c.b), c.s); got != c.fold {
			t.Errorf("EqualFold(%q, %q) = %v", c.b, c.s, got)
		}
		if got := EqualFoldDash([]byte(c.b), c.s); got != c.dash {
			t.Errorf("EqualFoldDash(%q, %q) = %v", c.b, c.s, got)
		}
	}
	if testing.AllocsPerRun(100, func() { EqualFoldDash([]byte("Proxy_Authorization"), "proxy-authorization") }) != 0 {
		t.Error("EqualFoldDash allocates")
	}
}
