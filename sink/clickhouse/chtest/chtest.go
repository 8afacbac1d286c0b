// Package chtest starts a private clickhouse-server for integration tests
// when none is running, and lets a test kill and restart it. It is test
// infrastructure: the product never imports it.
package chtest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled is Start's error when clickhouse-server is not on PATH.
var ErrNotInstalled = errors.New("clickhouse-server not installed")

// WaitPort waits until addr accepts TCP connections or d has passed.
func WaitPort(addr string, d time.Duration) error {
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

// startTimeout bounds how long a (re)started server may take to listen.
const startTimeout = 30 * time.Second

// Server is a private clickhouse-server: its own data directory in a
// temporary directory and its own port on 127.0.0.1. It can be killed
// (SIGKILL, no shutdown at all) and restarted on the same data and port,
// as an operator or a crash would. Methods are safe for concurrent use.
type Server struct {
	// Addr is host:port of the native protocol; it survives restarts.
	Addr string

	bin, dir string
	// ddl: the server is in a cluster; Restart also waits for its
	// distributed DDL worker (see waitDDLWorker).
	ddl bool

	mu   sync.Mutex
	cmd  *exec.Cmd     // nil while not running
	done chan struct{} // closed when cmd has exited
	out  *os.File
}

// Start runs clickhouse-server with a minimal config in a temporary
// directory (the <yandex> root works for 18.16 and newer servers) on a free
// port of 127.0.0.1 and waits until it listens. who names the caller in
// the progress line. Stop ends it and removes its directory.
func Start(who string) (*Server, error) {
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	dir, err := os.MkdirTemp("", "perimeter-clickhouse-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir}
	port, err := freePort()
	if err == nil {
		err = writeConfig(dir, serverConfig{port: port, level: "warning"})
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	if err := s.Restart(); err != nil {
		s.Stop()
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "%s: started a private clickhouse-server on %s\n", who, s.Addr)
	return s, nil
}

// StartPrivate is Start for callers that need only the address and a stop
// function.
func StartPrivate(who string) (addr string, stop func(), err error) {
	s, err := Start(who)
	if err != nil {
		return "", nil, err
	}
	return s.Addr, s.Stop, nil
}

// FindServer finds the server the integration tests of who use: the one
// EnvClickHouse names (which must answer), else whatever listens on
// 127.0.0.1:9000, else a private clickhouse-server it starts. It returns
// the address and a stop function (a no-op unless it started a server),
// or an empty address and why there is none.
func FindServer(who string) (addr string, stop func(), why string) {
	stop = func() {}
	if addr := os.Getenv(EnvClickHouse); addr != "" {
		if err := WaitPort(addr, 5*time.Second); err != nil {
			return "", stop, fmt.Sprintf("%s=%s but nothing answers there: %v", EnvClickHouse, addr, err)
		}
		return addr, stop, ""
	}
	if WaitPort("127.0.0.1:9000", 300*time.Millisecond) == nil {
		return "127.0.0.1:9000", stop, ""
	}
	addr, stopServer, err := StartPrivate(who)
	if err != nil {
		return "", stop, "no ClickHouse on 127.0.0.1:9000 and could not start one: " + err.Error()
	}
	return addr, stopServer, ""
}

// freePort finds a port free on 127.0.0.1, below the kernel's range of
// ephemeral ports when it can: a server that is killed and restarted must
// find its port free again, and while it is down an outgoing connection
// of any process may be given a port from that range.
func freePort() (int, error) {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		_, _ = fmt.Sscan(string(b), &low)
	}
	for i := 0; i < 100 && low > 11000; i++ {
		p := 10000 + rand.IntN(low-10000)
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			l.Close()
			return p, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serverConfig is what differs between private servers.
type serverConfig struct {
	port  int
	level string // the server log's level
	// extra is more XML inside the <yandex> root (a cluster's
	// remote_servers, macros, ZooKeeper), profile more settings of the
	// default user's profile.
	extra, profile string
}

// writeConfig writes config.xml and users.xml into dir.
func writeConfig(dir string, c serverConfig) error {
	port, extra, level := c.port, c.extra, c.level
	for _, d := range []string{"data", "tmp", "user_files"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	config := fmt.Sprintf(`<yandex>
  <logger><level>%[4]s</level><log>%[1]s/server.log</log><errorlog>%[1]s/server.err.log</errorlog><console>0</console></logger>
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
%[3]s</yandex>
`, dir, port, extra, level)
	users := `<yandex>
  <profiles><default>` + c.profile + `</default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(config), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "users.xml"), []byte(users), 0o644)
}

// Restart starts the server again on the same data directory and port and
// waits until it listens. It is an error while the server runs.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("clickhouse-server on %s is already running", s.Addr)
	}
	out, err := os.OpenFile(filepath.Join(s.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	var logFrom int64
	if fi, err := os.Stat(filepath.Join(s.dir, "server.log")); err == nil {
		logFrom = fi.Size()
	}
	cmd := exec.Command(s.bin, "--config-file="+filepath.Join(s.dir, "config.xml"))
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done, s.out = cmd, done, out
	if err := waitListening(s.Addr, done); err != nil {
		s.killLocked()
		return fmt.Errorf("started %s but %s never accepted connections: %w (log: %s); its last errors:\n%s", s.bin, s.Addr, err,
			filepath.Join(s.dir, "server.err.log"), tail(filepath.Join(s.dir, "server.err.log"), 3000))
	}
	if s.ddl {
		if err := waitDDLWorker(filepath.Join(s.dir, "server.log"), logFrom, done); err != nil {
			s.killLocked()
			return fmt.Errorf("clickhouse-server on %s: %w", s.Addr, err)
		}
	}
	return nil
}

// tail is the end of a file, for error messages (the directory is removed
// with the server).
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// ddlReady is what a server's debug log says once its distributed DDL
// worker has its ZooKeeper session.
var ddlReady = []byte("DDLWorker: Processing tasks")

// waitDDLWorker waits until the server log, from offset from on, says the
// distributed DDL worker runs. clickhouse-server 18.16 accepts queries a
// few hundred milliseconds before that, and an ON CLUSTER query in that
// window crashes it (a null ZooKeeper session).
func waitDDLWorker(log string, from int64, exited <-chan struct{}) error {
	return waitUntil(exited, func() (bool, error) {
		b, err := os.ReadFile(log)
		if err == nil && int64(len(b)) > from && bytes.Contains(b[from:], ddlReady) {
			return true, nil
		}
		return false, fmt.Errorf("its distributed DDL worker did not start within %s (ZooKeeper unreachable? see %s)", startTimeout, log)
	})
}

// waitListening is WaitPort that gives up at once when the server exits.
func waitListening(addr string, exited <-chan struct{}) error {
	return waitUntil(exited, func() (bool, error) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil, err
	})
}

// waitUntil polls ready every 50 ms until it says done, the server exits
// (exited closes) or startTimeout passes; then it returns the error ready
// gave last.
func waitUntil(exited <-chan struct{}, ready func() (done bool, err error)) error {
	deadline := time.Now().Add(startTimeout)
	for {
		done, err := ready()
		if done {
			return nil
		}
		select {
		case <-exited:
			return errors.New("the server exited")
		default:
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// PID is the running server's process id, 0 when it is not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Kill ends the server with SIGKILL (no shutdown, no flush: a crash) and
// waits until it has exited and its port is closed. Killing a server that
// is not running does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killLocked()
}

func (s *Server) killLocked() {
	if s.cmd == nil {
		return
	}
	// The server runs in its own process group (Setpgid): take the group.
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	s.out.Close()
	s.cmd, s.done, s.out = nil, nil, nil
}

// Stop ends the server gracefully (SIGTERM, then SIGKILL after 10 s) and
// removes its directory. The Server is unusable afterwards.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
			s.out.Close()
			s.cmd, s.done, s.out = nil, nil, nil
		case <-time.After(10 * time.Second):
			s.killLocked()
		}
	}
	_ = os.RemoveAll(s.dir)
}
