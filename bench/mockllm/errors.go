package mockllm

import (
	"strconv"

	"github.com/cylestio/perimeter/internal/jsonw"
	"github.com/valyala/fasthttp"
)

// providerError is how a provider words one error status.
type providerError struct {
	typ     string
	code    string // OpenAI's "code"; empty renders null
	message string
}

func openAIError(status int) providerError {
	switch status {
	case 400:
		return providerError{"invalid_request_error", "", "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"}
	case 401:
		return providerError{"invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-mock****. You can find your API key at https://platform.openai.com/account/api-keys."}
	case 403:
		return providerError{"invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported"}
	case 404:
		return providerError{"invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."}
	case 413:
		return providerError{"invalid_request_error", "", "Request too large."}
	case 429:
		return providerError{"requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s."}
	case 503:
		return providerError{"server_error", "", "The engine is currently overloaded, please try again later"}
	}
	if status >= 500 {
		return providerError{"server_error", "", "The server had an error while processing your request. Sorry about that!"}
	}
	return providerError{"invalid_request_error", "", "Mock error " + strconv.Itoa(status) + "."}
}

func anthropicError(status int) providerError {
	switch status {
	case 400:
		return providerError{typ: "invalid_request_error", message: "The request body is not valid JSON."}
	case 401:
		return providerError{typ: "authentication_error", message: "invalid x-api-key"}
	case 403:
		return providerError{typ: "permission_error", message: "Your API key does not have permission to use the specified resource."}
	case 404:
		return providerError{typ: "not_found_error", message: "The requested resource could not be found."}
	case 413:
		return providerError{typ: "request_too_large", message: "Request exceeds the maximum allowed number of bytes."}
	case 429:
		return providerError{typ: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit."}
	case 529, 503:
		return providerError{typ: "overloaded_error", message: "Overloaded"}
	}
	if status >= 500 {
		return providerError{typ: "api_error", message: "Internal server error"}
	}
	return providerError{typ: "invalid_request_error", message: "Mock error " + strconv.Itoa(status) + "."}
}

// writeError answers status with the provider's error body. An empty
// message uses the provider's usual wording (and OpenAI code) for the status;
// a message of the mock's own has a null code.
func (s *Server) writeError(ctx *fasthttp.RequestCtx, a api, status int, message string) {
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentTypeBytes(ctJSON)
	if status == fasthttp.StatusTooManyRequests || status == fasthttp.StatusServiceUnavailable {
		ctx.Response.Header.SetBytesKV(hdrRetryAfter, valRetryAfter)
	}
	var b []byte
	if a == apiMessages {
		e := anthropicError(status)
		if message != "" {
			e.message = message
		}
		b = appendAnthropicError(b, e)
	} else {
		e := openAIError(status)
		if message != "" {
			e.message, e.code = message, ""
		}
		b = append(b, "{\n    \"error\": {\n        \"message\": "...)
		b = jsonw.AppendString(b, e.message)
		b = append(b, ",\n        \"type\": "...)
		b = jsonw.AppendString(b, e.typ)
		b = append(b, ",\n        \"param\": null,\n        \"code\": "...)
		b = appendNullableString(b, e.code)
		b = append(b, "\n    }\n}\n"...)
	}
	ctx.Response.SetBody(b)
}

func appendAnthropicError(b []byte, e providerError) []byte {
	b = append(b, `{"type":"error","error":{"type":`...)
	b = jsonw.AppendString(b, e.typ)
	b = append(b, `,"message":`...)
	b = jsonw.AppendString(b, e.message)
	return append(b, "}}"...)
}

func appendNullableString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return jsonw.AppendString(b, s)
}

// Mid-stream error events, as the providers send them when a generation
// fails after the 200 has gone out.
const (
	streamErrorMessage = "The server had an error while processing your request. Sorry about that!"
	chatErrorEvent     = `data: {"error":{"message":"` + streamErrorMessage + `","type":"server_error","param":null,"code":null}}` + "\n\n"
	anthropicErrorData = `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
)
