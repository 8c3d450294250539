package etcdtest

import (
	"context"
	"testing"
	"time"
)

// The fixture's etcd serves, stops answering while paused, answers again
// when resumed, and keeps its data across a restart on the same ports.
func TestPauseResumeRestart(t *testing.T) {
	e := Start(t)
	cli := e.Client()
	call := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := cli.Get(ctx, "k")
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	e.Pause()
	if err := call(200 * time.Millisecond); err == nil {
		t.Fatal("a paused etcd answered")
	}
	e.Resume()
	if err := call(5 * time.Second); err != nil {
		t.Fatalf("after Resume: %v", err)
	}
	e.Restart()
	resp, err := cli.Get(ctx, "k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("after Restart: %v %v", resp, err)
	}
}
