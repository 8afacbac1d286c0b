package edge

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func benchHeaders() (*fasthttp.RequestHeader, *fasthttp.ResponseHeader) {
	var rq fasthttp.RequestHeader
	rq.Read(bufio.NewReader(strings.NewReader("POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nContent-Length: 100\r\nAuthorization: Bearer sk-xxx\r\nUser-Agent: OpenAI/Python 1.54.0\r\nAccept: application/json\r\nX-Stainless-Lang: python\r\nX-Stainless-Package-Version: 1.54.0\r\nX-Stainless-Os: Linux\r\nX-Stainless-Arch: x64\r\nX-Stainless-Runtime: CPython\r\nX-Stainless-Runtime-Version: 3.12.1\r\nAccept-Encoding: gzip, deflate\r\nX-Cylestio-Session-Id: abc\r\n\r\n")))
	var rs fasthttp.ResponseHeader
	rs.Read(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 12:00:00 GMT\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: keep-alive\r\nAccess-Control-Expose-Headers: X-Request-ID\r\nOpenai-Organization: org\r\nOpenai-Processing-Ms: 300\r\nOpenai-Version: 2020-10-01\r\nX-Ratelimit-Limit-Requests: 10000\r\nX-Ratelimit-Remaining-Requests: 9999\r\nX-Request-Id: req_123\r\nStrict-Transport-Security: max-age=31536000\r\nCf-Ray: 123-AMS\r\nServer: cloudflare\r\n\r\n")))
	return &rq, &rs
}

func BenchmarkPrepareHeaders(b *testing.B) {
	rq0, rs0 := benchHeaders()
	cred := newCredential(OpenAI, "sk-bench")
	var rq fasthttp.RequestHeader
	var rs fasthttp.ResponseHeader
	var scratch [][]byte
	b.ReportAllocs()
	for b.Loop() {
		rq0.CopyTo(&rq)
		scratch = prepareRequestHeader(&rq, OpenAI, cred, scratch)
		rs0.CopyTo(&rs)
		scratch = prepareResponseHeader(&rs, scratch)
	}
}
