package mockllm

// tokens is the cyclic vocabulary answers are made of. Each entry is one
// content delta and already JSON-escaped; it mixes leading spaces, newlines
// and multi-byte UTF-8 so proxies are exercised like real model output.
var tokens = [...]string{
	"Sure", "!", " Here", "'s", " a", " short", " answer", ":", " the", " mock",
	" upstream", " streams", " tokens", " at", " a", " steady", " pace", ",",
	" just", " like", " a", " real", " model", ".\\n\\n", "Each", " chunk",
	" carries", " one", " piece", " of", " text", " —", " café", " included",
	" —", " so", " proxies", " can", " check", " byte", "-for", "-byte",
	" fidelity", ".",
}

// ToolArguments is the JSON object every mock tool call passes as input.
const ToolArguments = `{"location":"San Francisco, CA","unit":"celsius"}`

// toolPreamble is the text block Anthropic answers put before a tool_use.
const toolPreamble = "I'll call the tool to get that."

func token(i int) string { return tokens[i%len(tokens)] }

// appendContent appends the JSON-escaped text of pieces 0..n-1.
func appendContent(dst []byte, n int) []byte {
	for i := range n {
		dst = append(dst, token(i)...)
	}
	return dst
}

// Content returns the decoded answer text made of n pieces: what a client
// reassembles from n streamed deltas, and the content of a non-streaming
// answer of n pieces.
func Content(n int) string {
	var b []byte
	for i := range n {
		t := token(i)
		for j := 0; j < len(t); j++ {
			if t[j] == '\\' && j+1 < len(t) && t[j+1] == 'n' {
				b = append(b, '\n')
				j++
				continue
			}
			b = append(b, t[j])
		}
	}
	return string(b)
}

// piecesFor returns how many pieces it takes for the escaped content to grow
// by at least extra bytes beyond n pieces.
func piecesFor(n, extra int) int {
	for extra > 0 {
		extra -= len(token(n))
		n++
	}
	return n
}

// argPieces is how many argument deltas a streamed tool call of the given
// chunk count carries: at least one, at most one per byte.
func argPieces(chunks int) int {
	return min(max(chunks, 1), len(ToolArguments))
}

// argPiece returns piece i of k of ToolArguments, split evenly by bytes.
func argPiece(i, k int) string {
	n := len(ToolArguments)
	return ToolArguments[i*n/k : (i+1)*n/k]
}
