package loadgen

import "bytes"

// sseScanner finds the ends of Server-Sent Events in a body fed to it in
// arbitrary pieces: an event ends at an empty line ("\n\n" or "\r\n\r\n")
// that follows at least one non-empty line.
type sseScanner struct {
	lineHasContent bool
	inEvent        bool
}

// feed scans p and returns how many events ended in it.
func (s *sseScanner) feed(p []byte) int {
	ended := 0
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		if len(seg) > 1 || (len(seg) == 1 && seg[0] != '\r') {
			s.lineHasContent = true
		}
		if i < 0 {
			break
		}
		if s.lineHasContent {
			s.inEvent = true
		} else if s.inEvent {
			ended++
			s.inEvent = false
		}
		s.lineHasContent = false
		p = p[i+1:]
	}
	return ended
}

func (s *sseScanner) reset() { *s = sseScanner{} }
