package configs

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
)

// The example configurations generate-config writes; each one loads and
// validates cleanly (see examples_test.go).
//
//go:embed *.yaml
var examples embed.FS

// DefaultExample is the example Example("") returns.
const DefaultExample = "default"

// Example returns the commented example configuration name ("openai",
// "anthropic", "clickhouse", "production", "default"; a ".yaml" suffix is
// accepted). The empty name is the default example.
func Example(name string) ([]byte, error) {
	name = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".yaml")
	if name == "" {
		name = DefaultExample
	}
	data, err := examples.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no example config %q (have: %s)", name, strings.Join(ExampleNames(), ", "))
	}
	return data, nil
}

// ExampleNames lists the example configurations, sorted.
func ExampleNames() []string {
	entries, _ := examples.ReadDir(".")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
	}
	sort.Strings(names)
	return names
}
