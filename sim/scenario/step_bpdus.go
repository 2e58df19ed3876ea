package scenario

import "fmt"

func init() { registerStep[BPDUStep]("bpdus", 70) }

// BPDUStep stops or resumes a switch's BPDUs while its links stay up.
type BPDUStep struct {
	Switch string `yaml:"switch"`
	State  string `yaml:"state"` // on or off
}

func (b *BPDUStep) check(c *checker, p string) {
	c.stpSwitch(p+".switch", b.Switch)
	c.oneOf(p+".state", "state", b.State, "on", "off")
}

func (b *BPDUStep) describe() string { return fmt.Sprintf("BPDUs of %s %s", b.Switch, b.State) }

func (b *BPDUStep) run(r *runner) (bool, string) {
	if err := r.w.SetBPDUTransmit(b.Switch, b.State == "on"); err != nil {
		return r.fail(err)
	}
	return true, "BPDUs " + b.State
}
