//go:build !linux

package gateway

import "time"

// poller: parking needs epoll; elsewhere every socket keeps its reader.
type poller struct{}

var thePoller poller

func (p *poller) usable() bool                      { return false }
func (p *poller) quiet(*wsConn, time.Duration) bool { return false }
func (p *poller) park(*wsConn) bool                 { return false }
func (p *poller) take(*wsConn) bool                 { return false }
