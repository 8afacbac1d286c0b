package capture

import (
	"testing"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/session"
)

// TestRequestDataAddsMetadata: llm.request.data is the request body with
// _cylestio_metadata added before its closing brace (white space may
// follow it), after a comma only when the object has members; a body that
// is not an object is null.
func TestRequestDataAddsMetadata(t *testing.T) {
	const meta = `"_cylestio_metadata":{"total_messages":0,"new_messages":0,"from_index":0,"external_session":false}}`
	for _, tc := range []struct{ body, want string }{
		{`{"model":"m"}`, `{"model":"m",` + meta},
		{"{\"model\":\"m\" }\r\n\t ", `{"model":"m" ,` + meta},
		{`{}`, `{` + meta},
		{"{ \n}", "{ \n" + meta},
		{`[{"a":1}]`, `null`},
		{`{"a":1} x`, `null`},
		{" \n", `null`},
		{"", `null`},
	} {
		b := builder{req: &provider.Request{}, r: &session.Result{}, body: []byte(tc.body)}
		if got := string(b.requestData(nil, 0, 0, false)); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.body, got, tc.want)
		}
	}
}
