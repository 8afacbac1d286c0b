package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestProductBinaryCarriesNoTestInfrastructure: the proxy's binary links
// neither the mock provider nor anything else under bench/ (the demo is a
// program of its own, cmd/perimeter-demo).
func TestProductBinaryCarriesNoTestInfrastructure(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/cylestio/perimeter/bench/") || strings.HasPrefix(pkg, "github.com/cylestio/perimeter/internal/testenv") {
			t.Errorf("perimeter links %s", pkg)
		}
	}
}
