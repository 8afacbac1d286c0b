package detect

import (
	"encoding/binary"
	"strings"
	"unsafe"
)

// PII rule ids.
const (
	ruleEmail  = "pii.email"
	rulePhone  = "pii.phone"
	ruleCard   = "pii.credit_card"
	ruleIBAN   = "pii.iban"
	ruleSSN    = "pii.us_ssn"
	ruleIP     = "pii.ip_address"
	ruleWallet = "pii.crypto_wallet"
)

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isAlpha(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
func isAlnum(b byte) bool { return isDigit(b) || isAlpha(b) }
func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

// nextDigit returns the index of the first ASCII digit of t at or after i,
// or len(t). It reads eight bytes at a time: XOR with '0' turns exactly
// the digits into bytes below 10, and the classic "has a byte less than n"
// test finds a word holding one.
func nextDigit(t string, i int) int {
	if i < 0 {
		i = 0
	}
	b := unsafe.Slice(unsafe.StringData(t), len(t))
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:]) ^ 0x3030303030303030
		if (x-0x0a0a0a0a0a0a0a0a)&^x&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if isDigit(b[i]) {
			return i
		}
	}
	return len(b)
}

// pii runs the PII recognisers over c.t. Each recogniser has its own file:
// pii_email.go, pii_digits.go (digit runs, classified into pii_card.go,
// pii_ssn.go and pii_phone.go), pii_ip.go and pii_iban.go; crypto wallets
// are in wallet.go.
func (c *scanCtx) pii() {
	t := c.t
	// E-mail: anchored on '@'.
	for i := strings.IndexByte(t, '@'); i >= 0; {
		end := c.email(i)
		if end <= i {
			end = i + 1
		}
		j := strings.IndexByte(t[end:], '@')
		if j < 0 {
			break
		}
		i = end + j
	}
	// Digits: cards, SSNs, phones, IPv4, IBAN, base58 wallets.
	for i := nextDigit(t, 0); i < len(t); i = nextDigit(t, c.digits(i)) {
	}
	// IPv6: anchored on "::" or hex groups around ':'.
	c.ipv6()
	// Bech32 and Ethereum wallets via keywords.
	rt := rules()
	for _, h := range c.hits {
		switch h.id {
		case rt.bech32KW[0]:
			c.bech32(int(h.end) - 3)
		case rt.ethKW[0]:
			c.eth(int(h.end) - 2)
		}
	}
}

// context reports whether any of words occurs (case-insensitively) within
// before bytes before s or after bytes after e.
func (c *scanCtx) context(s, e, before, after int, words *wordList) bool {
	t := c.t
	ws := max(0, s-before)
	we := min(len(t), e+after)
	return words.in(t[ws:s]) || words.in(t[e:we])
}
