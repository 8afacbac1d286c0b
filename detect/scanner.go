package detect

import (
	"cmp"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/cylestio/perimeter/internal/defaults"
)

// Options configure a Scanner. The zero value scans every category with the
// defaults documented on each field.
type Options struct {
	// Categories enabled; zero means all.
	Categories Categories
	// MinSeverity drops findings below it (default info: keep all).
	MinSeverity Severity
	// MinConfidence drops findings below it; 0 means 0.5 (Presidio's
	// threshold in the original). Known test and documentation values
	// (test card numbers, 555-01xx phones, example.com, RFC 5737 addresses,
	// placeholder keys) score 0.2, private-range addresses 0.3, so the
	// default hides them and a lower value shows them.
	MinConfidence float32
	// MaxBytes bounds how much of each field is scanned; 0 means 1 MiB.
	// The rest is not looked at.
	MaxBytes int
	// Decode bounds the decoding of hidden base64/hex/URL-encoded layers.
	Decode DecodeLimits
	// MaxFindings bounds the findings of one Scan; 0 means 256. Further
	// findings are dropped (a text full of addresses is one problem, not
	// thousands), which also keeps deduplication linear.
	MaxFindings int
	// Limits are the thresholds of the usage checks (LLM06 storms, LLM10).
	Limits Limits
	// LeakMinWords is the verbatim overlap, in words, between a response
	// and its system prompt that counts as leakage; 0 means 20 (or half
	// the prompt when it is shorter than 40 words, at least 8).
	LeakMinWords int
}

// DecodeLimits bound the hidden-layer decoder. Zero fields take the
// defaults in brackets.
type DecodeLimits struct {
	MaxDepth int // layers decoded inside layers [2]; -1 disables decoding
	MaxBlob  int // bytes of one encoded blob considered [16384]
	MaxTotal int // decoded bytes per scanned field [65536]
	MaxBlobs int // blobs decoded per scanned field [32]
}

// Limits are usage thresholds. Zero fields take the defaults in brackets.
type Limits struct {
	MaxToolCallsPerWindow int           // LLM06 storm: tool calls within Usage.Window [30]
	StormWindow           time.Duration // only used to word the evidence when Usage.Window is 0 [1m]
	MaxSessionToolCalls   int           // LLM06: the original's max_tool_calls_per_session [50]
	MaxSessionTokens      int64         // LLM10: the original's max_tokens_per_session [50000]
	MaxCallTokens         int64         // LLM10: tokens of one call [100000]
	SpikeFactor           float64       // LLM10: call tokens ≥ factor × baseline is a spike [5]
	SpikeMinTokens        int64         // LLM10: spikes below this are ignored [2000]
	MaxRepeatedToolCalls  int           // LLM10 loop: identical consecutive tool calls [5]
	MaxSessionCalls       int           // LLM10: LLM calls per session [200]
}

func (o *Options) fill() {
	if o.MinConfidence == 0 {
		o.MinConfidence = 0.5
	}
	if o.Decode.MaxDepth == 0 {
		o.Decode.MaxDepth = 2 // -1 disables decoding
	}
	defaults.Set(&o.MaxFindings, 256)
	defaults.Set(&o.MaxBytes, 1<<20)
	defaults.Set(&o.LeakMinWords, 20)
	d := &o.Decode
	defaults.Set(&d.MaxBlob, 16<<10)
	defaults.Set(&d.MaxTotal, 64<<10)
	defaults.Set(&d.MaxBlobs, 32)
	l := &o.Limits
	defaults.Set(&l.MaxToolCallsPerWindow, 30)
	defaults.Set(&l.StormWindow, time.Minute)
	defaults.Set(&l.MaxSessionToolCalls, 50)
	defaults.Set(&l.MaxSessionTokens, 50000)
	defaults.Set(&l.MaxCallTokens, 100000)
	defaults.Set(&l.SpikeFactor, 5)
	defaults.Set(&l.SpikeMinTokens, 2000)
	defaults.Set(&l.MaxRepeatedToolCalls, 5)
	defaults.Set(&l.MaxSessionCalls, 200)
}

