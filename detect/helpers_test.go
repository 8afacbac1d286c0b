package detect

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// writeJSONL writes the samples to path, one JSON object a line.
func writeJSONL[T any](tb testing.TB, path string, ss []T) {
	var b strings.Builder
	for i := range ss {
		line, err := json.Marshal(&ss[i])
		if err != nil {
			tb.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// rnd is the random source of the sample generators (corpus and
// evaluation sets), with the draws both make.
type rnd struct{ r *rand.Rand }

func newRnd(s1, s2 uint64) rnd { return rnd{rand.New(rand.NewPCG(s1, s2))} }

func (g rnd) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g rnd) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g rnd) chars(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

// luhnComplete returns prefix padded with random digits to n digits, the
// last one the Luhn check digit.
func (g rnd) luhnComplete(prefix string, n int) string {
	body := prefix + g.digits(n-len(prefix)-1)
	for d := byte('0'); d <= '9'; d++ {
		if c := body + string(d); luhn([]byte(c)) {
			return c
		}
	}
	return ""
}

// group4 writes s in groups of four characters joined by sep.
func group4(s, sep string) string {
	var parts []string
	for i := 0; i < len(s); i += 4 {
		parts = append(parts, s[i:min(i+4, len(s))])
	}
	return strings.Join(parts, sep)
}

// ibanWithCheck returns the IBAN of country cc and account bban with its
// check digits (ISO 13616: mod 97 of the digits, letters as 10..35).
func ibanWithCheck(cc, bban string) string {
	var num strings.Builder
	for _, ch := range bban + cc + "00" {
		if ch >= 'A' && ch <= 'Z' {
			num.WriteString(fmt.Sprint(int(ch-'A') + 10))
		} else {
			num.WriteRune(ch)
		}
	}
	n, _ := new(big.Int).SetString(num.String(), 10)
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("%s%02d%s", cc, check, bban)
}
