package behavior

import (
	"slices"
	"strconv"
)

// Session is what the checks and the behavioural analysis know of one
// completed session. The caller aggregates it from stored events (one call
// is one llm.call.start, one tool call one tool.execution).
type Session struct {
	ID              string
	DurationSeconds float64 // first to last event
	Events          int64   // events of the session (derived findings excluded)
	LLMRequests     int64   // LLM calls
	ToolCalls       int64   // tool calls the model made
	// ToolSequence is the names of the tool calls in time order; it may
	// be a prefix of a longer session's calls (ToolCalls counts them all).
	ToolSequence []string
	Models       []string // models named by the session's LLM events
	InputTokens  int64
	OutputTokens int64
	// MeanInputTokens and MeanOutputTokens are per call, over calls that
	// reported a positive count.
	MeanInputTokens  float64
	MeanOutputTokens float64
	// AvailableTools are the tools the session's requests offered.
	AvailableTools []string
	// PIIFindings counts the session's personal-data findings.
	PIIFindings int64
}

// TotalTokens is input plus output tokens.
func (s *Session) TotalTokens() int64 { return s.InputTokens + s.OutputTokens }

// DurationMinutes is the session's duration in minutes.
func (s *Session) DurationMinutes() float64 { return s.DurationSeconds / 60 }

// eventInterval is the mean time between events, in seconds.
func (s *Session) eventInterval() float64 {
	return s.DurationSeconds / float64(max(s.Events-1, 1))
}

// usedTools are the distinct tools the session called.
func (s *Session) usedTools() map[string]bool {
	m := make(map[string]bool, len(s.ToolSequence))
	for _, t := range s.ToolSequence {
		m[t] = true
	}
	return m
}

// thresholds are the three cut points of a feature's bins.
type thresholds [3]float64

// bin names x's bin: very_low below t[0], low below t[1], medium below
// t[2], else high (the original never answers very_high).
func (t thresholds) bin(x float64) string {
	switch {
	case x < t[0]:
		return "very_low"
	case x < t[1]:
		return "low"
	case x < t[2]:
		return "medium"
	}
	return "high"
}

// binning holds each binned feature's cut points: p25/p50/p75 over the
// analysed sessions, or the original's fixed thresholds for a feature
// without values.
type binning struct {
	duration, tools, llm, tokens, interval, events thresholds
}

// Fixed thresholds (seconds, calls, requests, tokens, seconds, events).
var (
	fallbackDuration = thresholds{30, 60, 90}
	fallbackTools    = thresholds{1, 3, 8}
	fallbackLLM      = thresholds{5, 10, 20}
	fallbackTokens   = thresholds{1000, 5000, 15000}
	fallbackInterval = thresholds{5, 15, 30}
	fallbackEvents   = thresholds{10, 25, 50}
)

func newBinning(ss []Session) binning {
	n := len(ss)
	dur, tools, llm, tok, ev := make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n)
	var interval []float64
	for i := range ss {
		s := &ss[i]
		dur = append(dur, s.DurationSeconds)
		tools = append(tools, float64(s.ToolCalls))
		llm = append(llm, float64(s.LLMRequests))
		tok = append(tok, float64(s.TotalTokens()))
		ev = append(ev, float64(s.Events))
		if iv := s.eventInterval(); iv > 0 {
			interval = append(interval, iv)
		}
	}
	return binning{
		duration: quartiles(dur, fallbackDuration), tools: quartiles(tools, fallbackTools),
		llm: quartiles(llm, fallbackLLM), tokens: quartiles(tok, fallbackTokens),
		interval: quartiles(interval, fallbackInterval), events: quartiles(ev, fallbackEvents),
	}
}

func quartiles(xs []float64, fallback thresholds) thresholds {
	if len(xs) == 0 {
		return fallback
	}
	slices.Sort(xs)
	return thresholds{percentile(xs, 25), percentile(xs, 50), percentile(xs, 75)}
}

// shingles is the session's set of behavioural tokens: tools, tool
// n-grams, skip-grams, runs and anchors, models, and binned counts.
// The result is sorted and free of duplicates.
func shingles(s *Session, b *binning) []string {
	seq := s.ToolSequence
	out := make([]string, 0, 4*len(seq)+16)
	for i, t := range seq {
		out = append(out, "t:"+t)
		if i+1 < len(seq) {
			out = append(out, "b:"+t+">"+seq[i+1])
		}
		if i+2 < len(seq) {
			out = append(out, "g:"+t+">"+seq[i+1]+">"+seq[i+2])
		}
		// Skip-grams jump over gap tools.
		for gap := 1; gap <= 2; gap++ {
			if j := i + gap + 1; j < len(seq) {
				out = append(out, "s:"+t+">"+seq[j]+"@"+strconv.Itoa(gap))
			}
		}
	}
	for i := 0; i < len(seq); {
		j := i
		for j < len(seq) && seq[j] == seq[i] {
			j++
		}
		run := "3+"
		if j-i < 3 {
			run = strconv.Itoa(j - i)
		}
		out = append(out, "r:"+seq[i]+"x"+run)
		i = j
	}
	if len(seq) > 0 {
		out = append(out, "^:"+seq[0], "$:"+seq[len(seq)-1])
	}
	for _, m := range s.Models {
		out = append(out, "llm:"+m)
	}
	out = append(out, "duration:"+b.duration.bin(s.DurationSeconds))
	if s.ToolCalls == 0 {
		out = append(out, "tools:none")
	} else {
		out = append(out, "tools:"+b.tools.bin(float64(s.ToolCalls)))
		diversity := "low"
		if len(seq) > 0 {
			switch r := float64(len(s.usedTools())) / float64(len(seq)); {
			case r > 0.75:
				diversity = "high"
			case r > 0.4:
				diversity = "moderate"
			}
		}
		out = append(out, "tool_diversity:"+diversity)
	}
	out = append(out, "llm_requests:"+b.llm.bin(float64(s.LLMRequests)), "tokens:"+b.tokens.bin(float64(s.TotalTokens())))
	if s.MeanInputTokens > 0 && s.MeanOutputTokens > 0 {
		io := "input_heavy"
		switch r := s.MeanOutputTokens / s.MeanInputTokens; {
		case r > 1.5:
			io = "output_heavy"
		case r > 0.8:
			io = "balanced"
		}
		out = append(out, "io_ratio:"+io)
	}
	out = append(out, "event_interval:"+b.interval.bin(s.eventInterval()), "events:"+b.events.bin(float64(s.Events)))
	if s.LLMRequests > 0 && s.ToolCalls > 0 {
		p := "conversation_heavy"
		switch r := float64(s.ToolCalls) / float64(s.LLMRequests); {
		case r > 0.6:
			p = "tool_heavy"
		case r > 0.3:
			p = "balanced"
		}
		out = append(out, "pattern:"+p)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
