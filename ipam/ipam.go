package ipam

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Errors callers branch on.
var (
	ErrOverlap    = errors.New("ipam: subnet overlaps an allocated one")
	ErrExhausted  = errors.New("ipam: no free subnet or address left")
	ErrTaken      = errors.New("ipam: address already in use")
	ErrOutOfRange = errors.New("ipam: address outside the subnet or range")
	ErrUnknown    = errors.New("ipam: unknown network")
	ErrExists     = errors.New("ipam: network already exists")
)

// Pool is a base prefix cut into subnets of a given size.
type Pool struct {
	Base netip.Prefix
	Size int // prefix length of each subnet
}

// DefaultPools are Docker's default address pools, in order.
func DefaultPools() []Pool {
	var p []Pool
	for i := 17; i <= 31; i++ {
		p = append(p, Pool{Base: netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(i), 0, 0}), 16), Size: 16})
	}
	return append(p, Pool{Base: netip.MustParsePrefix("192.168.0.0/16"), Size: 20})
}

// GlobalPools are the address pools of Docker's swarm-scoped networks
// (overlays): 10.0.0.0/8 cut into /24s (docker swarm init's
// --default-addr-pool and its --default-addr-pool-mask-length 24).
func GlobalPools() []Pool {
	return []Pool{{Base: netip.MustParsePrefix("10.0.0.0/8"), Size: 24}}
}

// Request asks for a network. Zero fields take the defaults.
type Request struct {
	Name    string
	Subnet  netip.Prefix          // default: the next free pool subnet
	Gateway netip.Addr            // default: the subnet's first usable address
	IPRange netip.Prefix          // addresses for endpoints come from here; default the subnet
	Aux     map[string]netip.Addr // auxiliary addresses, reserved, never handed out
	// Serial hands addresses out serially (the next free after the last
	// given), as swarm's allocator asks for overlays; default first-free.
	Serial bool
	// Share names networks whose subnet this one may overlap: a macvlan
	// or ipvlan network on the LAN's own subnet shares it with the LAN
	// (which the host's IPAM holds so that no bridge overlaps it).
	Share []string
}

// Network is an allocated network.
type Network struct {
	Name    string                `json:"name"`
	Subnet  netip.Prefix          `json:"subnet"`
	Gateway netip.Addr            `json:"gateway"`
	IPRange netip.Prefix          `json:"ip_range"`
	Aux     map[string]netip.Addr `json:"aux,omitempty"`
	Used    []netip.Addr          `json:"used"` // endpoint addresses, sorted
	Last    netip.Addr            `json:"last"` // last address handed out (serial allocation)
	Serial  bool                  `json:"serial,omitempty"`
}

// Allocator is an IPAM instance.
type Allocator struct {
	mu       sync.Mutex
	pools    []Pool              // immutable
	networks map[string]*Network // guarded by mu
	cursor   int                 // guarded by mu; where the next search of the pools' subnets starts
}

// New returns an allocator over pools (nil: DefaultPools).
func New(pools []Pool) *Allocator {
	if pools == nil {
		pools = DefaultPools()
	}
	return &Allocator{pools: pools, networks: map[string]*Network{}}
}

func overlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }

func (a *Allocator) overlapsLocked(p netip.Prefix, share ...[]string) string {
	for _, n := range a.sortedLocked() {
		if overlaps(n.Subnet, p) && (len(share) == 0 || !slices.Contains(share[0], n.Name)) {
			return n.Name
		}
	}
	return ""
}

func (a *Allocator) sortedLocked() []*Network {
	ns := make([]*Network, 0, len(a.networks))
	for _, n := range a.networks {
		ns = append(ns, n)
	}
	slices.SortFunc(ns, func(x, y *Network) int { return strings.Compare(x.Name, y.Name) })
	return ns
}

