// Package ownership is the cluster's ownership directory: which node owns
// each actor (a chat, an agent, a queue...), recorded in etcd so that at
// most one node runs an actor at a time, and so that a node that dies
// gives its actors up within a lease's TTL.
//
// Each node opens one Directory. It holds one etcd lease for the node
// and binds every key it makes to it:
//
//	Prefix + kind + "/" + id  ->  node name   (default Prefix "/sb/own/")
//
// An actor activates only after Acquire made its key: create-if-absent in
// one transaction, so exactly one of any number of racing nodes wins,
// and the others are told the winner's name to redirect to. The key's
// create revision is the owner's epoch, the fencing token its durable
// writes carry: etcd's revisions only grow, so a later owner always has a
// higher epoch, and the store refuses the writes of an older one that
// did not notice it lost (design/cluster.md, section 3). Release deletes
// the key when the actor stops, only if it is still ours with that epoch.
//
// A node that dies stops renewing its lease; when etcd expires it every
// key of the node vanishes at once. A node that is alive but loses its
// lease (revoked, expired while it was paused or cut off) learns it from
// Lost and must stop its actors, close its sockets ("moved, reconnect")
// and exit: Lost says why. While etcd is unreachable, Acquire and Owner
// fail within Config.CallTimeout with ErrUnavailable (Temporary), and the
// node keeps serving the actors it owns until Deadline: the last renewal
// that succeeded, plus the TTL.
//
// Concurrency contract: a Directory's methods are safe from any goroutine
// and never block longer than Config.CallTimeout (Open: DialTimeout) or
// their context. It runs one goroutine of its own, the lease keeper, which
// Close stops. It does not touch actors: the node reacts to Lost.
package ownership
