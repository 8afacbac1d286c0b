package session

import (
	"crypto/md5"
	"encoding/hex"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"github.com/cylestio/perimeter/internal/jsonscan"
)

// agentIDPrefix and the 12 hex digits after it form the original's
// computed agent id: "prompt-" + md5(system_prompt).hexdigest()[:12].
const (
	agentIDPrefix = "prompt-"
	agentIDLen    = len(agentIDPrefix) + 12
)

// PromptAgentID appends the agent id the original computes from a system
// prompt: "prompt-" and the first 12 hex digits of the md5 of its UTF-8
// text (md5 for id compatibility only, not for security). system is the
// prompt text, or a JSON string body when escaped is true (decoded before
// hashing, so both forms give the same id); pass "default-system" when the
// request has no system prompt, as the original does (AgentID does).
//
// For a string prompt the id is the original's. For a list of blocks
// (Anthropic "system": [...], Chat content parts) the original hashed
// Python's repr of the list — cache_control markers included, so turning
// on prompt caching changed the agent. Perimeter hashes the concatenated
// text of the text blocks instead (Conversation.System): a prompt keeps
// its agent id whether sent as a string or as blocks, with or without
// cache markers. A caller that needs the Python ids for block lists can
// pass the repr string as System.
func PromptAgentID(dst, system []byte, escaped bool) []byte {
	var sum [md5.Size]byte
	if !escaped {
		sum = md5.Sum(system)
	} else {
		h := md5.New()
		var buf [512]byte
		for len(system) > 0 {
			var chunk []byte
			chunk, system = jsonscan.AppendUnescapedPrefix(buf[:0], system, len(buf)/4)
			h.Write(chunk)
		}
		h.Sum(sum[:0])
	}
	dst = append(dst, agentIDPrefix...)
	var hx [12]byte
	hex.Encode(hx[:], sum[:6])
	return append(dst, hx[:]...)
}

// agentCache remembers computed agent ids by the fingerprint of the whole
// system prompt: md5 over a long prompt costs microseconds, xxhash tens of
// nanoseconds.
const agentCacheSize = 1024

type agentEntry struct {
	key uint64
	id  [agentIDLen]byte
}

type agentCache [agentCacheSize]atomic.Pointer[agentEntry]

// AgentID appends the request's agent id to dst: the agent id header when
// non-empty (used verbatim, as the original does), else PromptAgentID of
// the system prompt — "default-system" when the request has none, so that
// a request without one gets the original's prompt-7077bd40d00f. Ids of
// prompts seen before come from a cache and cost no allocation.
func (t *Table) AgentID(dst []byte, c *Conversation) []byte {
	if len(c.AgentIDHeader) > 0 {
		return append(dst, c.AgentIDHeader...)
	}
	sys, escaped := c.systemText()
	key := xxhash.Sum64(sys)
	if escaped {
		key = ^key
	}
	e := &t.agents[key%agentCacheSize]
	if p := e.Load(); p != nil && p.key == key {
		return append(dst, p.id[:]...)
	}
	var n agentEntry
	n.key = key
	PromptAgentID(n.id[:0], sys, escaped)
	e.Store(&n)
	return append(dst, n.id[:]...)
}
