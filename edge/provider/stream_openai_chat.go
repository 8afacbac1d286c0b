package provider

// OpenAI Chat Completions chunks: choices[].delta with content, refusal
// and tool_calls pieces keyed by choice and index.

func (p *StreamParser) choices(d *dec) {
	if !d.EnterArr() {
		return
	}
	for pos := int64(0); ; pos++ {
		p.choice(d, pos)
		if !d.MoreArr() {
			break
		}
	}
}

// choice reads one choice of a chunk. Its index is the "index" member
// when that precedes "delta" (it always does in practice), else its
// position.
func (p *StreamParser) choice(d *dec, choice int64) {
	f := &p.f
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "index":
			if n, ok := d.Int(); ok {
				choice = n
			}
		case "delta", "message":
			p.chatDelta(d, choice)
		case "finish_reason":
			s, raw := strAndRaw(d)
			if choice == 0 && s.Present() {
				f.finish, f.finishRaw = s, raw
			}
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

func (p *StreamParser) chatDelta(d *dec, choice int64) {
	f := &p.f
	if !d.EnterObj() {
		return
	}
	for {
		switch string(d.Key()) {
		case "content":
			if s := d.StrOrSkip(); choice == 0 {
				f.text = s
			}
		case "refusal":
			if s := d.StrOrSkip(); choice == 0 {
				f.refusal = s
			}
		case "tool_calls":
			p.chatToolCalls(d, choice)
		default:
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

// chatToolCalls reads a delta's tool_calls pieces. Each is keyed by its
// choice and its index (its position when it has none).
func (p *StreamParser) chatToolCalls(d *dec, choice int64) {
	f := &p.f
	if !d.EnterArr() {
		return
	}
	for pos := int64(0); ; pos++ {
		f.ops = append(f.ops, toolDelta{})
		op := &f.ops[len(f.ops)-1]
		index := pos
		if chatToolCall(d, &op.call, &index) {
			op.key = choice<<20 | index&(1<<20-1)
		} else {
			f.ops = f.ops[:len(f.ops)-1]
		}
		if !d.MoreArr() {
			break
		}
	}
}

func (p *StreamParser) commitChat() {
	f := &p.f
	p.keepFirst(&p.id, f.id)
	p.keepFirst(&p.model, f.model)
	p.keepFirst(&p.fingerprint, f.fingerprint)
	if f.hasErr {
		p.setError(&f.err)
	}
	p.usage.merge(&f.usage)
	p.appendText(f.text)
	if f.finish.Present() {
		p.keep(&p.finish, f.finish)
		p.keepRaw(&p.finishRaw, f.finishRaw)
	}
	p.appendRefusal(f.refusal, false)
	for i := range f.ops {
		op := &f.ops[i]
		if c := p.call(op.key, true); c != nil {
			p.callMeta(c, op.call.ID, op.call.Name)
			p.appendArgs(c, op.call.Arguments)
		}
	}
	clear(f.ops)
}
