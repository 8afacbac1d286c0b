// Package otel exports captured LLM traffic as OpenTelemetry traces over
// OTLP/HTTP or OTLP/gRPC: a sink.Writer beside the stores, fed by the same pipeline after
// pricing, detection and storage.content masking, so it never sits on the
// request path and exports exactly what the stores keep.
//
// # Spans
//
// One span per model call, named "chat {model}" (kind client), from the
// call's start to its last byte, with the OpenTelemetry GenAI semantic
// conventions (semconv v1.40): gen_ai.operation.name, gen_ai.provider.name
// (and the older gen_ai.system), gen_ai.request.model, gen_ai.response.model,
// gen_ai.response.id, gen_ai.response.finish_reasons, gen_ai.usage.*,
// gen_ai.conversation.id (the session), gen_ai.agent.id, error.type and an
// error status for failed calls, plus perimeter.* (cost, risk score,
// workflow). Each tool call the model asks for is a child span
// "execute_tool {name}" (kind internal) from the answer that asked for it to
// the request that brings its result back (matched by call id); one whose
// result never comes ends after Options.ToolTimeout, or at Close, marked
// perimeter.tool.result_seen=false. Security findings are span events
// "perimeter.finding" on the span of the event they were found in, with
// their category, rule, severity, OWASP id and confidence (never the raw
// value: evidence is masked by detection).
//
// Message content (gen_ai.input.messages, gen_ai.output.messages,
// gen_ai.tool.call.arguments, gen_ai.tool.call.result) is off unless
// Options.CaptureContent is set, and follows storage.content when it is.
//
// # Trace ids
//
// A call whose client sent a W3C traceparent continues that trace: edge
// chose the call's span id before forwarding, sent it upstream as the
// parent, and the events carry it with the client's header (attribute
// trace.parent); the span here has that id, the client's trace id, and the
// client's span as parent. Other calls are root spans of their session's
// trace (the events' trace_id, the md5 of the session id), so a session's
// calls group in one trace.
//
// # Export
//
// Ended spans go to a bounded queue (Options.QueueSize spans). A full
// queue drops the span and counts it; nothing ever blocks the pipeline or
// the proxy. One goroutine cuts batches (BatchSize, BatchTimeout) and hands
// them to the SDK's OTLP/HTTP or OTLP/gRPC exporter (Options.Protocol; the
// gRPC one dials lazily), which retries with backoff up to
// RetryMaxElapsed; a batch still failing then is dropped and counted.
// WriteBatch never fails, so the pipeline never spills for this writer:
// traces are best effort, the stores are the record. Batches the pipeline
// replays after a crash are exported again with the same span ids.
package otel
