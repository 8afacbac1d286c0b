package provider

// content is a content value read from a body.
type content struct {
	text Str
	kind ContentKind
	raw  []byte
}

// isTextBlock reports whether a block of this type carries its text in a
// "text" member that counts as the message's text.
func isTextBlock(t Str) bool {
	return t.Equal("text") || t.Equal("input_text") || t.Equal("output_text")
}

func isImageBlock(t Str) bool {
	return t.Equal("image") || t.Equal("image_url") || t.Equal("input_image")
}

// content reads a content value (message content, tool result content,
// Responses output, Anthropic system) and derives its text. Tool blocks
// found in a list are recorded against message idx; idx < 0 records none.
func (r *Request) content(idx int, images *int) content {
	d := &r.d
	start := d.Mark()
	var c content
	switch d.Peek() {
	case '"':
		c.text, c.kind = d.Str(), ContentString
	case 'n':
		d.Skip()
		c.kind = ContentNull
	case '[':
		c.kind = ContentArray
		base := r.j.base()
		if d.EnterArr() {
			for {
				r.block(idx, images)
				if !d.MoreArr() {
					break
				}
			}
		}
		c.text = r.j.join(base)
	default:
		c.kind = ContentOther
		d.Skip()
	}
	c.raw = d.Since(start)
	if c.kind == ContentOther && c.raw != nil {
		c.text = r.j.pyStr(c.raw)
	}
	return c
}

// joiner concatenates text parts. Parts are pushed on a stack while a
// list is read and popped by join when it ends, so nested lists (a
// tool_result's content inside a message's) join their own parts.
type joiner struct {
	buf   []byte // scratch: joined texts, reprs
	parts []Str
}

func (j *joiner) reset() {
	clear(j.parts)
	j.parts, j.buf = j.parts[:0], j.buf[:0]
}

func (j *joiner) base() int { return len(j.parts) }

func (j *joiner) push(s Str) { j.parts = append(j.parts, s) }

// join pops the parts pushed since base and returns their concatenation:
// the part itself when there is one (no copy), else a copy in buf. Raw
// bytes of escaped and plain parts join safely: a plain part holds no
// backslash.
func (j *joiner) join(base int) Str {
	parts := j.parts[base:]
	var s Str
	switch len(parts) {
	case 0:
	case 1:
		s = parts[0]
	default:
		n := len(j.buf)
		for _, p := range parts {
			j.buf = append(j.buf, p.Raw...)
			s.Escaped = s.Escaped || p.Escaped
		}
		s.Raw = j.buf[n:len(j.buf):len(j.buf)]
	}
	clear(parts)
	j.parts = j.parts[:base]
	return s
}

// pyStr appends Python's str() of raw to buf and returns it as a Str.
func (j *joiner) pyStr(raw []byte) Str {
	n := len(j.buf)
	j.buf, _ = AppendPyStr(j.buf, raw)
	return Str{Raw: j.buf[n:len(j.buf):len(j.buf)]}
}

// blockFields are the members of a content block that every reader
// wants: its type, its text, and a tool_use's id, name and input. One
// reader serves request content lists, Anthropic answer content and the
// stream's content_block_start.
type blockFields struct {
	typ, text, id, name Str
	input               []byte
}

// member reads the value of member k into b when k is one of b's, and
// reports whether it was.
func (b *blockFields) member(d *dec, k []byte) bool {
	switch string(k) {
	case "type":
		b.typ = d.StrOrSkip()
	case "text":
		b.text = d.StrOrSkip()
	case "id":
		b.id = d.StrOrSkip()
	case "name":
		b.name = d.StrOrSkip()
	case "input":
		b.input = d.Raw()
	default:
		return false
	}
	return true
}

// parse reads a block object into b; other members are skipped.
func (b *blockFields) parse(d *dec) {
	if !d.EnterObj() {
		return
	}
	for {
		if !b.member(d, d.Key()) {
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

// toolCall is the call a tool_use block makes; msg is the index of the
// message (or content position) carrying it.
func (b *blockFields) toolCall(msg int) ToolCall {
	return ToolCall{Message: msg, ID: b.id, Name: b.name, Arguments: Str{Raw: b.input}}
}

// block reads one element of a content list: a text part, an image, an
// Anthropic tool_use or tool_result, or anything else (skipped).
func (r *Request) block(idx int, images *int) {
	d := &r.d
	if d.Peek() != '{' {
		d.Skip()
		return
	}
	var b blockFields
	var toolUseID Str
	var inner content
	isError := false
	if d.EnterObj() {
		for {
			switch k := d.Key(); string(k) {
			case "tool_use_id":
				toolUseID = d.StrOrSkip()
			case "is_error":
				isError, _ = d.Bool()
			case "content":
				inner = r.content(-1, images)
			default:
				if !b.member(d, k) {
					d.Skip()
				}
			}
			if !d.MoreObj() {
				break
			}
		}
	}
	switch typ := b.typ; {
	case isTextBlock(typ):
		if b.text.Present() {
			r.j.push(b.text)
		}
	case isImageBlock(typ):
		*images++
	case idx < 0:
	case typ.Equal("tool_use"):
		r.ToolCalls = append(r.ToolCalls, b.toolCall(idx))
	case typ.Equal("tool_result"):
		r.ToolResults = append(r.ToolResults, ToolResult{
			Message: idx, CallID: toolUseID, Call: -1,
			Text: inner.text, Content: inner.kind, ContentRaw: inner.raw, IsError: isError,
		})
	}
}
