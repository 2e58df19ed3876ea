package scenario

import (
	"fmt"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"
)

func init() { registerStep[WaitStep]("wait", 30) }

// WaitStep lets time pass: wait: 10s.
type WaitStep time.Duration

// decodeNode reads a duration, as every duration is read (ParseDuration):
// never negative.
func (w *WaitStep) decodeNode(d *decoder, n *yaml.Node, path string) {
	var t time.Duration
	d.decode(n, reflect.ValueOf(&t).Elem(), path)
	*w = WaitStep(t)
}

func (w *WaitStep) check(*checker, string) {}

func (w *WaitStep) describe() string { return fmt.Sprintf("wait %v", time.Duration(*w)) }

func (w *WaitStep) run(r *runner) (bool, string) {
	if err := r.b.Wait(time.Duration(*w)); err != nil {
		return r.fail(err)
	}
	now := r.b.Elapsed().Seconds()
	r.seen.Now = &now
	return true, fmt.Sprintf("now at %s", stamp(r.b.Elapsed()))
}
