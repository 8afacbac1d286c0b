package spool

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSpillSegment replays an arbitrary segment file, as a crash or a disk
// might leave it: reading must terminate without panicking, return only
// records whose checksum holds, and account every byte.
func FuzzSpillSegment(f *testing.F) {
	rec := func(p []byte) []byte {
		var h [8]byte
		binary.LittleEndian.PutUint32(h[:4], uint32(len(p)))
		binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(p, crcTable))
		return append(h[:], p...)
	}
	good := append([]byte(segmentMagic), rec([]byte("hello"))...)
	good = append(good, rec(bytes.Repeat([]byte{4, 0x80, 1}, 300))...)
	f.Add(good)
	f.Add(append(append([]byte(nil), good...), 1, 2, 3))
	f.Add([]byte(segmentMagic))
	f.Add([]byte("garbage"))
	f.Add(append([]byte(segmentMagic), 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		dir, err := os.MkdirTemp(root, "seg")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		if err := os.WriteFile(filepath.Join(dir, "00000000000000000001.seg"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		b := &Budget{max: 1 << 30}
		sp, err := openLog(dir, b, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		defer sp.close()
		var read int64
		for range len(data) + 1 {
			p, ok := sp.readNext()
			if !ok {
				break
			}
			if !bytes.Contains(data, p) {
				t.Fatal("payload not from the file")
			}
			read += int64(len(p)) + recordHeaderSize
		}
		if _, ok := sp.readNext(); ok {
			t.Fatal("reader did not terminate")
		}
		sp.commit()
		if sp.hasBacklog() || b.used.Load() != 0 {
			t.Fatalf("after commit: active=%v used=%d", sp.hasBacklog(), b.used.Load())
		}
		if len(data) > len(segmentMagic) {
			if got := read + sp.corrupt.Load() + int64(len(segmentMagic)); got != int64(len(data)) && string(data[:len(segmentMagic)]) == segmentMagic {
				t.Fatalf("read %d + corrupt %d + header != %d bytes", read, sp.corrupt.Load(), len(data))
			}
		}
	})
}
