package configs

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// decodeUnit reads the YAML scalar n into the unit value *dst (a
// Duration, a ByteSize): a number through fromNumber (with its text for
// the error), anything else through parse. what names the expected value
// in the error for a node that is not a scalar; *dst is left alone on
// error.
func decodeUnit[T any](n *yaml.Node, dst *T, what string, fromNumber func(f float64, text string) (T, error), parse func(string) (T, error)) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected %s, got %s", n.Line, what, kindName(n))
	}
	var v T
	var err error
	switch n.ShortTag() {
	case intTag, floatTag:
		var f float64
		if err = n.Decode(&f); err == nil {
			v, err = fromNumber(f, n.Value)
		}
	default:
		v, err = parse(n.Value)
	}
	if err != nil {
		return err
	}
	*dst = v
	return nil
}
