package policy

// nameOf returns the name of v in names, indexed by value, or unknown
// for 0 and values past them.
func nameOf[T ~uint8](names []string, v T, unknown string) string {
	if v > 0 && int(v) < len(names) {
		return names[v]
	}
	return unknown
}

// parseName returns the value named name in names (0 is never one).
func parseName[T ~uint8](names []string, name string) (T, bool) {
	for v, n := range names {
		if v > 0 && n == name {
			return T(v), true
		}
	}
	return 0, false
}
