// Package replica puts a persistence.Store under a replicated log in
// cluster mode (issue 15): hashicorp/raft, with Pebble v2 as the Raft log
// store and the Store's own Pebble as the state machine.
//
// One Raft group holds every entity. Each node's batching writer proposes
// its batch as one command; a follower forwards it to the leader over the
// node's cluster port, where Raft batches the proposals of every node into
// one synced append (group commit, one level up). A request is
// acknowledged once a quorum has the command and the proposing node's own
// state machine applied it. The state machine refuses a fenced writer's
// request and a chat append that does not continue the log, and applies a
// command proposed twice (a retry after a leader change) once.
//
// One TCP port per node carries both Raft's traffic and the forwarded
// proposals: the first byte of a connection says which, and a hash of the
// cluster key follows, so only the cluster's own nodes talk on it.
package replica
