package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestBuildRelevant(t *testing.T) {
	status := " M go.mod\n M edge/proxy.go\n M edge/proxy_test.go\n?? sink/new.go\n?? notes.txt\nR  old.go -> configs/new.go\n"
	got := buildRelevant(status)
	want := []string{"go.mod", "edge/proxy.go", "sink/new.go", "configs/new.go"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestChooseTargets(t *testing.T) {
	specs, err := chooseTargets(options{targets: "direct, nginx,perimeter-capture"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "direct,nginx,perimeter-capture" {
		t.Errorf("targets %v", names)
	}
	if _, err := chooseTargets(options{targets: "direct,haproxy"}); err == nil || !strings.Contains(err.Error(), "haproxy") {
		t.Errorf("unknown target: %v", err)
	}
	if _, err := chooseTargets(options{targets: "direct", extra: extraTargets{"x=/no/such.yaml"}}); err == nil {
		t.Error("missing config file accepted")
	}
}