// RequestNetwork allocates a network.
func (a *Allocator) RequestNetwork(r Request) (*Network, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Name == "" {
		return nil, errors.New("ipam: a network needs a name")
	}
	if a.networks[r.Name] != nil {
		return nil, fmt.Errorf("%w: %s", ErrExists, r.Name)
	}
	subnet := r.Subnet
	if subnet.IsValid() {
		if !subnet.Addr().Is4() || subnet.Bits() > 30 {
			return nil, fmt.Errorf("ipam: subnet %s: want an IPv4 prefix of /30 or larger", subnet)
		}
		if subnet != subnet.Masked() {
			return nil, fmt.Errorf("ipam: subnet %s has host bits set (did you mean %s?)", subnet, subnet.Masked())
		}
		if other := a.overlapsLocked(subnet, r.Share); other != "" {
			return nil, fmt.Errorf("%w: %s overlaps network %s", ErrOverlap, subnet, other)
		}
	} else {
		var ok bool
		if subnet, ok = a.nextPoolSubnetLocked(); !ok {
			return nil, fmt.Errorf("%w: every default pool subnet is in use", ErrExhausted)
		}
	}
	n := &Network{Name: r.Name, Subnet: subnet, Gateway: r.Gateway, IPRange: cmp.Or(r.IPRange, subnet), Aux: map[string]netip.Addr{}, Serial: r.Serial}
	if !n.Gateway.IsValid() {
		n.Gateway = subnet.Addr().Next()
	}
	if !n.usable(n.Gateway) {
		return nil, fmt.Errorf("%w: gateway %s is not a usable address of %s", ErrOutOfRange, n.Gateway, subnet)
	}
	if r.IPRange.IsValid() && (r.IPRange != r.IPRange.Masked() || !subnet.Contains(r.IPRange.Addr()) || r.IPRange.Bits() < subnet.Bits()) {
		return nil, fmt.Errorf("%w: ip_range %s is not a sub-range of %s", ErrOutOfRange, r.IPRange, subnet)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Aux)) {
		addr := r.Aux[name]
		if !n.usable(addr) || addr == n.Gateway {
			return nil, fmt.Errorf("%w: auxiliary address %s=%s is not a free usable address of %s", ErrOutOfRange, name, addr, subnet)
		}
		n.Aux[name] = addr
	}
	a.networks[n.Name] = n
	return n.clone(), nil
}

// nextPoolSubnetLocked returns the first pool subnet that overlaps
// nothing, searching the pools' subnets (in order, as one list) from the
// one after the last handed out and wrapping round, as Docker 20.10's
// getPredefinedPool does: a released subnet is given again only once the
// list has gone round.
func (a *Allocator) nextPoolSubnetLocked() (netip.Prefix, bool) {
	total := 0
	for _, p := range a.pools {
		total += 1 << (p.Size - p.Base.Bits())
	}
	for k := range total {
		i := (a.cursor + k) % total
		cand := a.poolSubnet(i)
		if a.overlapsLocked(cand) == "" {
			a.cursor = (i + 1) % total
			return cand, true
		}
	}
	return netip.Prefix{}, false
}

// poolSubnet returns the i-th subnet of the pools, counted across them in
// order.
func (a *Allocator) poolSubnet(i int) netip.Prefix {
	for _, p := range a.pools {
		count := 1 << (p.Size - p.Base.Bits())
		if i >= count {
			i -= count
			continue
		}
		v := addrU32(p.Base.Masked().Addr()) + uint32(i)<<(32-p.Size)
		return netip.PrefixFrom(u32Addr(v), p.Size)
	}
	return netip.Prefix{}
}

// ReleaseNetwork frees a network and its subnet.
func (a *Allocator) ReleaseNetwork(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.networks[name] == nil {
		return fmt.Errorf("%w: %s", ErrUnknown, name)
	}
	delete(a.networks, name)
	return nil
}

// Network returns a copy of the named network.
func (a *Allocator) Network(name string) (*Network, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.networks[name]
	if n == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknown, name)
	}
	return n.clone(), nil
}

// Networks returns copies of every network, sorted by name.
func (a *Allocator) Networks() []*Network {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*Network
	for _, n := range a.sortedLocked() {
		out = append(out, n.clone())
	}
	return out
}

