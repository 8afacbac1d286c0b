package detect

import (
	"strconv"
	"unsafe"
)

// Evidence strings outlive the scan (they are part of its findings), so
// they cannot live in pooled scratch memory; instead the findings of one
// scan share freshly allocated chunks, one allocation for many findings.
// A chunk is only ever appended to, so the strings already cut from it
// never change.

const arenaChunk = 512

// keep returns a string holding b that outlives the scan.
func (c *scanCtx) keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(c.arena)-len(c.arena) < len(b) {
		c.arena = make([]byte, 0, max(arenaChunk, len(b)))
	}
	n := len(c.arena)
	c.arena = append(c.arena, b...)
	return unsafe.String(&c.arena[n], len(b))
}

// quote is quoteEvidence with the excerpt cut at limit bytes.
func (c *scanCtx) quote(s string, limit int) string {
	var buf [200]byte
	cut := len(s) > limit
	if cut {
		s = s[:limit]
	}
	b := appendQuoted(buf[:0], s, cut)
	return c.keep(b)
}

// appendQuoted appends the printable excerpt of s in double quotes, with
// "…" before the closing quote when cut (at most 160 bytes of s).
func appendQuoted(b []byte, s string, cut bool) []byte {
	if len(s) > 160 {
		s, cut = s[:160], true
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\n' || ch == '\r' || ch == '\t':
			b = append(b, ' ')
		case ch < 0x20 || ch == 0x7f:
		default:
			b = append(b, ch)
		}
	}
	if cut {
		b = append(b, "…"...)
	}
	return append(b, '"')
}

// redact is redactSecret in the scan's evidence memory.
func (c *scanCtx) redact(v string) string {
	var buf [48]byte
	return c.keep(appendRedacted(buf[:0], v))
}

// mask returns d with all but its last keep digits masked, in the scan's
// evidence memory.
func (c *scanCtx) mask(d []byte, keep int) string {
	var buf [24]byte
	b := buf[:0]
	for i := range d {
		if i >= len(d)-keep {
			b = append(b, d[i])
		} else {
			b = append(b, '*')
		}
	}
	return c.keep(b)
}

// keepConcat joins parts in the scan's evidence memory.
func (c *scanCtx) keepConcat(parts ...string) string {
	var buf [64]byte
	b := buf[:0]
	for _, p := range parts {
		b = append(b, p...)
	}
	return c.keep(b)
}

// appendRedacted appends redactSecret(v).
func appendRedacted(b []byte, v string) []byte {
	p := 0
	for i := 0; i < len(v) && i < 14; i++ {
		if v[i] == '_' || v[i] == '-' || v[i] == '.' {
			p = i + 1
		}
	}
	if p == 0 && len(v) >= 20 {
		p = 4
	}
	if p > len(v)/3 {
		p = min(4, len(v)/4)
	}
	b = append(b, v[:p]...)
	b = append(b, "…["...)
	b = strconv.AppendInt(b, int64(len(v)), 10)
	return append(b, " chars]"...)
}
