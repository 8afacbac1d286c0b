package capture

import (
	"strconv"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/internal/jsonw"
)

// obj appends JSON object members without reflection or intermediate maps.
// Start with open, add members, finish with close.
type obj struct {
	b     []byte
	first bool
}

func (o *obj) open() { o.b = append(o.b, '{'); o.first = true }

func (o *obj) close() { o.b = append(o.b, '}') }

// key writes a member's name as it is: one of capture's own attribute
// names, which need no escaping.
func (o *obj) key(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

// anyKey writes a member's name that comes from the client (a tag's key),
// escaped.
func (o *obj) anyKey(k []byte) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = jsonw.AppendString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *obj) str(k, v string) {
	o.key(k)
	o.b = jsonw.AppendString(o.b, v)
}

func (o *obj) bytesStr(k string, v []byte) {
	o.key(k)
	o.b = jsonw.AppendString(o.b, v)
}

// pstr writes a provider string: escaped bodies are valid JSON already.
func (o *obj) pstr(k string, s provider.Str) {
	o.key(k)
	o.b = appendPStr(o.b, s)
}

func (o *obj) raw(k string, v []byte) {
	o.key(k)
	if len(v) == 0 {
		o.b = append(o.b, "null"...)
		return
	}
	o.b = append(o.b, v...)
}

func (o *obj) int(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *obj) float(k string, v float64) {
	o.key(k)
	o.b = strconv.AppendFloat(o.b, v, 'f', -1, 64)
}

func (o *obj) bool(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

func appendPStr(b []byte, s provider.Str) []byte {
	if s.Escaped {
		b = append(b, '"')
		b = append(b, s.Raw...)
		return append(b, '"')
	}
	return jsonw.AppendString(b, s.Raw)
}
