package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/cylestio/perimeter/sink"
)

// The integration tests need a real ClickHouse server (native protocol):
//
//   - PERIMETER_TEST_CLICKHOUSE=host:port: use that server; it must answer,
//     or every test fails (CI sets it after starting clickhouse-server).
//   - unset: use 127.0.0.1:9000 if something listens there, else start a
//     private clickhouse-server (if installed) on a free port in a temp
//     directory for the duration of the tests, else skip them, loudly.
//
// Each test works in its own database and drops it afterwards.

const envServer = "PERIMETER_TEST_CLICKHOUSE"

var (
	serverAddr string // "" when there is no server
	serverWhy  string // why not, for the skip message
)

func TestMain(m *testing.M) {
	stop := findServer()
	code := m.Run()
	stop()
	os.Exit(code)
}

func findServer() (stop func()) {
	stop = func() {}
	if addr := os.Getenv(envServer); addr != "" {
		serverAddr = addr
		if err := waitPort(addr, 2*time.Second); err != nil {
			serverWhy = fmt.Sprintf("%s=%s but nothing answers there: %v", envServer, addr, err)
			serverAddr = ""
		}
		return stop
	}
	if waitPort("127.0.0.1:9000", 300*time.Millisecond) == nil {
		serverAddr = "127.0.0.1:9000"
		return stop
	}
	addr, stopServer, err := startPrivateServer()
	if err != nil {
		serverWhy = "no ClickHouse on 127.0.0.1:9000 and could not start one: " + err.Error()
		banner()
		return stop
	}
	serverAddr = addr
	return stopServer
}

func banner() {
	line := strings.Repeat("!", 78)
	fmt.Fprintf(os.Stderr, "\n%s\n!! SKIPPING ClickHouse integration tests: %s\n!! Install clickhouse-server (apt-get install -y clickhouse-server) or set %s=host:port.\n%s\n\n",
		line, serverWhy, envServer, line)
}

// needServer returns the test server's address or skips (locally) / fails
// (when PERIMETER_TEST_CLICKHOUSE asked for one).
func needServer(t testing.TB) string {
	t.Helper()
	if serverAddr != "" {
		return serverAddr
	}
	if os.Getenv(envServer) != "" {
		t.Fatalf("ClickHouse required: %s", serverWhy)
	}
	t.Skipf("SKIPPED (no ClickHouse): %s", serverWhy)
	return ""
}

func waitPort(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startPrivateServer runs clickhouse-server with a minimal config in a
// temporary directory (works for 18.16, whose root element is <yandex>,
// and for newer servers, which still accept it).
func startPrivateServer() (string, func(), error) {
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		return "", nil, fmt.Errorf("clickhouse-server not installed")
	}
	dir, err := os.MkdirTemp("", "perimeter-clickhouse-")
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	for _, d := range []string{"data", "tmp", "user_files"} {
		_ = os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	config := fmt.Sprintf(`<yandex>
  <logger><level>warning</level><log>%[1]s/server.log</log><errorlog>%[1]s/server.err.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]d</tcp_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
</yandex>
`, dir, port)
	users := `<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(config), 0o644); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(users), 0o644); err != nil {
		return "", nil, err
	}
	out, _ := os.Create(filepath.Join(dir, "stdout.log"))
	cmd := exec.Command(bin, "--config-file="+filepath.Join(dir, "config.xml"))
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		out.Close()
		_ = os.RemoveAll(dir)
	}
	if err := waitPort(addr, 30*time.Second); err != nil {
		stop()
		return "", nil, fmt.Errorf("started %s but port %d never opened: %w", bin, port, err)
	}
	fmt.Fprintf(os.Stderr, "clickhouse integration tests: started a private clickhouse-server on %s\n", addr)
	return addr, stop, nil
}

// testStore opens a store on the test server in a fresh database, dropped
// when the test ends.
func testStore(t testing.TB, mod func(*Options)) *Store {
	t.Helper()
	addr := needServer(t)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	o := Options{
		Addresses:    []string{addr},
		Database:     "perimeter_test_" + hex.EncodeToString(rnd[:]),
		DialTimeout:  5 * time.Second,
		QueryTimeout: 20 * time.Second,
	}
	if mod != nil {
		mod(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(ctx); err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		dropDatabase(addr, s.schema.Database)
	})
	return s
}

// dropDatabase removes a test database over a connection of its own (the
// store may have been closed, or pointed through a proxy).
func dropDatabase(addr, db string) {
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}})
	if err != nil {
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+sink.Ident(db))
}
