package provider

// Anthropic Messages events: message_start, content_block_start/delta,
// message_delta, message_stop and error.

// deltaObject reads content_block_delta's and message_delta's delta.
func (p *StreamParser) deltaObject(d *dec) {
	f := &p.f
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "type":
			f.deltaType = d.StrOrSkip()
		case "text":
			f.text = d.StrOrSkip()
		case "partial_json":
			f.partial = d.StrOrSkip()
		case "stop_reason":
			s, raw := strAndRaw(d)
			f.finish = s
			if !isNullRaw(raw) {
				f.finishRaw = raw
			}
		case "stop_sequence":
			f.stopSeq = d.StrOrSkip()
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

func isNullRaw(raw []byte) bool { return raw == nil || string(raw) == "null" }

func (p *StreamParser) commitAnthropic() {
	f := &p.f
	t := f.typ
	switch {
	case t.Equal("content_block_delta"):
		switch {
		case f.deltaType.Equal("text_delta"):
			p.appendText(f.text)
		case f.deltaType.Equal("input_json_delta"):
			if c := p.call(f.index, false); c != nil {
				p.appendArgs(c, f.partial)
			}
		}
	case t.Equal("message_start"):
		p.keepFirst(&p.id, f.id)
		p.keepFirst(&p.model, f.model)
		p.usage.merge(&f.usage)
	case t.Equal("content_block_start"):
		switch {
		case f.block.typ.Equal("text"):
			p.appendText(f.block.text)
		case f.block.typ.Equal("tool_use"):
			if c := p.call(f.index, true); c != nil {
				p.callMeta(c, f.block.id, f.block.name)
				if len(f.block.input) <= maxMeta {
					c.initial = append(c.initial[:0], f.block.input...)
				}
			}
		}
	case t.Equal("message_delta"):
		if f.finishRaw != nil {
			p.keep(&p.finish, f.finish)
			p.keepRaw(&p.finishRaw, f.finishRaw)
		}
		if f.stopSeq.Present() {
			p.keep(&p.stopSeq, f.stopSeq)
		}
		// message_delta counts override message_start's; fields it
		// leaves out are kept.
		p.usage.merge(&f.usage)
	case t.Equal("message_stop"):
		p.complete = true
	case t.Equal("error"):
		p.isError = true
		if f.hasErr {
			p.setError(&f.err)
		}
	}
}
