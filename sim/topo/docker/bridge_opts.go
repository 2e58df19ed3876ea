package docker

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/netyard/netyard/sim/topo"
)

// The bridge driver's options (docker network create -o, compose's
// driver_opts), read as moby's bridge driver reads them
// (daemon/libnetwork/drivers/bridge, networkConfiguration.fromLabels):
// booleans by strconv.ParseBool, the MTU by strconv.Atoi, a value that
// does not parse refused in Docker's words.
const (
	OptMTU        = "com.docker.network.driver.mtu"
	OptICC        = "com.docker.network.bridge.enable_icc"
	OptMasquerade = "com.docker.network.bridge.enable_ip_masquerade"
)

// bridgeOpts are the options netyard's bridge driver models.
var bridgeOpts = []string{OptMTU, OptICC, OptMasquerade}

// DriverOpts returns the options the model gives network name (nil for
// none, and for the networks Docker predefines).
func (h *HostPlan) DriverOpts(name string) map[string]string {
	for _, m := range h.c.m.Networks {
		if m.Name == name {
			return m.DriverOpts
		}
	}
	return nil
}

// bridgeOptions reads n's driver options into n, reporting with bad at
// path p; it returns false when one is refused. Docker's bridge driver
// ignores keys it does not know; netyard refuses them, since it would
// not do what they ask.
func bridgeOptions(h *HostPlan, n *topo.Network, p string, bad func(path, format string, a ...any)) bool {
	opts := h.DriverOpts(n.Name)
	ok := true
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		v, kp := opts[k], p+".driver_opts."+k
		parseErr := func(err error) {
			// Docker's parseErr, with strconv's reason.
			bad(kp, "failed to parse %s value: %v (%s)", k, v, err)
			ok = false
		}
		switch k {
		case OptMTU:
			mtu, err := strconv.Atoi(v)
			switch {
			case err != nil:
				parseErr(err)
			case mtu < 0:
				bad(kp, "invalid MTU number: %d", mtu)
				ok = false
			case mtu != 0 && (mtu < 68 || mtu > 65535):
				bad(kp, "MTU %d: Linux takes 68-65535 on a bridge's interfaces", mtu)
				ok = false
			default:
				n.MTU = mtu
			}
		case OptICC, OptMasquerade:
			b, err := strconv.ParseBool(v)
			if err != nil {
				parseErr(err)
				continue
			}
			if k == OptICC {
				n.NoICC = !b
			} else {
				n.NoMasquerade = !b
			}
		default:
			bad(kp, "option %q: netyard's bridge driver takes %s%s", k, strings.Join(bridgeOpts, ", "), topo.DidYouMean(k, bridgeOpts))
			ok = false
		}
	}
	return ok
}

// isolate makes container's port on n's switch isolated (enable_icc
// false): Docker drops what its containers send each other on the bridge
// (its DOCKER-ICC rules, through br_netfilter); the Linux bridge's own way
// of saying it is the port flag isolated, which lets every container talk
// to the gateway and none to another.
func isolate(h *HostPlan, n *topo.Network, container string) {
	if sw := h.Graph.Switch(h.SwitchName(n.Bridge)); sw != nil {
		sw.Ports = append(sw.Ports, topo.Port{Name: container, Isolated: true})
	}
}

// noOptions refuses, at path p, every driver option n was given: driver
// takes none that netyard models. It reports whether there were none.
func noOptions(h *HostPlan, n *topo.Network, p, driver string) bool {
	opts := h.DriverOpts(n.Name)
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		h.Bad(p+".driver_opts."+k, "option %q: netyard's %s driver takes no options", k, driver)
	}
	return len(opts) == 0
}
