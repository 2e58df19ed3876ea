package dnsd

import (
	"errors"
	"net"
	"testing"
)

// fakeListener hands out the connections sent on its channel.
type fakeListener struct{ conns chan net.Conn }

func (l fakeListener) Accept() (net.Conn, error) {
	c, ok := <-l.conns
	if !ok {
		return nil, errors.New("closed")
	}
	return c, nil
}
func (l fakeListener) Close() error   { return nil }
func (l fakeListener) Addr() net.Addr { return &net.TCPAddr{} }

// TestLimitListener: beyond its limit a connection is closed and counted;
// closing one (twice, even) gives exactly one place back.
func TestLimitListener(t *testing.T) {
	s := New(Options{})
	fl := fakeListener{make(chan net.Conn, 8)}
	l := &limitListener{Listener: fl, s: s, sem: make(chan struct{}, 2)}
	pipe := func() (net.Conn, net.Conn) { a, b := net.Pipe(); return a, b }
	accept := func() net.Conn {
		c, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	s1, _ := pipe()
	s2, _ := pipe()
	fl.conns <- s1
	fl.conns <- s2
	c1, _ := accept(), accept()

	got := make(chan net.Conn)
	go func() { c, _ := l.Accept(); got <- c }()
	s3, p3 := pipe()
	fl.conns <- s3 // over the limit: closed
	if _, err := p3.Read(make([]byte, 1)); err == nil {
		t.Error("the connection over the limit was not closed")
	}
	_ = c1.Close()
	_ = c1.Close()
	s4, _ := pipe()
	fl.conns <- s4
	if c, ok := (<-got).(*limitConn); !ok || c.Conn != s4 {
		t.Fatalf("accepted %v, want the fourth connection", c)
	}
	if n := s.Stats().TCPRefused; n != 1 {
		t.Errorf("TCPRefused = %d, want 1", n)
	}
	if len(l.sem) != 2 {
		t.Errorf("%d places taken, want 2 (a double Close gave back two)", len(l.sem))
	}
}