// Scanner runs the detectors with fixed options. It is immutable after
// NewScanner and safe for concurrent use; per-scan scratch memory is
// pooled.
type Scanner struct {
	opts Options
	pool sync.Pool
}

// NewScanner returns a Scanner with opts (see Options for defaults).
func NewScanner(opts Options) *Scanner {
	opts.fill()
	rules() // compile the shared tables now, not on the first scan
	s := &Scanner{opts: opts}
	s.pool.New = func() any { return new(scratch) }
	return s
}

// Options returns the scanner's options with defaults filled in.
func (s *Scanner) Options() Options { return s.opts }

var defaultScanner = sync.OnceValue(func() *Scanner { return NewScanner(Options{}) })

// Scan runs a Scanner with default options over in.
func Scan(in *Input) []Finding { return defaultScanner().Scan(in) }

// Scan returns the findings for in, ordered by source and offset.
func (s *Scanner) Scan(in *Input) []Finding { return s.AppendScan(nil, in) }

// AppendScan appends the findings for in to dst and returns it.
func (s *Scanner) AppendScan(dst []Finding, in *Input) []Finding {
	sc := s.pool.Get().(*scratch)
	// The scan state lives in the scratch too: the detectors' callbacks
	// make it escape, and a fresh one would cost an allocation per scan.
	c := &sc.ctx
	*c = scanCtx{s: s, in: in, sc: sc, out: dst, base: len(dst)}
	if in.Text != "" {
		c.field(SourceText, in.Text)
	}
	if in.ToolArgs != "" || in.ToolName != "" {
		c.field(SourceToolArgs, in.ToolArgs)
	}
	if in.Usage != nil {
		c.usage()
	}
	out, base := c.out, c.base
	*c = scanCtx{} // drop the references to the input and the findings
	sc.reset()
	s.pool.Put(sc)
	found := out[base:]
	if len(found) > 1 {
		slices.SortStableFunc(found, func(a, b Finding) int {
			if a.Source != b.Source {
				return cmp.Compare(a.Source, b.Source)
			}
			if a.Start != b.Start {
				return cmp.Compare(a.Start, b.Start)
			}
			return cmp.Compare(a.End, b.End)
		})
	}
	return out
}

// fullPath turns the prefilters off: every rule of a list runs (and finds
// nothing where its keywords are absent), the keyword automaton reads the
// text in one run, the hidden-layer search and the leetspeak check read
// every byte, and the leakage check shingles the system prompt on every
// scan and hashes every shingle. Tests set it to check that the
// fast path finds exactly what the full path finds.
var fullPath = false

// scratch is per-scan memory reused across scans.
type scratch struct {
	ctx    scanCtx
	norm   Normalized
	buf    []byte
	m      []int32
	hits   []kwHit
	ends   []int32
	dec    []byte
	words  []wordSpan
	low    []byte
	groups [24]group // digit groups of the cluster being classified
	blob   []byte    // a decoded blob before it is known to read as text
	// present is the set of keyword ids in the current hit list (mayHit).
	present []uint64
	// rules is the set of rules of a list that may match (candidates).
	rules []uint64
	// phoneChecks counts numbering-plan validations in this scan;
	// phoneSeen remembers their results.
	phoneChecks int
	phoneSeen   [maxPhoneChecks]phoneMemo
	phoneN      int
	phoneDigits [24]byte // the digits being validated (the regexp package keeps its input on the heap)
}

func (sc *scratch) reset() {
	sc.norm = Normalized{tags: sc.norm.tags[:0], seg: sc.norm.seg}
	sc.hits = sc.hits[:0]
	sc.ends = sc.ends[:0]
	sc.words = sc.words[:0]
	sc.phoneChecks, sc.phoneN = 0, 0
	if cap(sc.buf) > 4<<20 {
		sc.buf, sc.m = nil, nil
	}
}

