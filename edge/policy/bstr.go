package policy

import "unsafe"

// bstr views b as a string for reading; it must not outlive b.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
