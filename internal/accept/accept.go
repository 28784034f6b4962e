// Package accept is the accept loop the API servers share.
package accept

import (
	"errors"
	"net"
	"time"
)

// Loop accepts connections on ln and hands each to handle, which must not
// block, until Accept fails. It returns nil if done was closed by then (the
// server closed ln), else the error. A timeout from Accept (a transient
// shortage of file descriptors, say) is retried after a short pause
// instead of stopping the server.
func Loop(ln net.Listener, done <-chan struct{}, handle func(net.Conn)) error {
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-done:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return err
		}
		handle(nc)
	}
}
