// Package chtest starts a private clickhouse-server for integration tests
// when none is running. It is test infrastructure: the product never
// imports it.
package chtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

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

// StartPrivate runs clickhouse-server with a minimal config in a temporary
// directory (the <yandex> root works for 18.16 and newer servers) on a free
// port of 127.0.0.1. who names the caller in the progress line. stop ends
// the server and removes its directory.
func StartPrivate(who string) (addr string, stop func(), err error) {
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
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	stop = func() {
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
	if err := WaitPort(addr, 30*time.Second); err != nil {
		stop()
		return "", nil, fmt.Errorf("started %s but port %d never opened: %w", bin, port, err)
	}
	fmt.Fprintf(os.Stderr, "%s: started a private clickhouse-server on %s\n", who, addr)
	return addr, stop, nil
}
