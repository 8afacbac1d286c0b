package provider

// OpenAI Responses events: response.* lifecycle events carrying the
// response object, output items, text, refusal and argument deltas.

// itemObject reads output_item.added/done's item.
func (p *StreamParser) itemObject(d *dec) {
	it := &p.f.item
	if !d.EnterObj() {
		return
	}
	for {
		if !it.member(d, d.Key()) {
			d.Skip()
		}
		if !d.MoreObj() {
			break
		}
	}
}

func (p *StreamParser) commitResponses() {
	f := &p.f
	t := f.typ
	switch {
	case t.Equal("response.output_text.delta"):
		p.appendText(f.text)
	case t.Equal("response.function_call_arguments.delta"):
		if c := p.call(f.index, false); c != nil && !c.argsFinal {
			p.appendArgs(c, f.text)
		}
	case t.Equal("response.function_call_arguments.done"):
		if c := p.call(f.index, false); c != nil && f.arguments.Present() {
			p.finalArgs(c, f.arguments)
		}
	case t.Equal("response.output_item.added"), t.Equal("response.output_item.done"):
		if f.item.isToolCall() {
			if c := p.call(f.index, true); c != nil {
				p.callMeta(c, f.item.callID, f.item.name)
				if !f.item.args.IsEmpty() {
					p.finalArgs(c, f.item.args)
				}
			}
		}
	case t.Equal("response.refusal.delta"):
		p.appendRefusal(f.text, false)
	case t.Equal("response.refusal.done"):
		if f.refusal.Present() {
			p.appendRefusal(f.refusal, true)
		}
	case t.Equal("response.created"), t.Equal("response.in_progress"):
		p.keepFirst(&p.id, f.id)
		p.keepFirst(&p.model, f.model)
	case t.Equal("response.completed"), t.Equal("response.incomplete"), t.Equal("response.failed"):
		p.complete = true
		p.keepFirst(&p.id, f.id)
		p.keepFirst(&p.model, f.model)
		p.usage.merge(&f.usage)
		if f.hasErr {
			p.setError(&f.err)
		}
		if f.status.Present() {
			p.keep(&p.status, f.status)
			if f.status.Equal("failed") {
				p.isError = true
			}
		}
		switch {
		case f.reason.Present():
			p.keep(&p.finish, f.reason)
			p.keepRaw(&p.finishRaw, f.reasonRaw)
		case f.status.Present():
			p.keep(&p.finish, f.status)
			p.finishRaw = span{}
		}
	case t.Equal("error"):
		p.isError = true
		p.keep(&p.errCode, f.code)
		p.keep(&p.errMsg, f.messageStr)
		p.keep(&p.errParam, f.param)
		if f.hasErr { // some gateways nest it
			p.setError(&f.err)
		}
	}
}
