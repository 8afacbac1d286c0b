// Package deploy holds the container and Kubernetes files' tests: no
// container runtime is needed to check that the Dockerfile, compose.yaml
// and the manifests agree with each other and with the product (paths,
// ports, users, the configurations they ship validate).
package deploy

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cylestio/perimeter/configs"
)

// root is the repository root (this file's folder's parent).
const root = ".."

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
}

// parseDockerfile returns the stages (each a list of instructions, the
// first its FROM) and the ARGs declared before the first FROM.
func parseDockerfile(t *testing.T, path string) (stages [][]instruction, globalArgs map[string]string) {
	t.Helper()
	f, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	globalArgs = map[string]string{}
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(f))
	var lines []string
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") || (l == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(l, `\`) {
			cur.WriteString(strings.TrimSuffix(l, `\`) + " ")
			continue
		}
		cur.WriteString(l)
		if s := strings.TrimSpace(cur.String()); s != "" {
			lines = append(lines, s)
		}
		cur.Reset()
	}
	for _, l := range lines {
		cmd, args, _ := strings.Cut(l, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		switch {
		case in.cmd == "FROM":
			stages = append(stages, []instruction{in})
		case len(stages) == 0 && in.cmd == "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			globalArgs[k] = v
		case len(stages) == 0:
			t.Fatalf("%s before the first FROM", in.cmd)
		default:
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	return stages, globalArgs
}

func find(stage []instruction, cmd string) []instruction {
	var out []instruction
	for _, in := range stage {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// makeVar reads VAR ?= value from the Makefile.
func makeVar(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + name + `\s*\?=\s*(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("Makefile has no %s", name)
	}
	return string(m[1])
}

// validate loads a shipped configuration with env and fails on any error.
func validate(t *testing.T, name string, data []byte, env map[string]string) *configs.Config {
	t.Helper()
	cfg, problems, err := configs.Parse(data, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	problems = append(problems, cfg.Validate()...)
	for _, p := range problems {
		t.Errorf("%s: %s", name, p)
	}
	return cfg
}

var runEnv = map[string]string{"LLM_BASE_URL": "https://api.openai.com", "LLM_TYPE": "openai", "LLM_API_KEY": "sk-test", "CLICKHOUSE_PASSWORD": "pw"}

func TestDockerfile(t *testing.T) {
	stages, args := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	if len(stages) < 3 {
		t.Fatalf("%d stages: want build, libchdb and runtime stages", len(stages))
	}
	names := map[string][]instruction{}
	for _, s := range stages[:len(stages)-1] {
		f := strings.Fields(s[0].args)
		if len(f) != 3 || !strings.EqualFold(f[1], "AS") {
			t.Fatalf("build stage %q is unnamed", s[0].args)
		}
		names[f[2]] = s
	}
	final := stages[len(stages)-1]
	base := strings.ReplaceAll(final[0].args, "${DEBIAN_RELEASE}", args["DEBIAN_RELEASE"])
	if !strings.HasPrefix(base, "debian:") || !strings.HasSuffix(base, "-slim") {
		t.Errorf("runtime base %q: want a Debian slim image (libchdb needs glibc)", base)
	}
	if !strings.Contains(stages[0][0].args, "${GO_VERSION}") || !strings.HasPrefix(readGoVersion(t), args["GO_VERSION"]) {
		t.Errorf("build stage %q with GO_VERSION %q: want go.mod's Go", stages[0][0].args, args["GO_VERSION"])
	}

	// The binary is built from ./cmd/perimeter and copied in.
	build := names["build"]
	var buildsBinary bool
	for _, r := range find(build, "RUN") {
		if strings.Contains(r.args, "go build") && strings.Contains(r.args, "./cmd/perimeter") && strings.Contains(r.args, "-o /out/perimeter") && strings.Contains(r.args, "CGO_ENABLED=0") {
			buildsBinary = true
		}
	}
	if !buildsBinary {
		t.Error("no static go build of ./cmd/perimeter into /out/perimeter")
	}

	// libchdb comes from the project's installer at the Makefile's version
	// and sits where CHDB_LIB_PATH points.
	chdb := names["chdb"]
	if chdb == nil {
		t.Fatal("no chdb stage")
	}
	var pkg string
	for _, a := range find(chdb, "ARG") {
		if k, v, _ := strings.Cut(a.args, "="); k == "CHDB_PKG" {
			pkg = v
		}
	}
	if want := makeVar(t, "CHDB_PKG"); pkg != want {
		t.Errorf("CHDB_PKG %q, the Makefile installs %q", pkg, want)
	}
	env := map[string]string{}
	for _, e := range find(final, "ENV") {
		k, v, _ := strings.Cut(e.args, "=")
		env[k] = v
	}
	copies := map[string]string{} // destination → source
	for _, c := range find(final, "COPY") {
		f := strings.Fields(c.args)
		copies[f[len(f)-1]] = strings.Join(f[:len(f)-1], " ")
		if !strings.HasPrefix(f[0], "--from=") {
			if _, err := os.Stat(filepath.Join(root, f[0])); err != nil {
				t.Errorf("COPY %s: %v", f[0], err)
			}
		}
	}
	for _, c := range find(chdb, "COPY") {
		if src := strings.Fields(c.args)[0]; !fileExists(filepath.Join(root, src)) {
			t.Errorf("chdb stage copies %s, which does not exist", src)
		}
	}
	if src := copies[env["CHDB_LIB_PATH"]]; src != "--from=chdb /out/libchdb.so" {
		t.Errorf("CHDB_LIB_PATH %q is filled from %q, want the chdb stage's /out/libchdb.so", env["CHDB_LIB_PATH"], src)
	}
	if copies["/usr/local/bin/perimeter"] != "--from=build /out/perimeter" {
		t.Errorf("the binary is not copied from the build stage: %v", copies)
	}

	// Non-root, with a health check the binary itself answers.
	users := find(final, "USER")
	if len(users) == 0 {
		t.Fatal("no USER: the image would run as root")
	}
	u := strings.Split(users[len(users)-1].args, ":")[0]
	if u == "0" || u == "root" {
		t.Errorf("USER %s", u)
	}
	hc := find(final, "HEALTHCHECK")
	if len(hc) != 1 || !strings.Contains(hc[0].args, `"perimeter", "healthcheck"`) {
		t.Errorf("HEALTHCHECK %v: want the binary's healthcheck command", hc)
	}
	var creates bool
	for _, r := range find(final, "RUN") {
		if strings.Contains(r.args, "useradd") && strings.Contains(r.args, "--uid "+u) && strings.Contains(r.args, "chown -R "+u) {
			creates = true
		}
	}
	if !creates {
		t.Errorf("user %s is not created or does not own the data directory", u)
	}

	// The default configuration validates and keeps its data on the volume.
	var cmdArgs []string
	for _, c := range find(final, "CMD") {
		if err := yaml.Unmarshal([]byte(c.args), &cmdArgs); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := cmdArgs[len(cmdArgs)-1]
	src := strings.Fields(copies[cfgPath])
	if len(src) != 1 {
		t.Fatalf("CMD reads %s, which no COPY provides", cfgPath)
	}
	data, err := os.ReadFile(filepath.Join(root, src[0]))
	if err != nil {
		t.Fatal(err)
	}
	cfg := validate(t, src[0], data, runEnv)
	vol := find(final, "VOLUME")
	if len(vol) != 1 || !strings.Contains(vol[0].args, "/var/lib/perimeter") ||
		!strings.HasPrefix(cfg.Storage.Embedded.Path, "/var/lib/perimeter/") || !strings.HasPrefix(cfg.Storage.Spill.Dir, "/var/lib/perimeter/") {
		t.Errorf("data %s and spill %s must be under the VOLUME %v", cfg.Storage.Embedded.Path, cfg.Storage.Spill.Dir, vol)
	}
	if cfg.Server.Host != "0.0.0.0" || !strings.Contains(joinArgs(find(final, "EXPOSE")), strconv.Itoa(cfg.Server.Port)) {
		t.Errorf("the proxy listens on %s:%d; EXPOSE %v", cfg.Server.Host, cfg.Server.Port, find(final, "EXPOSE"))
	}
}

func joinArgs(ins []instruction) string {
	var s []string
	for _, in := range ins {
		s = append(s, in.args)
	}
	return strings.Join(s, " ")
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func readGoVersion(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(b)
	return string(m[1])
}

func TestCompose(t *testing.T) {
	var c struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			DependsOn   map[string]any    `yaml:"depends_on"`
			Environment map[string]string `yaml:"environment"`
			Command     []string          `yaml:"command"`
			Volumes     []string          `yaml:"volumes"`
			Ports       []string          `yaml:"ports"`
			Healthcheck map[string]any    `yaml:"healthcheck"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	b, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	ch, p := c.Services["clickhouse"], c.Services["perimeter"]
	if ch.Image == "" || p.Build == nil {
		t.Fatalf("services %v: want clickhouse (an image) and perimeter (built here)", c.Services)
	}
	var chData bool
	for _, v := range ch.Volumes {
		name, mount, _ := strings.Cut(v, ":")
		if mount == "/var/lib/clickhouse" {
			_, declared := c.Volumes[name]
			chData = declared
		}
	}
	if !chData {
		t.Error("ClickHouse's /var/lib/clickhouse is not on a declared named volume")
	}
	if ch.Healthcheck == nil {
		t.Error("clickhouse has no healthcheck to wait for")
	}
	if dep, ok := p.DependsOn["clickhouse"].(map[string]any); !ok || dep["condition"] != "service_healthy" {
		t.Errorf("perimeter depends_on %v: want clickhouse service_healthy", p.DependsOn)
	}
	// The configuration it mounts is the one it runs, and it reaches the
	// clickhouse service as the server's credentials say.
	cfgPath := p.Command[len(p.Command)-1]
	var src string
	for _, v := range p.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == cfgPath {
			src = parts[0]
		}
	}
	if src == "" {
		t.Fatalf("perimeter runs %s, which no volume provides", cfgPath)
	}
	data, err := os.ReadFile(filepath.Join(root, src))
	if err != nil {
		t.Fatal(err)
	}
	cfg := validate(t, src, data, runEnv)
	if cfg.Storage.Engine != configs.EngineClickHouse {
		t.Errorf("storage.engine %q, want clickhouse", cfg.Storage.Engine)
	}
	host, port, _ := net.SplitHostPort(cfg.Storage.ClickHouse.Addresses[0])
	if _, ok := c.Services[host]; !ok || port != "9000" {
		t.Errorf("storage.clickhouse.addresses %v: not the compose service's native port", cfg.Storage.ClickHouse.Addresses)
	}
	if cfg.Storage.ClickHouse.Username != ch.Environment["CLICKHOUSE_USER"] || cfg.Storage.ClickHouse.Database != ch.Environment["CLICKHOUSE_DB"] {
		t.Errorf("perimeter connects as %s to %s; the server creates %s and %s", cfg.Storage.ClickHouse.Username, cfg.Storage.ClickHouse.Database,
			ch.Environment["CLICKHOUSE_USER"], ch.Environment["CLICKHOUSE_DB"])
	}
	var published bool
	for _, pp := range p.Ports {
		if strings.HasSuffix(pp, ":"+strconv.Itoa(cfg.Server.Port)) {
			published = true
		}
	}
	if !published {
		t.Errorf("port %d not published: %v", cfg.Server.Port, p.Ports)
	}
	var spillOnVolume bool
	for _, v := range p.Volumes {
		name, mount, _ := strings.Cut(v, ":")
		if _, declared := c.Volumes[name]; declared && strings.HasPrefix(cfg.Storage.Spill.Dir, mount+"/") {
			spillOnVolume = true
		}
	}
	if !spillOnVolume {
		t.Errorf("spill dir %s is not on a named volume", cfg.Storage.Spill.Dir)
	}
}

// k8sObject is the part of a manifest the test reads.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Replicas int `yaml:"replicas"`
		Ports    []struct {
			Port       int `yaml:"port"`
			TargetPort any `yaml:"targetPort"`
		} `yaml:"ports"`
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		} `yaml:"volumeClaimTemplates"`
	} `yaml:"spec"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
		RunAsUser    int  `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []struct {
		Args []string `yaml:"args"`
		Env  []struct {
			Name      string `yaml:"name"`
			ValueFrom struct {
				SecretKeyRef struct {
					Name string `yaml:"name"`
					Key  string `yaml:"key"`
				} `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		ReadinessProbe struct {
			HTTPGet struct {
				Path string `yaml:"path"`
			} `yaml:"httpGet"`
		} `yaml:"readinessProbe"`
		SecurityContext struct {
			ReadOnlyRootFilesystem   bool `yaml:"readOnlyRootFilesystem"`
			AllowPrivilegeEscalation bool `yaml:"allowPrivilegeEscalation"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name string `yaml:"name"`
	} `yaml:"volumes"`
}

func TestKubernetesManifests(t *testing.T) {
	objs := map[string]k8sObject{} // kind/name
	eachManifest(t, func(_ string, o k8sObject) { objs[o.Kind+"/"+o.Metadata.Name] = o })
	dep, ok := objs["Deployment/perimeter"]
	if !ok {
		t.Fatalf("no Deployment/perimeter among %v", objs)
	}
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser == 0 || !c.SecurityContext.ReadOnlyRootFilesystem || c.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("pod security: %+v, container %+v", pod.SecurityContext, c.SecurityContext)
	}
	if c.ReadinessProbe.HTTPGet.Path != "/health" {
		t.Errorf("readiness probe %q, want /health", c.ReadinessProbe.HTTPGet.Path)
	}
	if dep.Spec.Replicas < 2 {
		t.Errorf("%d replicas: the proxy is stateless, run at least two", dep.Spec.Replicas)
	}
	// The mounted configuration validates, listens where the pod and the
	// Service say, and stores into the clickhouse Service.
	cm := objs["ConfigMap/perimeter"]
	cfgPath := c.Args[slicesIndex(c.Args, "--config")+1]
	var cfgMount, spillMount string
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(cfgPath, m.MountPath+"/") {
			cfgMount = m.Name
		}
	}
	data := cm.Data[filepath.Base(cfgPath)]
	if cfgMount != "config" || data == "" {
		t.Fatalf("--config %s is not the ConfigMap's %q (mount %q)", cfgPath, filepath.Base(cfgPath), cfgMount)
	}
	cfg := validate(t, "ConfigMap perimeter", []byte(data), runEnv)
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(cfg.Storage.Spill.Dir, m.MountPath+"/") {
			spillMount = m.Name
		}
	}
	if spillMount == "" || spillMount == "config" {
		t.Errorf("spill dir %s is not on a writable volume (the root filesystem is read-only)", cfg.Storage.Spill.Dir)
	}
	if len(c.Ports) == 0 || c.Ports[0].ContainerPort != cfg.Server.Port || cfg.Server.Host != "0.0.0.0" {
		t.Errorf("container port %v, config listens on %s:%d", c.Ports, cfg.Server.Host, cfg.Server.Port)
	}
	host, port, _ := net.SplitHostPort(cfg.Storage.ClickHouse.Addresses[0])
	svc, ok := objs["Service/"+host]
	if cfg.Storage.Engine != configs.EngineClickHouse || !ok || strconv.Itoa(svc.Spec.Ports[0].Port) != port {
		t.Errorf("storage %s at %v: no such Service port", cfg.Storage.Engine, cfg.Storage.ClickHouse.Addresses)
	}
	// Every env var the configuration reads comes from the Secret both
	// manifests use.
	secrets := map[string]bool{}
	for _, e := range c.Env {
		secrets[e.ValueFrom.SecretKeyRef.Name+"/"+e.ValueFrom.SecretKeyRef.Key] = true
		if !strings.Contains(data, "${"+e.Name) {
			t.Errorf("env %s is not used by the configuration", e.Name)
		}
	}
	ss := objs["StatefulSet/clickhouse"]
	if len(ss.Spec.VolumeClaimTemplates) == 0 {
		t.Error("ClickHouse has no persistent volume claim")
	}
	for _, e := range ss.Spec.Template.Spec.Containers[0].Env {
		if r := e.ValueFrom.SecretKeyRef; r.Name != "" && !secrets[r.Name+"/"+r.Key] {
			t.Errorf("ClickHouse reads secret %s/%s, which Perimeter does not", r.Name, r.Key)
		}
	}
	if objs["Service/perimeter"].Spec.Ports[0].Port != cfg.Server.Port {
		t.Errorf("Service/perimeter port %d", objs["Service/perimeter"].Spec.Ports[0].Port)
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
