//go:build !unix

package main

import "github.com/rs/zerolog"

// raiseFDLimit: there is no open-file limit to raise here; 0 leaves
// server.max_conns unlimited when it is 0.
func raiseFDLimit(zerolog.Logger) uint64 { return 0 }

func autoMaxConns(uint64) int { return 0 }
