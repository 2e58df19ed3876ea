// Package registry is the one shape of netyard's registries: things of a
// kind registered by name at init (node kinds, backends, network drivers)
// and looked up later, safe for concurrent use.
package registry

import (
	"sort"
	"sync"
)

// Registry holds values by name. The zero value is empty and ready.
type Registry[T any] struct {
	what string // for the panic: "backend", "node kind"
	mu   sync.Mutex
	m    map[string]T
}

// New returns a registry of what ("backend", "node kind") holding the
// given values.
func New[T any](what string, initial map[string]T) *Registry[T] {
	r := &Registry[T]{what: what, m: map[string]T{}}
	for k, v := range initial {
		r.m[k] = v
	}
	return r
}

// Add registers v as name. It panics on a name registered twice (a
// program error, found at init).
func (r *Registry[T]) Add(name string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]T{}
	}
	if _, dup := r.m[name]; dup {
		panic(r.what + " " + name + " registered twice")
	}
	r.m[name] = v
}

// Get returns what name holds.
func (r *Registry[T]) Get(name string) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[name]
	return v, ok
}

// Names returns the names registered, sorted.
func (r *Registry[T]) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.m))
	for n := range r.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
