package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
)

// chat sends one model call on a fresh connection and returns the status.
func chat(url string) (int, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Post(url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// holdConns opens n idle connections to addr (dials that the kernel
// completes before the process accepts them).
func holdConns(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var cs []net.Conn
	for range n {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			break // the backlog is full: enough
		}
		cs = append(cs, c)
	}
	return cs
}

func closeAll(cs []net.Conn) {
	for _, c := range cs {
		c.Close()
	}
}

func requirePrlimit(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) not installed")
	}
}

// TestOutOfFileDescriptorsKeepsServing runs the proxy with 128 descriptors
// and a connection limit above that, so idle connections exhaust the
// descriptors: accept fails with EMFILE, which must be waited out, and the
// proxy must answer again once the connections close.
func TestOutOfFileDescriptorsKeepsServing(t *testing.T) {
	requirePrlimit(t)
	p := startEdge(t, startMockLLM(t), "server: {max_conns: 100000}\n", "prlimit", "--nofile=128:128")
	if code, err := chat(p.url); err != nil || code != 200 {
		t.Fatalf("before: %d %v", code, err)
	}
	idle := holdConns(t, p.addr, 300)
	if len(idle) < 150 {
		t.Fatalf("only %d connections opened", len(idle))
	}
	if !testkit.Eventually(10*time.Second, 20*time.Millisecond, func() bool {
		if !p.alive() {
			t.Fatal("perimeter exited when it ran out of file descriptors")
		}
		return strings.Contains(p.logs.String(), "cannot accept connections")
	}) {
		t.Fatal("the descriptors were never exhausted (no accept error logged)")
	}
	time.Sleep(1500 * time.Millisecond) // several backoff rounds
	if !p.alive() {
		t.Fatal("perimeter exited when it ran out of file descriptors")
	}
	closeAll(idle)
	answersAgain(t, p.url, 15*time.Second)
	if !p.alive() || strings.Contains(p.logs.String(), "server stopped") {
		t.Fatal("perimeter stopped serving")
	}
}

// TestConnectionLimitAnswers503: with the default limit (derived from 256
// descriptors) a connection beyond it gets a clear 503 in the providers'
// error shape, and the proxy serves again once connections close.
func TestConnectionLimitAnswers503(t *testing.T) {
	requirePrlimit(t)
	p := startEdge(t, startMockLLM(t), "", "prlimit", "--nofile=256:256")
	if !strings.Contains(p.logs.String(), `"max_conns":96`) {
		t.Fatalf("the limit is not derived from the open-file limit (want max_conns 96):\n%s", p.logs.String())
	}
	idle := holdConns(t, p.addr, 150)
	defer closeAll(idle)
	// Each of the last connections is refused: it reads the answer.
	c := idle[len(idle)-1]
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer on a connection over the limit: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || resp.Header.Get("X-Perimeter-Error") != "connection_limit" ||
		!strings.Contains(string(body), `"type":"error","error":{"type":"connection_limit"`) {
		t.Fatalf("over the limit: %d %s %s", resp.StatusCode, resp.Header, body)
	}
	closeAll(idle)
	answersAgain(t, p.url, 10*time.Second)
}

// answersAgain waits up to d for a chat through the proxy at url to
// succeed, as it must once the connections that exhausted it close.
func answersAgain(t *testing.T, url string, d time.Duration) {
	t.Helper()
	var code int
	var err error
	if !testkit.Eventually(d, 50*time.Millisecond, func() bool {
		code, err = chat(url)
		return err == nil && code == 200
	}) {
		t.Fatalf("the proxy does not answer after the connections closed: %d %v", code, err)
	}
}

// TestMalformedRequestDoesNotLeakCredentials: a request that fails to parse
// is answered 400 without echoing it, and the log never shows its headers.
func TestMalformedRequestDoesNotLeakCredentials(t *testing.T) {
	p := startEdge(t, startMockLLM(t), "logging: {level: DEBUG, format: json}\n")
	const secret = "sk-secret-client-key-5f3a9c1e7b2d4f60"
	for _, raw := range []string{
		// an invalid header line
		"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + secret + "\r\nBad Header Line\r\nContent-Length: 2\r\n\r\n{}",
		// an invalid Content-Length after the credential
		"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nx-api-key: " + secret + "\r\nContent-Length: abc\r\n\r\n{}",
		// a request line fasthttp cannot parse
		"BROKEN\x01 /x HTTP/1.1\r\nAuthorization: Bearer " + secret + "\r\n\r\n",
		// headers with a control character
		"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + secret + "\x00\r\n\r\n",
	} {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, raw)
		answer, _ := io.ReadAll(c)
		c.Close()
		if !strings.HasPrefix(string(answer), "HTTP/1.1 400") {
			t.Errorf("%q: answer %q, want a 400", raw[:20], answer)
		}
		if strings.Contains(string(answer), secret[3:20]) {
			t.Errorf("the 400 answer echoes the credential: %s", answer)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if logs := p.logs.String(); strings.Contains(logs, secret[3:20]) {
		t.Fatalf("the log shows the client's credential:\n%s", logs)
	}
}

// TestBaseURLPasswordIsNotShown: a user:password@ in llm.base_url (here
// from LLM_BASE_URL) stops run with a config error, since no Basic auth is
// sent upstream, and the error shows no password.
func TestBaseURLPasswordIsNotShown(t *testing.T) {
	const pass = "hunter2-base-url-pass"
	base := strings.Replace(startMockLLM(t), "http://", "http://gateway-user:"+pass+"@", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "run", "--port", fmt.Sprint(freePort(t))) // one that starts is stopped
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "LLM_BASE_URL="+base, "LLM_TYPE=openai", "CHDB_LIB_PATH=/nonexistent")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "llm.base_url: must not carry user:password@") || strings.Contains(string(out), pass) {
		t.Errorf("exit %d:\n%s", cmd.ProcessState.ExitCode(), out)
	}
}

