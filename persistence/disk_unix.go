//go:build unix

package persistence

import "syscall"

// statfsFree is the space an unprivileged process may use on dir's disk.
func statfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
