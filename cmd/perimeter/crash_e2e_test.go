package main

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/chdb"
)

// TestKill9LosesAtMostTheCommitInterval: the running binary is SIGKILLed
// under a few hundred calls a second. With storage.durability spill (the
// default) the calls whose events are missing after the restart's replay
// are at most what the commit interval (plus the capture loop's 10 ms
// poll) holds at the measured rate; with durability none the test only
// reports what was lost. No event is stored twice in either mode.
func TestKill9LosesAtMostTheCommitInterval(t *testing.T) {
	lib := requireLibchdb(t)
	const commit = 100 * time.Millisecond
	for _, mode := range []string{"spill", "none"} {
		t.Run(mode, func(t *testing.T) {
			data, spill := t.TempDir(), t.TempDir()
			storage := fmt.Sprintf("storage:\n  embedded: {path: %q}\n  spill: {dir: %q, max_bytes: 256MB}\n  durability: %s\n  commit_interval_ms: %d\n",
				data, spill, mode, commit.Milliseconds())
			upstream := startMock(t)
			p := startPerimeter(t, upstream, storage, "CHDB_LIB_PATH="+lib)
			worker := p.metrics(t).Storage.Embedded.WorkerPID

			l := newLoad(p.url)
			traffic := l.run(0, maxCalls, workers, 12*time.Millisecond)
			waitUntil(t, 30*time.Second, "1,000 calls", func() bool { return l.answered.Load() >= 1000 })
			mark, markAt := l.answered.Load(), time.Now()
			time.Sleep(time.Second)
			rate := float64(l.answered.Load()-mark) / time.Since(markAt).Seconds()
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-p.exited
			traffic.stop()
			ok := l.answered.Load() - l.failed.Load()
			if worker != 0 {
				waitUntil(t, 10*time.Second, "the engine worker to die with the proxy", func() bool {
					return syscall.Kill(worker, 0) == syscall.ESRCH
				})
			}

			p = startPerimeter(t, upstream, storage, "CHDB_LIB_PATH="+lib)
			waitUntil(t, 60*time.Second, "the spill log replayed", func() bool {
				w := p.metrics(t).store()
				return w.Healthy && w.BacklogBytes == 0
			})
			replayed := p.metrics(t).store().ReplayedBytes
			p.stop(t, 60*time.Second)

			st, err := chdb.Open(context.Background(), chdb.Options{Path: data, LibPath: lib, WorkerCommand: []string{binary, "__chdb-worker"}})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			// countEvents fails if an event is stored twice (FINAL).
			stored := countEvents(t, st, sink.EventsSource(st.Schema()))[sink.LLMCallFinish]
			lost := max(ok-stored, 0)
			allowed := int64(rate*(commit+10*time.Millisecond).Seconds()) + 20
			t.Logf("durability %s: %.0f calls/s, %d calls answered before the kill, %d stored after the restart (%d bytes replayed): %d lost (%.0f ms of traffic); allowed with spill %d",
				mode, rate, ok, stored, replayed, lost, float64(lost)/rate*1000, allowed)
			if stored > ok+int64(workers) {
				t.Fatalf("%d calls stored, only %d answered (+%d in flight)", stored, ok, workers)
			}
			if mode == "spill" && lost > allowed {
				t.Fatalf("lost %d calls' events, more than the commit interval allows at %.0f calls/s (%d)", lost, rate, allowed)
			}
		})
	}
}
