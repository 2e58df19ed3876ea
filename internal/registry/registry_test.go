package registry_test

import (
	"slices"
	"testing"

	"github.com/netyard/netyard/internal/registry"
)

func TestRegistry(t *testing.T) {
	r := registry.New("thing", map[string]int{"b": 2})
	r.Add("a", 1)
	if v, ok := r.Get("a"); !ok || v != 1 {
		t.Errorf("Get(a) = %v, %v", v, ok)
	}
	if _, ok := r.Get("c"); ok {
		t.Error("Get(c) found something")
	}
	if got := r.Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Names() = %v", got)
	}
	defer func() {
		if p := recover(); p != "thing a registered twice" {
			t.Errorf("a second Add(a) panicked with %v", p)
		}
	}()
	r.Add("a", 3)
}
