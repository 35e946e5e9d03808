package webguard

import (
	"errors"
	"net/http"
	"os"
	"time"
)

// writeChunk is the piece of an answer that must go out within
// WriteStallTimeout: a client has to read at least this much in that time.
const writeChunk = 64 << 10

// guardedWriter sends an answer in pieces of writeChunk bytes, each with a
// write deadline of its own (never past the request's WriteTimeout), and
// gives back the request's slot when the first bytes go out.
//
// One deadline for the whole answer (http.Server.WriteTimeout) lets a
// client that never reads hold the connection, and with it the slot, for
// all of it; the kernel's socket buffers take the first megabytes whether
// the client reads or not.
type guardedWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	stall   time.Duration // 0: no deadline per piece
	end     time.Time     // the request's WriteTimeout; zero: none
	release func()        // gives the slot back; nil when there is none (left)
	stalled bool
	g       *Guard
}

func (g *Guard) newWriter(w http.ResponseWriter) *guardedWriter {
	gw := &guardedWriter{ResponseWriter: w, rc: http.NewResponseController(w), stall: g.opts.WriteStallTimeout, g: g}
	if g.opts.WriteTimeout > 0 {
		gw.end = time.Now().Add(g.opts.WriteTimeout)
	} else if gw.stall > 0 {
		// The server sets no deadline of its own per request: clear the
		// one the previous answer on this connection left.
		_ = gw.rc.SetWriteDeadline(time.Time{})
	}
	return gw
}

// Write implements http.ResponseWriter.
func (w *guardedWriter) Write(p []byte) (int, error) {
	w.giveBack()
	if w.stall <= 0 {
		return w.ResponseWriter.Write(p)
	}
	n := 0
	for len(p) > 0 {
		w.setDeadline()
		m, err := w.ResponseWriter.Write(p[:min(len(p), writeChunk)])
		n += m
		if err != nil {
			w.noteStall(err)
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// Flush implements http.Flusher, with the deadline of a piece.
func (w *guardedWriter) Flush() {
	w.giveBack()
	w.setDeadline()
	w.noteStall(w.rc.Flush())
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *guardedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *guardedWriter) setDeadline() {
	if w.stall <= 0 {
		return
	}
	d := time.Now().Add(w.stall)
	if !w.end.IsZero() && w.end.Before(d) {
		d = w.end
	}
	// Not every writer supports deadlines (ErrNotSupported): those answer
	// with the server's WriteTimeout alone.
	_ = w.rc.SetWriteDeadline(d)
}

// noteStall counts an answer cut off by a piece's deadline, once.
func (w *guardedWriter) noteStall(err error) {
	if err != nil && !w.stalled && errors.Is(err, os.ErrDeadlineExceeded) {
		w.stalled = true
		w.g.stalled.Inc()
	}
}

// giveBack releases the request's slot, once.
func (w *guardedWriter) giveBack() {
	if w.release != nil {
		w.release()
		w.release = nil
	}
}

// done ends the request: the slot goes back if no byte went out.
func (w *guardedWriter) done() { w.giveBack() }
