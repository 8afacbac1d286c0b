// Package defaults fills the unset numeric fields of options structs: a
// field left at zero (or set negative) takes the package's default, so
// that the zero value of every Options type works.
package defaults

// Set sets *p to v when *p is not positive.
func Set[T ~int | ~int64 | ~float64](p *T, v T) {
	if *p <= 0 {
		*p = v
	}
}
