package detect

import (
	"crypto/sha256"
	"math/bits"
	"strings"
)

var walletWords = newWordList("wallet", "btc", "bitcoin", "eth", "ether", "usdt", "usdc", "crypto", "send", "address",
	"pay", "deposit", "withdraw", "erc20", "erc-20", "metamask", "coin")

// exampleWallets are documentation examples, test vectors and burn
// addresses (lower-cased for bech32 and Ethereum).
var exampleWallets = map[string]bool{
	"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2": true, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy": true,
	"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa": true, "1111111111111111111114oLvT2": true,
	"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq": true, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4": true,
	"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs": true, "bc1sw50qgdz25j": true,
	"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y": true,
	"0x000000000000000000000000000000000000dead":                                 true, "0x0000000000000000000000000000000000000000": true,
	"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed": true, "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359": true,
	"0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb": true, "0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb": true,
}

const b58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var b58Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(b58Alphabet); i++ {
		t[b58Alphabet[i]] = int8(i)
	}
	return
}()

// base58 checks a legacy Bitcoin address (P2PKH "1…", P2SH "3…",
// base58check with a double-SHA-256 checksum) starting at s; it returns
// its end, or s if there is none.
func (c *scanCtx) base58(s int) int {
	t := c.t
	e := s
	for e < len(t) && e-s <= 35 && b58Index[t[e]] >= 0 {
		e++
	}
	if e-s < 26 || e-s > 35 || e < len(t) && (isAlnum(t[e]) || t[e] == '_') {
		return s
	}
	v := t[s:e]
	dec, ok := b58Decode(v)
	if !ok || len(dec) != 25 || dec[0] != 0x00 && dec[0] != 0x05 {
		return s
	}
	h1 := sha256.Sum256(dec[:21])
	h2 := sha256.Sum256(h1[:])
	if string(h2[:4]) != string(dec[21:]) {
		return s
	}
	c.emitBTC(s, e, 0.85, v, 4)
	return e
}

// emitBTC reports the Bitcoin address t[s:e], its checksum verified, with
// confidence conf, 0.95 with wallet words around it, 0.2 when key (the
// address as exampleWallets lists it) is a documentation example. The
// evidence shows the first prefix characters and the last four.
func (c *scanCtx) emitBTC(s, e int, conf float32, key string, prefix int) {
	if c.context(s, e, 48, 16, walletWords) {
		conf = 0.95
	}
	if exampleWallets[key] {
		conf = 0.2
	}
	v := c.t[s:e]
	c.emit(CategoryPII, ruleWallet, SeverityLow, conf, s, e, "btc "+v[:prefix]+"…"+v[len(v)-4:])
}

// b58Decode decodes a base58 string of at most 35 characters.
func b58Decode(s string) ([]byte, bool) {
	var out [40]byte // big-endian accumulator
	n := 0           // bytes in use, at the end of out
	for i := 0; i < len(s); i++ {
		carry := int(b58Index[s[i]])
		if carry < 0 {
			return nil, false
		}
		for j := len(out) - 1; j >= len(out)-n; j-- {
			carry += 58 * int(out[j])
			out[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			if n == len(out) {
				return nil, false
			}
			n++
			out[len(out)-n] = byte(carry)
			carry >>= 8
		}
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	res := make([]byte, zeros+n)
	copy(res[zeros:], out[len(out)-n:])
	return res, true
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32 checks a SegWit address (bech32 for v0, bech32m for v1+) starting
// at s.
func (c *scanCtx) bech32(s int) {
	t := c.t
	if s > 0 && (isAlnum(t[s-1]) || t[s-1] == '_') {
		return
	}
	e := s
	for e < len(t) && e-s <= 90 && isAlnum(t[e]) {
		e++
	}
	if e-s < 14 || e-s > 74 {
		return
	}
	v := t[s:e]
	lower := strings.ToLower(v)
	if lower != v && strings.ToUpper(v) != v {
		return // mixed case is invalid bech32
	}
	data := make([]byte, 0, len(lower)-3)
	for i := 3; i < len(lower); i++ {
		k := strings.IndexByte(bech32Charset, lower[i])
		if k < 0 {
			return
		}
		data = append(data, byte(k))
	}
	if len(data) < 7 {
		return
	}
	chk := bech32Polymod(append(bech32HRPExpand("bc"), data...))
	ver := data[0]
	if ver == 0 && chk != 1 || ver > 0 && chk != 0x2bc830a3 || ver > 16 {
		return
	}
	progLen := (len(data) - 7) * 5 / 8
	if progLen < 2 || progLen > 40 || ver == 0 && progLen != 20 && progLen != 32 {
		return
	}
	c.emitBTC(s, e, 0.9, lower, 6)
}

func bech32HRPExpand(hrp string) []byte {
	out := make([]byte, 0, len(hrp)*2+1)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]>>5)
	}
	out = append(out, 0)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]&31)
	}
	return out
}

