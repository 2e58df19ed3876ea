package link

import (
	"sync/atomic"
)

// Receiver takes what an endpoint delivers: frames, plain or with offload
// metadata, and carrier changes. Receive and ReceiveOffload must not keep
// frame after they return (the Sender rule).
type Receiver interface {
	Receive(frame []byte) error
	// ReceiveOffload takes a frame with offload metadata. A receiver
	// that cannot use the metadata resolves the frame (Resolve).
	ReceiveOffload(frame []byte, o Offload) error
	// Carrier says the carrier went up or down.
	Carrier(up bool)
}

// Endpoint is one port of a node, or one end of a link: what is handed to
// it (as a Receiver) goes into what is behind it, and what comes out of it
// goes to the Receiver attached, or nowhere while none is. Attach(nil)
// detaches. Switch ports, host interfaces, gateway legs, TAP devices and
// simulated link ends are all Endpoints, so any two can be joined back to
// back (Join) and an endpoint can be wrapped (capture, a frame budget).
// Attach may be called while frames flow: a frame already on its way may
// still reach the old receiver.
type Endpoint interface {
	Receiver
	Attach(r Receiver)
}

// Join attaches a and b to each other: what comes out of one goes into the
// other, and each hears the other's carrier.
func Join(a, b Endpoint) {
	a.Attach(b)
	b.Attach(a)
}

// Unjoin detaches a and b from each other.
func Unjoin(a, b Endpoint) {
	a.Attach(nil)
	b.Attach(nil)
}

// Out is the sending side of a node's port: the node sends through it
// (it is an OffloadSender), and it hands what it is given to the Receiver
// attached, atomically replaceable while frames flow. Without one, Send
// fails with ErrDown. The zero value has nothing attached.
type Out struct {
	r atomic.Pointer[box]
}

// box holds a Receiver for an atomic pointer.
type box struct{ r Receiver }

var _ OffloadSender = (*Out)(nil)

// Attach sets where frames go; nil: nowhere.
func (o *Out) Attach(r Receiver) {
	if r == nil {
		o.r.Store(nil)
		return
	}
	o.r.Store(&box{r})
}

// Send hands frame to the receiver attached.
func (o *Out) Send(frame []byte) error {
	b := o.r.Load()
	if b == nil {
		return ErrDown
	}
	return b.r.Receive(frame)
}

// SendOffload hands a frame with offload metadata to the receiver
// attached.
func (o *Out) SendOffload(frame []byte, off Offload) error {
	b := o.r.Load()
	if b == nil {
		return ErrDown
	}
	if !off.Pending() {
		return b.r.Receive(frame)
	}
	return b.r.ReceiveOffload(frame, off)
}

// Carrier tells the receiver attached that the carrier went up or down.
func (o *Out) Carrier(up bool) {
	if b := o.r.Load(); b != nil {
		b.r.Carrier(up)
	}
}

// Port is a node's port as an Endpoint, for nodes that take frames by
// port index: Input and InputOffload receive, SetCarrier hears the
// carrier, and the node sends through Out.
type Port struct {
	Out
	Input        func(frame []byte)
	InputOffload func(frame []byte, o Offload) // nil: offload frames are resolved first
	SetCarrier   func(up bool)                 // nil: carrier is not heard
}

var _ Endpoint = (*Port)(nil)

// Receive takes a frame into the node.
func (p *Port) Receive(frame []byte) error {
	p.Input(frame)
	return nil
}

// ReceiveOffload takes a frame with offload metadata into the node.
func (p *Port) ReceiveOffload(frame []byte, o Offload) error {
	if p.InputOffload == nil {
		_, _, err := ResolveTo(Func(p.Receive), frame, o)
		return err
	}
	p.InputOffload(frame, o)
	return nil
}

// Carrier passes a carrier change to the node.
func (p *Port) Carrier(up bool) {
	if p.SetCarrier != nil {
		p.SetCarrier(up)
	}
}

// Send and SendOffload are the node's: Out's. Carrier from the node is
// not passed on (a node's port going down is its own state).

// Funcs adapts functions to a Receiver: Frame gets every frame (offload
// frames resolved first), Up each carrier change. Either may be nil.
type Funcs struct {
	Frame func(frame []byte)
	Up    func(up bool)
}

var _ Receiver = Funcs{}

// Receive calls Frame.
func (f Funcs) Receive(frame []byte) error {
	if f.Frame != nil {
		f.Frame(frame)
	}
	return nil
}

// ReceiveOffload resolves the frame and calls Frame with each piece.
func (f Funcs) ReceiveOffload(frame []byte, o Offload) error {
	_, _, err := ResolveTo(Func(f.Receive), frame, o)
	return err
}

// Carrier calls Up.
func (f Funcs) Carrier(up bool) {
	if f.Up != nil {
		f.Up(up)
	}
}
