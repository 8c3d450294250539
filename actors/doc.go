// Package actors is Switchboard's core: one Proto.Actor actor per chat,
// agent, visitor session, routing group and queue, and the messages they
// exchange to route and run chats.
//
// Concurrency contract: all state lives in actor fields and is touched only
// from that actor's Receive. Actors never block: storage writes go through
// the Store's batching writer and come back as a Persisted message; reads
// of small records are allowed. Actors address each other by kind and id
// (a Name) through Broker.PID, never by PIDs kept in long-lived state (the
// PIDs of websocket connections, which live and die with the connection,
// are the exception). The Broker's own methods are safe from any
// goroutine.
//
// Routing is an exchange, so over-assignment is impossible by construction:
// a queue offers a chat to an agent actor, the agent actor alone decides
// (it reserves a slot for the offer, and accepts or declines), the queue
// hands an accepted chat to the chat actor, and the chat actor stores the
// assignment before anyone is told. The rules are plain code with table
// tests: whom to offer a chat (routing.go), the queue's line, wait
// estimate and monitor throttle (queue_line.go, queue_estimate.go,
// queue_views.go); the queue actor composes them.
//
// The simulator (sim_*.go, switchboard simulate) runs the same queue
// code outside any actor: a queue's behaviour is queue.handle and its
// whole outside world a queueHost, so a simHost replays a recorded
// routing journal (ReplayCheck: every decision must come out again) or
// runs a discrete-event what-if on a simulated clock (Simulate), with
// agents, chats and visitors modelled from the recorded traffic. It is
// single-threaded and shares nothing.
//
// The source of truth is the chat log. Every event that changes a chat's
// state updates the open-chats index in the same batch; after a restart,
// Broker.Recover rebuilds queues (in ticket order) and agents' loads from
// that index.
//
// Metrics (metrics.go, Config.Metrics; nil: off) are moved by the actor
// that is the authority on each number: the queue for its line, waits and
// offers, the chat actor for what its log stores, the group (and the
// queue and visitor actors, for the refusals they make) for refusals, the
// agent actor for its own status. Their labels are bounded: departments,
// statuses, reasons, results, kinds; never an id. A chat message's
// latency breakdown (stages.go) is shared with the gateway: the chat
// actor observes its first stages from the read time the message carries,
// the connection's writer the last. Prometheus's types are
// safe from any goroutine, so a scrape reads them without touching actor
// state.
package actors
