package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// These tests read compose.yaml and the manifests as generic documents and
// check what a container runtime or the API server would refuse or get
// wrong at run time: references between objects (selectors, named ports,
// volumes, services, secrets), images, probes, users, environment.

// obj is a generic YAML mapping; get walks it.
type obj = map[string]any

func get(o any, path ...string) any {
	for _, p := range path {
		m, ok := o.(obj)
		if !ok {
			return nil
		}
		o = m[p]
	}
	return o
}

func str(o any, path ...string) string  { s, _ := get(o, path...).(string); return s }
func list(o any, path ...string) []any  { l, _ := get(o, path...).([]any); return l }
func mapping(o any, path ...string) obj { m, _ := get(o, path...).(obj); return m }

func loadManifests(t *testing.T) []obj {
	t.Helper()
	var out []obj
	eachManifest(t, func(file string, o obj) {
		if o != nil {
			o["_file"] = file
			out = append(out, o)
		}
	})
	if len(out) == 0 {
		t.Fatal("no manifests under deploy/k8s")
	}
	return out
}

// eachManifest decodes every YAML document of deploy/k8s/*.yaml into a
// new T and hands it to use with its file's name.
func eachManifest[T any](t *testing.T, use func(file string, o T)) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "deploy/k8s/*.yaml"))
	if len(files) == 0 {
		t.Fatal("no manifests under deploy/k8s")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o T
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			use(filepath.Base(f), o)
		}
	}
}

