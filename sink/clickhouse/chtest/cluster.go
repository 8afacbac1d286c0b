package chtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ClusterName is the name a test cluster has in remote_servers (the
// storage.clickhouse.cluster of the tests).
const ClusterName = "perimeter_test"

// Cluster is a ClickHouse cluster of private servers on 127.0.0.1: shards
// × replicas clickhouse-server processes, each with its own port, data
// directory and config file, all sharing one private ZooKeeper (which
// Replicated tables and ON CLUSTER DDL need). Every server lists the whole
// cluster in remote_servers as ClusterName, with internal_replication (a
// Distributed table writes one replica per shard and replication copies
// it) and load_balancing in_order (clusterProfile), and has the macros {shard} (01, 02, …) and {replica} (r1, r2, …).
type Cluster struct {
	Name string
	// Shards[i][j] is replica j of shard i.
	Shards    [][]*Server
	ZooKeeper *ZooKeeper
}

// QueryTimeout is the query timeout for stores on a test cluster. An ON
// CLUSTER statement (the schema a store creates when it connects) waits
// until every server has run it from ZooKeeper's queue, which took over
// 20 s in CI while another package's tests ran a cluster of their own on
// the same two CPUs.
const QueryTimeout = time.Minute

// StartCluster starts ZooKeeper and shards × replicas servers and waits
// until every server listens. It returns ErrNotInstalled or ErrNoZooKeeper
// when a program is missing. Stop ends everything.
func StartCluster(who string, shards, replicas int) (*Cluster, error) {
	if shards < 1 || replicas < 1 {
		return nil, fmt.Errorf("chtest: a cluster needs at least one shard and one replica, got %d×%d", shards, replicas)
	}
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	zk, err := StartZooKeeper()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Name: ClusterName, ZooKeeper: zk}
	type ports struct{ tcp, http int }
	all := make([][]ports, shards)
	for i := range all {
		all[i] = make([]ports, replicas)
		for j := range all[i] {
			tcp, err1 := freePort()
			http, err2 := freePort()
			if err := errors.Join(err1, err2); err != nil {
				c.Stop()
				return nil, err
			}
			all[i][j] = ports{tcp, http}
		}
	}
	var remote strings.Builder
	fmt.Fprintf(&remote, "  <remote_servers><%s>\n", ClusterName)
	for _, shard := range all {
		remote.WriteString("    <shard><internal_replication>true</internal_replication>\n")
		for _, p := range shard {
			fmt.Fprintf(&remote, "      <replica><host>127.0.0.1</host><port>%d</port></replica>\n", p.tcp)
		}
		remote.WriteString("    </shard>\n")
	}
	fmt.Fprintf(&remote, "  </%s></remote_servers>\n", ClusterName)
	common := remote.String() + fmt.Sprintf(`  <zookeeper><node><host>127.0.0.1</host><port>%d</port></node><session_timeout_ms>6000</session_timeout_ms></zookeeper>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
  <interserver_http_host>127.0.0.1</interserver_http_host>
`, zk.Port)
	c.Shards = make([][]*Server, shards)
	for i, shard := range all {
		for j, p := range shard {
			dir, err := os.MkdirTemp("", fmt.Sprintf("perimeter-clickhouse-s%dr%d-", i+1, j+1))
			if err != nil {
				c.Stop()
				return nil, err
			}
			extra := common + fmt.Sprintf("  <interserver_http_port>%d</interserver_http_port>\n  <macros><shard>%02d</shard><replica>r%d</replica></macros>\n", p.http, i+1, j+1)
			s := &Server{bin: bin, dir: dir, Addr: fmt.Sprintf("127.0.0.1:%d", p.tcp), ddl: true}
			c.Shards[i] = append(c.Shards[i], s)
			if err := writeConfig(dir, serverConfig{port: p.tcp, level: "debug", extra: extra, profile: clusterProfile}); err != nil {
				c.Stop()
				return nil, err
			}
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(c.Servers()))
	for k, s := range c.Servers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = s.Restart()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Stop()
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "%s: started a private ClickHouse cluster %q: %d shards × %d replicas on %s, ZooKeeper on %s\n",
		who, ClusterName, shards, replicas, strings.Join(c.Addrs(), " "), zk.Addr)
	return c, nil
}

// clusterProfile makes a Distributed table use the first live replica of
// each shard, for writes and reads alike: what a client wrote it reads
// back at once, while that replica lives (with the default, random, a
// read may go to a replica that has not fetched the part yet).
const clusterProfile = "<load_balancing>in_order</load_balancing>"

// Servers lists every server, shard by shard.
func (c *Cluster) Servers() []*Server {
	var out []*Server
	for _, shard := range c.Shards {
		out = append(out, shard...)
	}
	return out
}

// Addrs lists every server's native address, shard by shard.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, s := range c.Servers() {
		out = append(out, s.Addr)
	}
	return out
}

// Log is the error log of a server, for failure messages.
func (s *Server) Log() string { return filepath.Join(s.dir, "server.err.log") }

// Stop kills every server (their data is thrown away: a graceful
// shutdown of 18.16 with replicated tables takes seconds), then ends
// ZooKeeper, and removes their directories.
func (c *Cluster) Stop() {
	for _, s := range c.Servers() {
		s.Kill()
		_ = os.RemoveAll(s.dir)
	}
	if c.ZooKeeper != nil {
		c.ZooKeeper.Stop()
	}
}

// EnvClickHouse is the variable CI sets after installing clickhouse-server
// and zookeeper; the cluster tests run only when it is set.
const EnvClickHouse = "PERIMETER_TEST_CLICKHOUSE"

// SkipCluster says why cluster tests cannot run here ("" when they can):
// EnvClickHouse is not set, or clickhouse-server is not installed. With
// both, a cluster that fails to start (ZooKeeper missing included) is a
// failure, not a skip.
func SkipCluster() string {
	if os.Getenv(EnvClickHouse) == "" {
		return EnvClickHouse + " is not set (CI sets it and installs clickhouse-server and zookeeper); the cluster tests start 4 clickhouse-servers and a ZooKeeper of their own"
	}
	if _, err := exec.LookPath("clickhouse-server"); err != nil {
		return "clickhouse-server is not installed (apt-get install -y clickhouse-server zookeeper)"
	}
	return ""
}

// StartTestCluster starts a cluster of the test's own, stopped at the
// test's cleanup, or skips the test loudly (SkipCluster), or fails it.
func StartTestCluster(tb testing.TB, shards, replicas int) *Cluster {
	tb.Helper()
	if why := SkipCluster(); why != "" {
		fmt.Fprintf(os.Stderr, "\n%s\n!! SKIPPING %s: %s\n%[1]s\n\n", strings.Repeat("!", 78), tb.Name(), why)
		tb.Skip("SKIPPED LOUDLY: " + why)
	}
	c, err := StartCluster(tb.Name(), shards, replicas)
	if err != nil {
		tb.Fatalf("a ClickHouse cluster is required (%s is set and clickhouse-server installed): %v (apt-get install -y zookeeper)", EnvClickHouse, err)
	}
	tb.Cleanup(c.Stop)
	return c
}