// RequestAddress gives network name an endpoint address: want if it is
// valid (a static address), else the next free one.
func (a *Allocator) RequestAddress(name string, want netip.Addr) (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.networks[name]
	if n == nil {
		return netip.Addr{}, fmt.Errorf("%w: %s", ErrUnknown, name)
	}
	if want.IsValid() {
		if !n.usable(want) {
			return netip.Addr{}, fmt.Errorf("%w: %s is not a usable address of %s", ErrOutOfRange, want, n.Subnet)
		}
		if why := n.reserved(want); why != "" {
			return netip.Addr{}, fmt.Errorf("%w: %s is %s", ErrTaken, want, why)
		}
		n.take(want)
		return want, nil
	}
	first, last := rangeOf(n.IPRange)
	size := int(last - first + 1)
	cur := first - 1 // first-free: from the bottom of the range every time
	if n.Serial && n.Last.IsValid() && n.IPRange.Contains(n.Last) {
		cur = addrU32(n.Last)
	}
	for range size {
		cur++
		if cur > last {
			cur = first
		}
		c := u32Addr(cur)
		if n.usable(c) && n.reserved(c) == "" {
			n.take(c)
			n.Last = c
			return c, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%w: network %s has no free address in %s", ErrExhausted, name, n.IPRange)
}

// ReleaseAddress frees an endpoint address.
func (a *Allocator) ReleaseAddress(name string, addr netip.Addr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.networks[name]
	if n == nil {
		return fmt.Errorf("%w: %s", ErrUnknown, name)
	}
	i, found := slices.BinarySearchFunc(n.Used, addr, func(x, y netip.Addr) int { return x.Compare(y) })
	if !found {
		return fmt.Errorf("ipam: %s is not allocated in %s", addr, name)
	}
	n.Used = slices.Delete(n.Used, i, i+1)
	return nil
}

func (n *Network) take(a netip.Addr) {
	i, _ := slices.BinarySearchFunc(n.Used, a, func(x, y netip.Addr) int { return x.Compare(y) })
	n.Used = slices.Insert(n.Used, i, a)
}

// usable reports whether a is a host address of the subnet (not the
// network or broadcast address).
func (n *Network) usable(a netip.Addr) bool {
	if !a.Is4() || !n.Subnet.Contains(a) {
		return false
	}
	first, last := rangeOf(n.Subnet)
	v := addrU32(a)
	return v != first && v != last
}

// reserved says why a is not free, or "".
func (n *Network) reserved(a netip.Addr) string {
	if a == n.Gateway {
		return "the gateway"
	}
	for name, x := range n.Aux {
		if x == a {
			return "the auxiliary address " + name
		}
	}
	if _, found := slices.BinarySearchFunc(n.Used, a, func(x, y netip.Addr) int { return x.Compare(y) }); found {
		return "in use"
	}
	return ""
}

func (n *Network) clone() *Network {
	c := *n
	c.Used = slices.Clone(n.Used)
	c.Aux = map[string]netip.Addr{}
	for k, v := range n.Aux {
		c.Aux[k] = v
	}
	return &c
}

func addrU32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func u32Addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func rangeOf(p netip.Prefix) (first, last uint32) {
	first = addrU32(p.Masked().Addr())
	return first, first | (1<<(32-p.Bits()) - 1)
}

type state struct {
	Networks []*Network `json:"networks"`
	Cursor   int        `json:"pool_cursor,omitempty"`
}

// Clone returns an allocator with a's pools and a copy of its state: what
// a runtime changes without touching the record it started from.
func (a *Allocator) Clone() *Allocator {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := &Allocator{pools: a.pools, networks: make(map[string]*Network, len(a.networks)), cursor: a.cursor}
	for name, n := range a.networks {
		c.networks[name] = n.clone()
	}
	return c
}

// Save writes the allocator's state to path atomically (a temporary file
// in the same directory, then rename).
func (a *Allocator) Save(path string) error {
	a.mu.Lock()
	cursor := a.cursor
	a.mu.Unlock()
	b, err := json.MarshalIndent(state{Networks: a.Networks(), Cursor: cursor}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ipam-*")
	if err != nil {
		return fmt.Errorf("ipam: save: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("ipam: save: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("ipam: save: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ipam: save: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// Load replaces the allocator's state with what Save wrote at path.
func (a *Allocator) Load(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("ipam: load: %w", err)
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("ipam: load %s: %w", path, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.networks = map[string]*Network{}
	a.cursor = s.Cursor
	for _, n := range s.Networks {
		if n.Aux == nil {
			n.Aux = map[string]netip.Addr{}
		}
		a.networks[n.Name] = n
	}
	return nil
}