// imageRef: a repository with an explicit tag (or digest), never :latest
// for a third-party image.
var imageRef = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$`)

// containerPort finds a container's port by name or number.
func containerPort(c any, port any) (int, bool) {
	for _, p := range list(c, "ports") {
		n, _ := get(p, "containerPort").(int)
		switch v := port.(type) {
		case int:
			if n == v {
				return n, true
			}
		case string:
			if str(p, "name") == v {
				return n, true
			}
		}
	}
	return 0, false
}

func labelsMatch(selector, labels obj) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestManifestReferences(t *testing.T) {
	objs := loadManifests(t)
	apis := map[string]string{"ConfigMap": "v1", "Secret": "v1", "Service": "v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1"}
	byKind := map[string]map[string]obj{}
	for _, o := range objs {
		kind, name := str(o, "kind"), str(o, "metadata", "name")
		where := fmt.Sprintf("%s: %s/%s", o["_file"], kind, name)
		if want, ok := apis[kind]; !ok || str(o, "apiVersion") != want || name == "" {
			t.Errorf("%s: apiVersion %q (want %q for a known kind) and a name", where, str(o, "apiVersion"), want)
		}
		if byKind[kind] == nil {
			byKind[kind] = map[string]obj{}
		}
		if _, dup := byKind[kind][name]; dup {
			t.Errorf("%s defined twice", where)
		}
		byKind[kind][name] = o
	}
	workloads := map[string]obj{}
	for _, kind := range []string{"Deployment", "StatefulSet"} {
		for name, w := range byKind[kind] {
			workloads[kind+"/"+name] = w
		}
	}
	if len(workloads) < 2 {
		t.Fatalf("workloads %v: want Perimeter and ClickHouse", workloads)
	}
	for wname, w := range workloads {
		pod := get(w, "spec", "template", "spec")
		if !labelsMatch(mapping(w, "spec", "selector", "matchLabels"), mapping(w, "spec", "template", "metadata", "labels")) {
			t.Errorf("%s: selector %v does not select its pods %v", wname, get(w, "spec", "selector"), get(w, "spec", "template", "metadata", "labels"))
		}
		volumes := map[string]bool{}
		for _, v := range list(pod, "volumes") {
			volumes[str(v, "name")] = true
			if cm := str(v, "configMap", "name"); cm != "" && byKind["ConfigMap"][cm] == nil {
				t.Errorf("%s: volume %s mounts ConfigMap %s, which no manifest defines", wname, str(v, "name"), cm)
			}
		}
		for _, c := range list(w, "spec", "volumeClaimTemplates") {
			volumes[str(c, "metadata", "name")] = true
		}
		if sn := str(w, "spec", "serviceName"); str(w, "kind") == "StatefulSet" && byKind["Service"][sn] == nil {
			t.Errorf("%s: serviceName %q is no Service", wname, sn)
		}
		containers := list(pod, "containers")
		if len(containers) == 0 {
			t.Errorf("%s: no containers", wname)
		}
		for _, c := range containers {
			cname := wname + " container " + str(c, "name")
			if img := str(c, "image"); !imageRef.MatchString(img) || (strings.HasSuffix(img, ":latest") && !strings.HasPrefix(img, "perimeter:")) {
				t.Errorf("%s: image %q: want a repository with an explicit tag", cname, img)
			}
			seen := map[string]bool{}
			for _, e := range list(c, "env") {
				n := str(e, "name")
				if seen[n] || (get(e, "value") == nil && get(e, "valueFrom") == nil) {
					t.Errorf("%s: env %s repeated or without a value", cname, n)
				}
				seen[n] = true
			}
			for _, m := range list(c, "volumeMounts") {
				if !volumes[str(m, "name")] {
					t.Errorf("%s: mounts %s, which is no volume of the pod", cname, str(m, "name"))
				}
			}
			probes := 0
			for _, probe := range []string{"readinessProbe", "livenessProbe", "startupProbe"} {
				p := mapping(c, probe)
				if p == nil {
					continue
				}
				probes++
				port := get(p, "httpGet", "port")
				if port == nil {
					port = get(p, "tcpSocket", "port")
				}
				if _, ok := containerPort(c, port); !ok {
					t.Errorf("%s: %s port %v is no container port", cname, probe, port)
				}
			}
			if probes == 0 {
				t.Errorf("%s: no probe", cname)
			}
		}
	}
	// Every Service selects a workload and targets one of its ports.
	for name, s := range byKind["Service"] {
		var target obj
		for _, w := range workloads {
			if labelsMatch(mapping(s, "spec", "selector"), mapping(w, "spec", "template", "metadata", "labels")) {
				target = w
			}
		}
		if target == nil {
			t.Errorf("Service/%s selects no workload", name)
			continue
		}
		for _, p := range list(s, "spec", "ports") {
			tp := get(p, "targetPort")
			if tp == nil {
				tp = get(p, "port")
			}
			var ok bool
			for _, c := range list(target, "spec", "template", "spec", "containers") {
				_, found := containerPort(c, tp)
				ok = ok || found
			}
			if !ok {
				t.Errorf("Service/%s port %v targets %v, no container port of %s", name, get(p, "port"), tp, str(target, "metadata", "name"))
			}
		}
	}
	// Perimeter's pods: liveness on /health too, scraped where the series
	// are, from the port they listen on.
	dep := byKind["Deployment"]["perimeter"]
	c := list(dep, "spec", "template", "spec", "containers")[0]
	if str(c, "livenessProbe", "httpGet", "path") != "/health" {
		t.Errorf("liveness probe %v, want /health", get(c, "livenessProbe"))
	}
	ann := mapping(dep, "spec", "template", "metadata", "annotations")
	port, _ := containerPort(c, "http")
	if ann["prometheus.io/path"] != "/metrics/prometheus" || ann["prometheus.io/port"] != strconv.Itoa(port) {
		t.Errorf("scrape annotations %v for the port %d", ann, port)
	}
	if cs := mapping(c, "securityContext", "capabilities"); !slices.Contains(list(cs, "drop"), any("ALL")) {
		t.Errorf("capabilities %v: want drop ALL", cs)
	}
	// ClickHouse creates the database and user Perimeter's ConfigMap uses.
	cfg := validate(t, "ConfigMap perimeter", []byte(str(byKind["ConfigMap"]["perimeter"], "data", "perimeter.yaml")), runEnv)
	chEnv := map[string]string{}
	for _, c := range list(byKind["StatefulSet"]["clickhouse"], "spec", "template", "spec", "containers") {
		for _, e := range list(c, "env") {
			chEnv[str(e, "name")] = str(e, "value")
		}
	}
	if chEnv["CLICKHOUSE_DB"] != cfg.Storage.ClickHouse.Database || chEnv["CLICKHOUSE_USER"] != cfg.Storage.ClickHouse.Username {
		t.Errorf("ClickHouse creates %q/%q; Perimeter uses %q/%q", chEnv["CLICKHOUSE_DB"], chEnv["CLICKHOUSE_USER"],
			cfg.Storage.ClickHouse.Database, cfg.Storage.ClickHouse.Username)
	}
}

// envRef is ${NAME} or ${NAME:-default} in a configuration.
var envRef = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)(:-[^}]*)?\}`)