func bech32Polymod(v []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, x := range v {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(x)
		for i := 0; i < 5; i++ {
			if (top>>i)&1 != 0 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

// eth checks an Ethereum address ("0x" + 40 hex digits) at s. Mixed case
// must pass the EIP-55 checksum; single-case addresses carry no checksum
// and need a wallet word nearby.
func (c *scanCtx) eth(s int) {
	t := c.t
	if s > 0 && (isAlnum(t[s-1]) || t[s-1] == '_') || s+42 > len(t) {
		return
	}
	e := s + 2
	for e < len(t) && isHex(t[e]) {
		e++
	}
	if e-s != 42 || e < len(t) && (isAlnum(t[e]) || t[e] == '_') {
		return
	}
	v := t[s+2 : e]
	lower, upper := false, false
	for i := 0; i < len(v); i++ {
		if v[i] >= 'a' && v[i] <= 'f' {
			lower = true
		} else if v[i] >= 'A' && v[i] <= 'F' {
			upper = true
		}
	}
	conf := float32(0.45)
	ctx := c.context(s, e, 48, 16, walletWords)
	if lower && upper {
		if !eip55(v) {
			return
		}
		conf = 0.9
	}
	if ctx {
		conf += 0.3
	}
	if exampleWallets[strings.ToLower(t[s:e])] {
		conf = 0.2
	}
	c.emit(CategoryPII, ruleWallet, SeverityLow, conf, s, e, "eth 0x"+v[:4]+"…"+v[len(v)-4:])
}

// eip55 verifies the mixed-case checksum of a 40-hex-digit address.
func eip55(v string) bool {
	lower := strings.ToLower(v)
	h := keccak256([]byte(lower))
	for i := 0; i < 40; i++ {
		ch := v[i]
		if ch >= '0' && ch <= '9' {
			continue
		}
		nib := h[i/2]
		if i%2 == 0 {
			nib >>= 4
		}
		nib &= 0xf
		if (nib >= 8) != (ch >= 'A' && ch <= 'F') {
			return false
		}
	}
	return true
}

// keccak256 is the original Keccak-256 (pre-SHA-3 padding) used by
// Ethereum; the standard library only has FIPS SHA-3.
func keccak256(msg []byte) [32]byte {
	const rate = 136
	var st [25]uint64
	for len(msg) >= rate {
		for i := 0; i < rate/8; i++ {
			st[i] ^= le64(msg[i*8:])
		}
		keccakF(&st)
		msg = msg[rate:]
	}
	var last [rate]byte
	copy(last[:], msg)
	last[len(msg)] ^= 0x01
	last[rate-1] ^= 0x80
	for i := 0; i < rate/8; i++ {
		st[i] ^= le64(last[i*8:])
	}
	keccakF(&st)
	var out [32]byte
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			out[i*8+j] = byte(st[i] >> (8 * j))
		}
	}
	return out
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

var keccakRC = [24]uint64{
	0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
	0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
	0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
	0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
	0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
	0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
}

var keccakRot = [25]int{0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14}

func keccakF(a *[25]uint64) {
	var b [25]uint64
	var c, d [5]uint64
	for round := 0; round < 24; round++ {
		for x := 0; x < 5; x++ {
			c[x] = a[x] ^ a[x+5] ^ a[x+10] ^ a[x+15] ^ a[x+20]
		}
		for x := 0; x < 5; x++ {
			d[x] = c[(x+4)%5] ^ bits.RotateLeft64(c[(x+1)%5], 1)
		}
		for i := 0; i < 25; i++ {
			a[i] ^= d[i%5]
		}
		// rho and pi: b[y, 2x+3y] = rot(a[x, y], r[x, y])
		for x := 0; x < 5; x++ {
			for y := 0; y < 5; y++ {
				b[y+5*((2*x+3*y)%5)] = bits.RotateLeft64(a[x+5*y], keccakRot[x+5*y])
			}
		}
		for y := 0; y < 5; y++ {
			for x := 0; x < 5; x++ {
				a[x+5*y] = b[x+5*y] ^ (^b[(x+1)%5+5*y] & b[(x+2)%5+5*y])
			}
		}
		a[0] ^= keccakRC[round]
	}
}
