package inspect

import "github.com/cylestio/perimeter/internal/jsonscan"

// Detection reads the attribute objects capture writes with the proxy's
// JSON scanner (internal/jsonscan): it finds members and elements in
// place and decodes only the strings detection reads, into a reused
// buffer. encoding/json decoded every attribute object into maps first,
// which cost four times the detection itself on a typical call.
// Malformed input yields "absent" (or the text read before the fault),
// never a panic.

// appendString appends the text of the JSON string raw to dst; false when
// raw is not one string. Invalid escapes and lone surrogates become
// U+FFFD, as with encoding/json.
func appendString(dst, raw []byte) ([]byte, bool) {
	d := jsonscan.NewDecoder(raw)
	if d.Peek() != '"' {
		return dst, false
	}
	s := d.Str()
	if d.End(); d.Failed() {
		return dst, false
	}
	return s.Append(dst), true
}

// appendContent appends the text of a content value: a string, or the text
// parts of a list of blocks ({"text": ...} or nested {"content": ...}),
// joined by newlines. It reports whether anything was appended.
func appendContent(dst, raw []byte) ([]byte, bool) {
	d := jsonscan.NewDecoder(raw)
	start := len(dst)
	dst = contentAt(&d, dst)
	return dst, len(dst) > start
}

func contentAt(d *jsonscan.Decoder, dst []byte) []byte {
	switch d.Peek() {
	case '"':
		if s := d.Str(); !d.Failed() {
			dst = s.Append(dst)
		}
		return dst
	case '[':
	default:
		return dst
	}
	start := len(dst)
	for range d.Elements() {
		var text jsonscan.Str
		var content []byte
		for k := range d.Members() {
			switch string(k) {
			case "text":
				text = d.StrOrSkip()
			case "content":
				content = d.Raw()
			}
		}
		if d.Failed() {
			break
		}
		mark := len(dst)
		if len(dst) > start {
			dst = append(dst, '\n')
		}
		before := len(dst)
		dst = text.Append(dst)
		if len(dst) == before {
			dst, _ = appendContent(dst, content)
		}
		if len(dst) == before {
			dst = dst[:mark]
		}
	}
	return dst
}
