package detect

// RedactEvidence returns the evidence a secret rule reports for the
// matched value v: a short prefix and the length, never the value. Callers
// that match their own patterns (custom rules) use it so that their
// findings read and protect like the built-in ones.
func RedactEvidence(v string) string { return redactSecret(v) }
