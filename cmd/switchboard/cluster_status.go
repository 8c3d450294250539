// GET /cluster/status on every node, and `switchboard cluster`, which
// reads it from each node: the members, their role, the Raft leader and
// the applied index on each, and who owns a given chat.

package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence/replica"
)

// ClusterStatus is one node's answer to GET /cluster/status.
type ClusterStatus struct {
	Node string `json:"node"`
	// Role: "owner" (it runs the actors) or "standby" (it forwards its
	// clients to the owner).
	Role string `json:"role"`
	Addr string `json:"addr"`
	// Owner and Epoch: the node that owns the actors, and its epoch, as
	// etcd records them; empty while none does.
	Owner string `json:"owner"`
	Epoch int64  `json:"epoch,omitempty"`
	// Fence is the newest owner epoch this node's replica has seen.
	Fence uint64         `json:"fence"`
	Raft  replica.Status `json:"raft"`
	// Chat answers ?chat=ID: who owns it and how far its log is here.
	Chat *ChatOwner `json:"chat,omitempty"`
}

// ChatOwner is who owns a chat: the node that owns the actors, and the
// chat's last sequence on the asked node's replica.
type ChatOwner struct {
	ID      string `json:"id"`
	Owner   string `json:"owner"`
	LastSeq uint64 `json:"last_seq"`
}

// routes adds the cluster's own routes before h.
func (n *clusterNode) routes(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cluster/status", n.serveStatus)
	mux.HandleFunc("POST /cluster/leave", n.serveLeave)
	mux.Handle("/", h)
	return mux
}

// authorized checks the operator token, sent as a bearer token; it
// answers 401 when it is not.
func (n *clusterNode) authorized(w http.ResponseWriter, r *http.Request) bool {
	got := sha256.Sum256([]byte(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")))
	want := sha256.Sum256([]byte(operatorToken(n.cfg.Cluster.Key)))
	if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
		return true
	}
	gateway.WriteError(w, messages.Errorf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED,
		"the cluster's routes need the operator token: Authorization: Bearer <switchboard cluster -print-token>"))
	return false
}

// operatorToken is what the cluster's HTTP routes take as a bearer token:
// an HMAC of the cluster key, so the key itself, which opens the cluster
// port, never travels on the client port.
func operatorToken(clusterKey string) string {
	mac := hmac.New(sha256.New, []byte(clusterKey))
	mac.Write([]byte("switchboard cluster operator token"))
	return hex.EncodeToString(mac.Sum(nil))
}

// serveStatus needs the cluster key as a bearer token: it is for the
// operators who run the nodes.
func (n *clusterNode) serveStatus(w http.ResponseWriter, r *http.Request) {
	if !n.authorized(w, r) {
		return
	}
	st := ClusterStatus{Node: n.cfg.Cluster.Name, Role: n.role.Load().(string), Addr: n.addr, Raft: n.rep.Status()}
	claim, found, err := n.directory().Owner(r.Context(), ownerKind, ownerID)
	if err != nil {
		gateway.WriteError(w, messages.Errorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "etcd: %v", err))
		return
	}
	if found {
		st.Owner, st.Epoch = claim.Owner, claim.Epoch
	}
	st.Fence, _ = n.store.Fence(ownerEntity)
	if id := r.URL.Query().Get("chat"); id != "" {
		last, err := n.store.LastChatSeq(id)
		if err != nil {
			gateway.WriteError(w, err)
			return
		}
		st.Chat = &ChatOwner{ID: id, Owner: st.Owner, LastSeq: last}
	}
	writeClusterJSON(w, http.StatusOK, st)
}

func writeClusterJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// runCluster is `switchboard cluster`: it asks every node it is given.
func runCluster(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("switchboard cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addrs := fs.String("addr", env("SWITCHBOARD_ADDR", defaultAddr), "the nodes' client addresses, comma-separated (env SWITCHBOARD_ADDR)")
	chat := fs.String("chat", "", "also tell who owns this chat and its last sequence on each node")
	asJSON := fs.Bool("json", false, "print each node's status as JSON, one per line")
	printToken := fs.Bool("print-token", false, "print the operator token the cluster's HTTP routes take (derived from the cluster key) and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: switchboard cluster [-addr host:port,...] [-chat ID] [-json]\n\nThe cluster key is read from SWITCHBOARD_CLUSTER_KEY.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	key := env("SWITCHBOARD_CLUSTER_KEY", "")
	if key == "" {
		return errors.New("cluster: set SWITCHBOARD_CLUSTER_KEY to the cluster key")
	}
	if *printToken {
		fmt.Fprintln(stdout, operatorToken(key))
		return nil
	}
	var all []ClusterStatus
	var failed []string
	for _, a := range splitList(*addrs) {
		st, err := fetchStatus(ctx, a, key, *chat)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", a, err))
			continue
		}
		all = append(all, st)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, st := range all {
			enc.Encode(st)
		}
	} else {
		printStatus(stdout, all, *chat != "")
	}
	for _, f := range failed {
		fmt.Fprintln(stderr, "unreachable:", f)
	}
	if len(all) == 0 {
		return errors.New("cluster: no node answered")
	}
	return nil
}

func fetchStatus(ctx context.Context, addr, key, chat string) (ClusterStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	u := "http://" + addr + "/cluster/status"
	if chat != "" {
		u += "?chat=" + url.QueryEscape(chat)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return ClusterStatus{}, err
	}
	req.Header.Set("Authorization", "Bearer "+operatorToken(key))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ClusterStatus{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return ClusterStatus{}, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var st ClusterStatus
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func printStatus(w io.Writer, all []ClusterStatus, chat bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "NODE\tROLE\tADDR\tRAFT\tLEADER\tTERM\tCOMMIT\tAPPLIED\tOWNER\tEPOCH"
	if chat {
		head += "\tCHAT\tLAST SEQ"
	}
	fmt.Fprintln(tw, head)
	for _, s := range all {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%d", s.Node, s.Role, s.Addr, s.Raft.State, s.Raft.LeaderID,
			s.Raft.Term, s.Raft.CommitIndex, s.Raft.AppliedIndex, s.Owner, s.Epoch)
		if chat && s.Chat != nil {
			line += fmt.Sprintf("\t%s (owner %s)\t%d", s.Chat.ID, s.Chat.Owner, s.Chat.LastSeq)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}
