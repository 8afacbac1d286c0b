package detect

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestLeetMixedAtLeast checks the prefilter of the leetspeak layer against
// leetTokens' count on texts mixing words, leet words, numbers and
// symbols, at every threshold up to 4.
func TestLeetMixedAtLeast(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	parts := []string{"ignore", "1gn0r3", "pr3v10u5", "4ll", "mp3", "ipv4", "sha256", "2026", "11", "8", "a@b", "$5", "h3ll0",
		"P4ssW0rd", "r00t", "1337", "0x7f", "éé", "\xff", "n0t3", "ru13s", "@", "$$$", "user@example.com"}
	texts := []string{"", benignParagraph, cleanRequest, cleanAnswer, digits8K, findings1K}
	for n := 0; n < 5000; n++ {
		var b strings.Builder
		for k := r.IntN(30); k > 0; k-- {
			b.WriteString(parts[r.IntN(len(parts))])
			b.WriteByte(" .,-\n/:"[r.IntN(7)])
		}
		texts = append(texts, b.String())
	}
	for _, s := range texts {
		mixed, _ := leetTokens(s)
		for n := 1; n <= 4; n++ {
			if got, want := leetMixedAtLeast(s, n), mixed >= n; got != want {
				t.Fatalf("leetMixedAtLeast(%q, %d) = %v, leetTokens counts %d mixed", s, n, got, mixed)
			}
		}
	}
}