// TestStalledBodiesKeepMemoryBounded: clients that send most of a large
// body and stall make the proxy hold at most
// server.max_inflight_body_bytes of them; the rest are refused with 503
// (the issue: 80 stalled 30 MB bodies grew the proxy by 2.6 GB).
func TestStalledBodiesKeepMemoryBounded(t *testing.T) {
	const mib = 1 << 20
	p := startEdge(t, startMockLLM(t), "server: {max_request_body_size: 8MB, max_inflight_body_bytes: 32MB}\n")
	before := rssBytes(p.pid())
	if before == 0 {
		t.Skip("no /proc: the resident memory cannot be read")
	}
	const clients = 16
	var conns []net.Conn
	defer func() { closeAll(conns) }()
	chunk := make([]byte, 7*mib)
	done := make(chan struct{}, clients)
	for range clients {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		go func() {
			defer func() { done <- struct{}{} }()
			fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 8*mib)
			c.SetWriteDeadline(time.Now().Add(3 * time.Second))
			c.Write(chunk) // then stall
		}()
	}
	for range clients {
		<-done
	}
	time.Sleep(300 * time.Millisecond)
	grown := rssBytes(p.pid()) - before
	var m struct {
		Errors map[string]uint64 `json:"errors"`
	}
	getJSON(t, p.url+"/metrics", &m)
	t.Logf("RSS grew by %d MiB with %d clients stalled on 7 of 8 MiB; %d refused", grown/mib, clients, m.Errors["memory_budget_exceeded"])
	if refused := m.Errors["memory_budget_exceeded"]; refused < clients-4 {
		t.Errorf("%d bodies refused, want at least %d (32 MB budget, 8 MB bodies)", refused, clients-4)
	}
	// 32 MB of held bodies, plus buffers and the runtime's slack.
	if grown > 64*mib {
		t.Errorf("RSS grew by %d MiB, want at most 64", grown/mib)
	}
	// The bodies' budget comes back as the proxy sees the clients go.
	closeAll(conns)
	answersAgain(t, p.url, 10*time.Second)
}

// Idle connections to the dashboard cannot take the descriptors the proxy
// needs: past its cap they are answered 503 and closed.
func TestDashboardConnectionsCannotStarveProxy(t *testing.T) {
	requirePrlimit(t)
	dport := freePort(t)
	cfg := fmt.Sprintf("interceptors:\n  - {type: live_trace, enabled: true, config: {server_port: %d}}\n", dport)
	p := startEdge(t, startMockLLM(t), cfg, "prlimit", "--nofile=600:600")
	daddr := fmt.Sprintf("127.0.0.1:%d", dport)
	idle := holdConns(t, daddr, 700) // more than the open-file limit
	defer closeAll(idle)
	// The first connections past the cap read the refusal (later ones may
	// be closed without a word while those are being answered).
	if len(idle) <= 260 {
		t.Fatalf("only %d connections to the dashboard", len(idle))
	}
	refused := 0
	for _, c := range idle[257:260] {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("X-Perimeter-Error") != "connection_limit" {
			t.Fatalf("dashboard over the cap: %d %s", resp.StatusCode, resp.Header)
		}
		refused++
	}
	if refused == 0 {
		t.Fatal("no connection past the dashboard's cap was answered 503")
	}
	// While the dashboard's connections are held, the proxy answers.
	if code, err := chat(p.url); err != nil || code != 200 {
		t.Fatalf("the proxy does not answer while the dashboard is flooded: %d %v", code, err)
	}
	if !p.alive() {
		t.Fatal("perimeter exited")
	}
}

// Credentials a prompt carries are found by detection and masked in what
// every writer stores (here the event recorder).
func TestStoredEventsHoldNoCredentials(t *testing.T) {
	dir := t.TempDir()
	cfg := fmt.Sprintf("interceptors:\n  - {type: event_recorder, enabled: true, config: {output_dir: %q}}\n", dir)
	p := startEdge(t, startMockLLM(t), cfg)
	key := "sk-proj-Zyxwvutsrqponmlkjihgfedcba_9876543210"
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"deploy with ` + key + ` and password=hunter2hunter2"}]}`
	resp, err := http.Post(p.url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// A graceful stop flushes the recorder.
	syscall.Kill(p.pid(), syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("perimeter did not stop")
	}
	var stored strings.Builder
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			stored.Write(b)
		}
		return nil
	})
	out := stored.String()
	if !strings.Contains(out, "llm.call.start") {
		t.Fatalf("nothing recorded:\n%s", p.logs.String())
	}
	for _, leak := range []string{key, "hunter2hunter2"} {
		if strings.Contains(out, leak) {
			t.Errorf("stored events hold %q", leak)
		}
	}
	if !strings.Contains(out, "[REDACTED") {
		t.Errorf("no masked credential in the stored events:\n%s", out)
	}
}