func TestComposeReferences(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c obj
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	services, volumes := mapping(c, "services"), mapping(c, "volumes")
	for name, s := range services {
		if str(s, "image") == "" && get(s, "build") == nil {
			t.Errorf("service %s: neither image nor build", name)
		}
		if img := str(s, "image"); img != "" && !imageRef.MatchString(img) {
			t.Errorf("service %s: image %q: want an explicit tag", name, img)
		}
		if u := str(s, "user"); u == "root" || u == "0" || strings.HasPrefix(u, "0:") {
			t.Errorf("service %s runs as root", name)
		}
		for dep := range mapping(s, "depends_on") {
			if services[dep] == nil {
				t.Errorf("service %s depends on %s, which is no service", name, dep)
			}
		}
		for _, v := range list(s, "volumes") {
			src, _, _ := strings.Cut(v.(string), ":")
			if !strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "/") {
				if _, ok := volumes[src]; !ok {
					t.Errorf("service %s: volume %s is not declared", name, src)
				}
			}
		}
		for _, p := range list(s, "ports") {
			f := strings.Split(p.(string), ":")
			for _, n := range f {
				if v, err := strconv.Atoi(n); err != nil || v < 1 || v > 65535 {
					t.Errorf("service %s: port mapping %q", name, p)
				}
			}
		}
		if hc := mapping(s, "healthcheck"); hc != nil {
			test := list(hc, "test")
			if len(test) < 2 || (test[0] != "CMD" && test[0] != "CMD-SHELL") {
				t.Errorf("service %s: healthcheck test %v: want [CMD, …] or [CMD-SHELL, …]", name, test)
			}
			for _, k := range []string{"interval", "timeout"} {
				if _, err := time.ParseDuration(str(hc, k)); err != nil {
					t.Errorf("service %s: healthcheck %s %q: %v", name, k, str(hc, k), err)
				}
			}
		}
	}
	// Every variable the mounted configuration needs without a default is
	// in the perimeter service's environment; the image's HEALTHCHECK
	// (the Dockerfile's) is the perimeter service's, since it sets none.
	p := services["perimeter"]
	cfgPath := list(p, "command")[len(list(p, "command"))-1].(string)
	for _, v := range list(p, "volumes") {
		parts := strings.Split(v.(string), ":")
		if len(parts) < 2 || parts[1] != cfgPath {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, parts[0]))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range envRef.FindAllStringSubmatch(string(data), -1) {
			if _, ok := mapping(p, "environment")[m[1]]; !ok && m[2] == "" {
				t.Errorf("%s reads ${%s}, which the perimeter service does not set", parts[0], m[1])
			}
		}
	}
	if get(p, "healthcheck") == nil {
		stages, _ := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
		if len(find(stages[len(stages)-1], "HEALTHCHECK")) == 0 {
			t.Error("the perimeter service has no health check, and the image none either")
		}
	}
}