// scanCtx is the state of one Scan call.
type scanCtx struct {
	s    *Scanner
	in   *Input
	sc   *scratch
	out  []Finding
	base int
	// arena holds this scan's evidence strings (evidence_arena.go).
	arena []byte

	src    Source
	orig   string      // the field as given (truncated to MaxBytes)
	n      *Normalized // its detection view
	t      string      // the text being matched: n.Text, or a decoded layer
	hits   []kwHit     // keyword hits in t
	layer  string      // "" or the encoding of the decoded layer t
	lspan  span        // the encoded blob's span in orig when layer != ""
	depth  int
	budget int // decoded bytes left
	blobs  int // blobs left

	// keyword filter of hits (mayHit)
	hmask    [4]uint64
	hmaskOf  *kwHit
	hmaskLen int
}

func (c *scanCtx) enabled(cat Category) bool { return c.s.opts.Categories.Has(cat) }

func (c *scanCtx) field(src Source, text string) {
	if len(text) > c.s.opts.MaxBytes {
		text = text[:c.s.opts.MaxBytes]
	}
	c.src, c.orig = src, text
	sc := c.sc
	sc.buf, sc.m = normalizeInto(&sc.norm, text, sc.buf, sc.m)
	c.n = &sc.norm
	c.layer, c.depth = "", 0
	c.budget, c.blobs = c.s.opts.Decode.MaxTotal, c.s.opts.Decode.MaxBlobs
	c.text(c.n.Text)
	if src == SourceText {
		c.smuggling()
		c.leakage()
	}
	if src == SourceToolArgs {
		c.toolName()
	}
}

// text runs the text detectors over t (the field or a decoded layer).
func (c *scanCtx) text(t string) {
	c.t = t
	start := len(c.sc.hits)
	c.sc.hits = rules().kw.scan(t, c.sc.hits)
	c.hits = c.sc.hits[start:]
	if c.layer == "" {
		if c.enabled(CategoryPII) {
			c.pii()
		}
	}
	if c.enabled(CategorySecret) {
		c.secrets()
	}
	if c.injectionApplies() && c.enabled(CategoryInjection) {
		c.injection()
		c.deobfuscate()
	}
	if c.in.Direction == Response && c.layer == "" {
		if c.enabled(CategoryOutput) {
			c.output()
		}
		if c.src == SourceToolArgs && c.enabled(CategoryAgency) {
			c.agency()
		}
	}
	if c.s.opts.Decode.MaxDepth > 0 && c.depth < c.s.opts.Decode.MaxDepth {
		c.decodeLayers()
	}
	c.sc.hits = c.sc.hits[:start]
}

// emit records a finding for the span [start, end) of c.t.
func (c *scanCtx) emit(cat Category, rule string, sev Severity, conf float32, start, end int, evidence string) {
	o := &c.s.opts
	if !o.Categories.Has(cat) || conf < o.MinConfidence || len(c.out)-c.base >= o.MaxFindings {
		return
	}
	owasp := ""
	switch cat {
	case CategoryPII, CategorySecret:
		if c.in.Direction == Response {
			owasp = owaspDisclosure
			sev = sev.raise()
		}
	case CategoryInjection:
		owasp = owaspInjection
	case CategoryOutput:
		owasp = owaspOutput
	case CategoryAgency:
		owasp = owaspAgency
	case CategoryPromptLeak:
		owasp = owaspPromptLeak
	case CategoryConsumption:
		owasp = owaspConsumption
	}
	if rule == ruleExtraction {
		owasp = owaspPromptLeak
	}
	if sev < o.MinSeverity {
		return
	}
	if conf > 1 {
		conf = 1
	}
	f := Finding{Category: cat, Rule: rule, Severity: sev, Confidence: conf, Source: c.src,
		Evidence: evidence, OWASP: owasp, Decoded: c.layer}
	switch {
	case c.src == SourceUsage:
	case c.layer != "":
		f.Start, f.End = c.lspan.start, c.lspan.end
	default:
		f.Start, f.End = c.n.Original(start, end)
	}
	// One finding per rule and span: a layer may repeat what the plain
	// text already showed.
	for i := c.base; i < len(c.out); i++ {
		g := &c.out[i]
		if g.Rule == f.Rule && g.Source == f.Source && g.Start < f.End && f.Start < g.End {
			if f.Confidence > g.Confidence {
				g.Confidence = f.Confidence
			}
			g.Start, g.End = min(g.Start, f.Start), max(g.End, f.End)
			return
		}
	}
	c.out = append(c.out, f)
}

