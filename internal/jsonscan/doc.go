// Package jsonscan reads JSON in place, for the proxy's hot path and for
// everything else in the project that reads JSON it did not build with
// encoding/json: provider bodies and streamed events (edge/provider), the
// structural hash of JSON message text (session), captured attributes
// (sink/inspect) and the bench mock's requests.
//
// A Decoder is a cursor over one document. It makes one forward pass,
// validating every byte exactly as encoding/json.Valid does (nesting
// deeper than MaxDepth is refused), while the caller picks the members it
// needs; everything else is skipped. The first error is sticky: it moves
// the cursor to the end, so every loop terminates and later reads return
// zero values; the caller checks Failed or Err once, at the end.
//
// Nothing is decoded unless asked. Strings come back as Str: the bytes
// between the quotes plus a flag saying whether they hold escape
// sequences, found eight bytes at a time. Any value can come back as its
// JSON bytes (Raw, Member). One string decoder serves every caller:
// AppendUnescaped, or AppendUnescapedPrefix for the first n code points,
// into a buffer the caller owns; invalid escapes and lone surrogates
// become U+FFFD, as with encoding/json.
//
// Walking a document: EnterObj/Key/MoreObj and EnterArr/MoreArr are the
// primitives, the cheapest way (the provider parsers use them); Members
// and Elements are range-over-func iterators over the same cursor that
// skip whatever the loop body leaves unread and leave the cursor past the
// object or array even when the body breaks out early.
//
// # Promises
//
//   - No allocation, ever, except one 64-byte key buffer the first time a
//     Decoder meets a member name with escapes (Key), and Err's error
//     value (allocation_test.go). A Decoder made with NewDecoder stays on
//     the stack, and so does a document in a stack buffer as long as it
//     is read with the primitives, Member or Valid: Members hands the
//     loop body keys that alias the document, and Reset (for pooled
//     Decoders) stores it through a pointer, so both make the compiler
//     keep the document on the heap.
//   - No panic on any input (fuzz_jsonscan_test.go).
//   - Every slice returned (Str.Raw, Raw, Member, Since, keys without
//     escapes) aliases the document and is never written to; a key with
//     escapes aliases the Decoder and is valid until the next Key.
//   - A Decoder is not safe for concurrent use; Reset makes it reusable.
package jsonscan
