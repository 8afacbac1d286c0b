package files

import (
	"fmt"
	"os"
)

// Modes of what the writers create, as the original.
const (
	dirMode  = 0o700
	fileMode = 0o600
)

func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("create %s: %w (check the interceptor's directory setting and its permissions)", dir, err)
	}
	return nil
}

func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, nil
}

// appendAll writes b at the end of f in one call. When the write fails
// part way, the file is truncated back so that a retried batch does not
// leave half a line or a duplicate behind.
func appendAll(f *os.File, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Truncate(st.Size())
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return nil
}

// appendFile appends b to the file at path, creating it.
func appendFile(path string, b []byte) error {
	f, err := openAppend(path)
	if err != nil {
		return err
	}
	werr := appendAll(f, b)
	cerr := f.Close()
	if werr != nil {
		return werr
	}
	if cerr != nil {
		return fmt.Errorf("close %s: %w", path, cerr)
	}
	return nil
}

// writeFileAtomic replaces path with b: a reader never sees half a file,
// and a failed write leaves the previous content.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return fmt.Errorf("open %s: %w", tmp, err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}
