package dashboard

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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/chdb"
	"github.com/cylestio/perimeter/sink/clickhouse"
)

// The API tests run against real stores, never mocks:
//
//   - embedded chDB: libchdb.so must be installed (make chdb). Missing, the
//     tests skip loudly, or fail when PERIMETER_REQUIRE_CHDB is set (CI).
//     The test binary doubles as the engine's worker process.
//   - a ClickHouse server: PERIMETER_TEST_CLICKHOUSE=host:port (CI), else
//     127.0.0.1:9000 if something listens there, else a private
//     clickhouse-server (if installed, e.g. Debian's 18.16) started for the
//     run, else skipped loudly. Each store gets its own database.

const (
	testWorkerEnv   = "DASHBOARD_TEST_CHDB_WORKER"
	envRequireChdb  = "PERIMETER_REQUIRE_CHDB"
	envClickHouse   = "PERIMETER_TEST_CLICKHOUSE"
	engineEmbedded  = "embedded"
	engineServer    = "clickhouse"
	skipBannerWidth = 78
)

func TestMain(m *testing.M) {
	if os.Getenv(testWorkerEnv) != "" {
		os.Exit(chdb.WorkerMain(workerFlags(os.Args)))
	}
	code := m.Run()
	sharedCleanups.run()
	chServer.stop()
	os.Exit(code)
}

func workerFlags(args []string) []string {
	for i, a := range args {
		if a == "--" {
			return args[i+1:]
		}
	}
	return nil
}

func banner(msg string) {
	line := strings.Repeat("!", skipBannerWidth)
	fmt.Fprintf(os.Stderr, "\n%s\n!! %s\n%s\n\n", line, msg, line)
}

// openEmbedded opens a chDB store in a temporary directory, or skips.
func openEmbedded(tb testing.TB) *chdb.Store {
	tb.Helper()
	lib, err := chdb.FindLib("")
	if err != nil {
		if os.Getenv(envRequireChdb) != "" {
			tb.Fatalf("%s is set but: %v", envRequireChdb, err)
		}
		banner(fmt.Sprintf("SKIPPING %s on embedded chDB: %v. Run `make chdb`; CI runs it.", tb.Name(), err))
		tb.Skip(err)
	}
	dir, err := os.MkdirTemp("", "dashboard-chdb-")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, err := chdb.Open(ctx, chdb.Options{
		LibPath:       lib,
		Path:          dir,
		WorkerCommand: []string{"/usr/bin/env", testWorkerEnv + "=1", "GORACE=atexit_sleep_ms=0", os.Args[0]},
		Logger:        zerolog.Nop(),
		MinBackoff:    100 * time.Millisecond,
		MaxBackoff:    time.Second,
	})
	if err != nil {
		s.Close()
		os.RemoveAll(dir)
		tb.Fatalf("embedded store: %v", err)
	}
	tb.Cleanup(func() {
		s.Close()
		os.RemoveAll(dir)
	})
	return s
}

// server finds or starts the ClickHouse server once per run.
type server struct {
	once sync.Once
	addr string
	why  string
	stop func()
}

var chServer = &server{stop: func() {}}

func (s *server) find() {
	s.once.Do(func() {
		if addr := os.Getenv(envClickHouse); addr != "" {
			if err := waitPort(addr, 5*time.Second); err != nil {
				s.why = fmt.Sprintf("%s=%s but nothing answers there: %v", envClickHouse, addr, err)
				return
			}
			s.addr = addr
			return
		}
		if waitPort("127.0.0.1:9000", 300*time.Millisecond) == nil {
			s.addr = "127.0.0.1:9000"
			return
		}
		addr, stop, err := startPrivateServer()
		if err != nil {
			s.why = "no ClickHouse on 127.0.0.1:9000 and could not start one: " + err.Error()
			banner("SKIPPING the dashboard's ClickHouse-server tests: " + s.why + "; install clickhouse-server or set " + envClickHouse + "=host:port")
			return
		}
		s.addr, s.stop = addr, stop
	})
}

// openServer opens a store on the ClickHouse server in a fresh database
// (dropped at cleanup), or skips.
func openServer(tb testing.TB) *clickhouse.Store {
	tb.Helper()
	chServer.find()
	if chServer.addr == "" {
		if os.Getenv(envClickHouse) != "" {
			tb.Fatalf("ClickHouse required: %s", chServer.why)
		}
		tb.Skipf("SKIPPED (no ClickHouse server): %s", chServer.why)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	db := "dashboard_test_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := clickhouse.Open(ctx, clickhouse.Options{Addresses: []string{chServer.addr}, Database: db,
		DialTimeout: 5 * time.Second, QueryTimeout: 20 * time.Second, Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Connect(ctx); err != nil {
		tb.Fatalf("connect to %s: %v", chServer.addr, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.Exec(ctx, "DROP DATABASE IF EXISTS "+sink.Ident(db))
		_ = s.Close()
	})
	return s
}

// schemaOf is where a test store keeps its events.
func schemaOf(st sink.Store) sink.SchemaOptions {
	if s, ok := st.(interface{ Schema() sink.SchemaOptions }); ok {
		return s.Schema()
	}
	return sink.SchemaOptions{}
}

// openStore opens a fresh store of the named engine.
func openStore(tb testing.TB, engine string) sink.Store {
	if engine == engineEmbedded {
		return openEmbedded(tb)
	}
	return openServer(tb)
}

var engines = []string{engineEmbedded, engineServer}

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
// temporary directory (the <yandex> root works for 18.16 and newer).
func startPrivateServer() (string, func(), error) {
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		return "", nil, fmt.Errorf("clickhouse-server not installed")
	}
	dir, err := os.MkdirTemp("", "dashboard-clickhouse-")
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
  <timezone>UTC</timezone>
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
	fmt.Fprintf(os.Stderr, "dashboard tests: started a private clickhouse-server on %s\n", addr)
	return addr, stop, nil
}
