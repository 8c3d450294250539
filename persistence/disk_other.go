//go:build !unix

package persistence

import "math"

// statfsFree: no check on this platform.
func statfsFree(string) (uint64, error) { return math.MaxUint64, nil }
