package ipam

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseRequest reads a network request in the words of docker network
// create: comma-separated key=value pairs with the keys subnet, gateway,
// ip-range (or ip_range) and aux-address (or aux_address, as name=address,
// repeatable). The empty string is a request with every default.
//
//	subnet=172.30.0.0/24,gateway=172.30.0.254,ip-range=172.30.0.128/25,aux-address=router=172.30.0.2
func ParseRequest(name, s string) (Request, error) {
	r := Request{Name: name}
	if strings.TrimSpace(s) == "" {
		return r, nil
	}
	for _, part := range strings.Split(s, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Request{}, fmt.Errorf("ipam: %q: want key=value", part)
		}
		var err error
		switch strings.ReplaceAll(key, "_", "-") {
		case "subnet":
			r.Subnet, err = netip.ParsePrefix(val)
		case "gateway":
			r.Gateway, err = netip.ParseAddr(val)
		case "ip-range":
			r.IPRange, err = netip.ParsePrefix(val)
		case "aux-address":
			an, av, ok := strings.Cut(val, "=")
			if !ok || an == "" {
				return Request{}, fmt.Errorf("ipam: aux-address %q: want name=address", val)
			}
			var a netip.Addr
			if a, err = netip.ParseAddr(av); err == nil {
				if r.Aux == nil {
					r.Aux = map[string]netip.Addr{}
				}
				if _, dup := r.Aux[an]; dup {
					return Request{}, fmt.Errorf("ipam: aux-address %q given twice", an)
				}
				r.Aux[an] = a
			}
		default:
			return Request{}, fmt.Errorf("ipam: unknown option %q (want subnet, gateway, ip-range or aux-address)", key)
		}
		if err != nil {
			return Request{}, fmt.Errorf("ipam: %s: %w", key, err)
		}
	}
	return r, nil
}
