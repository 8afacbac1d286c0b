package detect

import (
	"strconv"
	"time"
)

// Usage checks: LLM06 tool-call storms and session tool-call bounds, LLM10
// token and loop spikes. detect keeps no state, so each limit is reported
// once, by the event that crosses it (the counters include the current
// event: a count c crosses limit L when c > L and c-1 <= L, session tokens
// when they exceed L and did not before this call's tokens); the
// repeated-call check reports at the limit and at every further multiple of
// it.
func (c *scanCtx) usage() {
	u := c.in.Usage
	l := &c.s.opts.Limits
	c.src = SourceUsage
	c.layer = ""
	if c.enabled(CategoryAgency) {
		if crosses(int64(u.ToolCallsInWindow), int64(l.MaxToolCallsPerWindow)) {
			w := u.Window
			if w <= 0 {
				w = l.StormWindow
			}
			c.emit(CategoryAgency, "llm06.tool_call_storm", SeverityHigh, 0.85, 0, 0,
				strconv.Itoa(u.ToolCallsInWindow)+" tool calls in "+w.Round(time.Second).String()+" (limit "+strconv.Itoa(l.MaxToolCallsPerWindow)+")")
		}
		if crosses(int64(u.SessionToolCalls), int64(l.MaxSessionToolCalls)) {
			c.emit(CategoryAgency, "llm06.session_tool_calls", SeverityMedium, 0.8, 0, 0,
				strconv.Itoa(u.SessionToolCalls)+" tool calls in the session (limit "+strconv.Itoa(l.MaxSessionToolCalls)+")")
		}
	}
	if !c.enabled(CategoryConsumption) {
		return
	}
	if u.SessionTokens > l.MaxSessionTokens && u.SessionTokens-u.CallTokens <= l.MaxSessionTokens {
		c.emit(CategoryConsumption, "llm10.session_tokens", SeverityMedium, 0.85, 0, 0,
			strconv.FormatInt(u.SessionTokens, 10)+" tokens in the session (limit "+strconv.FormatInt(l.MaxSessionTokens, 10)+")")
	}
	if u.CallTokens > l.MaxCallTokens {
		c.emit(CategoryConsumption, "llm10.call_tokens", SeverityMedium, 0.85, 0, 0,
			strconv.FormatInt(u.CallTokens, 10)+" tokens in one call (limit "+strconv.FormatInt(l.MaxCallTokens, 10)+")")
	}
	if u.BaselineCallTokens > 0 && u.CallTokens >= l.SpikeMinTokens && float64(u.CallTokens) >= l.SpikeFactor*u.BaselineCallTokens {
		ratio := float64(u.CallTokens) / u.BaselineCallTokens
		sev := SeverityLow
		if ratio >= 4*l.SpikeFactor {
			sev = SeverityMedium
		}
		c.emit(CategoryConsumption, "llm10.token_spike", sev, 0.75, 0, 0,
			strconv.FormatInt(u.CallTokens, 10)+" tokens, "+strconv.FormatFloat(ratio, 'f', 1, 64)+"× the agent's baseline")
	}
	if r, lim := u.RepeatedToolCalls, l.MaxRepeatedToolCalls; r >= lim && r%lim == 0 {
		sev := SeverityMedium
		if r >= 2*lim {
			sev = SeverityHigh
		}
		c.emit(CategoryConsumption, "llm10.tool_loop", sev, 0.85, 0, 0,
			strconv.Itoa(r)+" identical consecutive tool calls")
	}
	if crosses(int64(u.SessionCalls), int64(l.MaxSessionCalls)) {
		c.emit(CategoryConsumption, "llm10.session_calls", SeverityLow, 0.8, 0, 0,
			strconv.Itoa(u.SessionCalls)+" LLM calls in the session (limit "+strconv.Itoa(l.MaxSessionCalls)+")")
	}
}

func crosses(count, limit int64) bool { return count > limit && count-1 <= limit }
