package detect

import (
	"strings"
	"testing"
)

// TestNextDigit checks the word-at-a-time digit search against a byte
// loop at every offset of texts with digits at every position.
func TestNextDigit(t *testing.T) {
	texts := []string{"", "abc", benignParagraph, benignDigits, cleanAnswer, "/:;0123456789`~\xff\x80\x00 9"}
	for n := 0; n < 40; n++ {
		b := []byte(strings.Repeat("x/:y", 10))
		b[n] = byte('0' + n%10)
		texts = append(texts, string(b))
	}
	for _, s := range texts {
		for i := 0; i <= len(s)+1; i++ {
			want := len(s)
			for j := i; j < len(s); j++ {
				if s[j] >= '0' && s[j] <= '9' {
					want = j
					break
				}
			}
			if got := nextDigit(s, i); got != want {
				t.Fatalf("nextDigit(%q, %d) = %d, want %d", s, i, got, want)
			}
		}
	}
}
