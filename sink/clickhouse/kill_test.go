package clickhouse

import (
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/clickhouse/chtest"
)

// killableServer starts a private server this test may kill: never the
// shared one.
func killableServer(t *testing.T) *chtest.Server {
	t.Helper()
	srv, err := chtest.Start(t.Name())
	if errors.Is(err, chtest.ErrNotInstalled) && os.Getenv(envServer) == "" {
		t.Skip("SKIPPED LOUDLY: clickhouse-server is not installed (apt-get install -y clickhouse-server); this test kills a server of its own")
	}
	if err != nil {
		t.Fatalf("a private clickhouse-server is required (%s is set): %v", envServer, err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// One Store outlives a server killed with SIGKILL and restarted: it says
// it is down while the server is, and the first write after the restart
// reconnects (its pooled connections died with the server).
func TestStoreOutlivesServerKill(t *testing.T) {
	srv := killableServer(t)
	s, err := Open(ctxT(t), Options{Addresses: []string{srv.Addr}, DialTimeout: time.Second, QueryTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WriteBatch(ctxT(t), events(0, 40)); err != nil {
		t.Fatal(err)
	}
	// Several connections in the pool, all of which the kill breaks.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Query(ctxT(t), "SELECT sleep(0.2)"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if idle := s.conn.Stats().Idle; idle < 2 {
		t.Fatalf("%d idle connections before the kill, want several", idle)
	}
	srv.Kill()
	if err := s.WriteBatch(ctxT(t), events(100, 10)); err == nil {
		t.Fatal("a write to a killed server succeeded")
	}
	if st := s.Status(); st.Available || st.Fix != Fix || st.Reason == "" {
		t.Fatalf("status with the server killed: %+v", st)
	}
	if _, err := s.Query(ctxT(t), "SELECT 1"); err == nil {
		t.Fatal("a query to a killed server succeeded")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteBatch(ctxT(t), events(100, 10)); err != nil {
		t.Fatalf("first write after the restart: %v", err)
	}
	if st := s.Status(); !st.Available {
		t.Fatalf("status after the restart: %+v", st)
	}
	got := scalar(t, s, "SELECT count() FROM "+sink.EventsSource(s.schema))
	if got != uint64(50) {
		t.Fatalf("%v events after the restart, want 50", got)
	}
}
