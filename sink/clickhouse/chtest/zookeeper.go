package chtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// ZooKeeperJar is Debian's zookeeper package's server jar; its manifest
// carries the class path of its dependencies.
const ZooKeeperJar = "/usr/share/java/zookeeper.jar"

// ErrNoZooKeeper is StartZooKeeper's error when java or the ZooKeeper jar
// is missing.
var ErrNoZooKeeper = errors.New("ZooKeeper not installed (apt-get install -y zookeeper)")

// ZooKeeper is a private standalone ZooKeeper server on 127.0.0.1, for the
// Replicated tables and ON CLUSTER DDL of a test cluster.
type ZooKeeper struct {
	Addr string
	Port int

	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	out  *os.File
}

// StartZooKeeper runs ZooKeeper in a temporary directory on a free port
// of 127.0.0.1 and waits until it listens. Stop ends it and removes the
// directory.
func StartZooKeeper() (*ZooKeeper, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, ErrNoZooKeeper
	}
	if _, err := os.Stat(ZooKeeperJar); err != nil {
		return nil, ErrNoZooKeeper
	}
	dir, err := os.MkdirTemp("", "perimeter-zookeeper-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// A short tick makes sessions of killed servers expire within
	// seconds; of the four-letter words only srvr (readiness) is on, and
	// the admin server is off.
	cfg := fmt.Sprintf("tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s/data\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nmaxClientCnxns=0\n4lw.commands.whitelist=srvr\n", dir, port)
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, "zookeeper.log"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(java, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-cp", ZooKeeperJar+":/usr/share/java/slf4j-simple.jar", "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "org.apache.zookeeper.server.ZooKeeperServerMain", filepath.Join(dir, "zoo.cfg"))
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	z := &ZooKeeper{Addr: fmt.Sprintf("127.0.0.1:%d", port), Port: port, dir: dir, cmd: cmd, done: make(chan struct{}), out: out}
	go func() { _ = cmd.Wait(); close(z.done) }()
	if err := z.waitServing(); err != nil {
		z.Stop()
		return nil, fmt.Errorf("started ZooKeeper but %s never served: %w (log: %s)", z.Addr, err, filepath.Join(dir, "zookeeper.log"))
	}
	return z, nil
}

// waitServing waits until ZooKeeper answers srvr with its mode. It
// accepts connections earlier, but closes them while it loads its
// database, and clickhouse-server 18.16 crashes on an ON CLUSTER query
// when its first ZooKeeper session failed that way.
func (z *ZooKeeper) waitServing() error {
	deadline := time.Now().Add(startTimeout)
	for {
		var answer []byte
		c, err := net.DialTimeout("tcp", z.Addr, 200*time.Millisecond)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("srvr"))
			answer, _ = io.ReadAll(c)
			c.Close()
			if bytes.Contains(answer, []byte("Mode: ")) {
				return nil
			}
		}
		select {
		case <-z.done:
			return errors.New("ZooKeeper exited")
		default:
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("srvr answered %q", answer)
			}
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends ZooKeeper (SIGTERM, then SIGKILL after 5 s) and removes its
// directory.
func (z *ZooKeeper) Stop() {
	_ = syscall.Kill(-z.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-z.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-z.cmd.Process.Pid, syscall.SIGKILL)
		<-z.done
	}
	z.out.Close()
	_ = os.RemoveAll(z.dir)
}