// reports reports whether emit would keep a finding of cat at conf (as far
// as category, confidence and the findings cap decide), so that a detector
// renders evidence only for findings that are kept.
func (c *scanCtx) reports(cat Category, conf float32) bool {
	o := &c.s.opts
	return o.Categories.Has(cat) && conf >= o.MinConfidence && len(c.out)-c.base < o.MaxFindings
}

// covered reports whether a finding of cat already overlaps [start, end)
// of c.t (used to let specific rules win over generic ones).
func (c *scanCtx) covered(cat Category, start, end int) bool {
	var os, oe int
	if c.layer != "" {
		os, oe = c.lspan.start, c.lspan.end
	} else {
		os, oe = c.n.Original(start, end)
	}
	for i := c.base; i < len(c.out); i++ {
		g := &c.out[i]
		if g.Category == cat && g.Source == c.src && g.Start < oe && os < g.End {
			return true
		}
	}
	return false
}

// hasHit reports whether c.hits holds one of ids (m is their 256-bit
// filter). Two filters answer it without walking the hit list: the 256-bit
// one (keyword id mod 256), tested in four words, and, when that passes,
// the exact set of keyword ids present. Both are rebuilt when c.hits
// changes.
func (c *scanCtx) hasHit(ids []int32, m *[4]uint64) bool {
	if !c.mayHitMask(m) {
		return false
	}
	present := c.sc.present
	for _, id := range ids {
		if present[id>>6]&(1<<(id&63)) != 0 {
			return true
		}
	}
	return false
}

// mayHitMask is the 256-bit filter alone: true when c.hits may hold one of
// the ids m was built from.
func (c *scanCtx) mayHitMask(m *[4]uint64) bool {
	if len(c.hits) == 0 {
		return false
	}
	c.filterHits()
	return c.hmask[0]&m[0]|c.hmask[1]&m[1]|c.hmask[2]&m[2]|c.hmask[3]&m[3] != 0
}

// filterHits rebuilds the filters of c.hits when the hit list changed.
func (c *scanCtx) filterHits() {
	if p := unsafe.SliceData(c.hits); p != c.hmaskOf || len(c.hits) != c.hmaskLen {
		c.hmask = [4]uint64{}
		present := c.sc.present
		if n := (len(rules().words) + 63) / 64; len(present) != n {
			present = make([]uint64, n)
			c.sc.present = present
		} else {
			clear(present)
		}
		for _, h := range c.hits {
			c.hmask[(h.id>>6)&3] |= 1 << (h.id & 63)
			present[h.id>>6] |= 1 << (h.id & 63)
		}
		c.hmaskOf, c.hmaskLen = p, len(c.hits)
	}
}

// presentKeywords returns the set of keyword ids in c.hits (nil when there
// are none), valid until c.hits changes.
func (c *scanCtx) presentKeywords() []uint64 {
	if len(c.hits) == 0 {
		return nil
	}
	c.filterHits()
	return c.sc.present
}

// hitEnds appends to dst the end offsets of hits of the keyword ids in ids
// (m is their 256-bit filter).
func (c *scanCtx) hitEnds(dst []int32, ids []int32, m *[4]uint64) []int32 {
	if !c.hasHit(ids, m) {
		return dst
	}
	for _, h := range c.hits {
		if m[(h.id>>6)&3]&(1<<(h.id&63)) == 0 {
			continue
		}
		for _, id := range ids {
			if h.id == id {
				dst = append(dst, h.end)
				break
			}
		}
	}
	return dst
}
