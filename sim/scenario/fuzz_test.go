package scenario_test

import (
	"math"
	"testing"
	"time"

	"github.com/netyard/netyard/sim/scenario"
)

// The parsers of the values a scenario file holds, fuzzed: each accepts
// or refuses, never panics, and what it accepts is in range and, where
// the type has a String, reads back the same.

func TestParseCount(t *testing.T) {
	for _, c := range []struct {
		in       string
		min, max uint64
		bad      bool
	}{
		{"3", 3, 3, false},
		{" >=3 ", 3, math.MaxUint64, false},
		{"<=3", 0, 3, false},
		{">3", 4, math.MaxUint64, false},
		{"<3", 0, 2, false},
		{"3..5", 3, 5, false},
		{"0", 0, 0, false},
		{"18446744073709551615", math.MaxUint64, math.MaxUint64, false},
		{">18446744073709551614", math.MaxUint64, math.MaxUint64, false},
		{">18446744073709551615", 0, 0, true}, // wrapped to 0.. before
		{">=18446744073709551616", 0, 0, true},
		{"<0", 0, 0, true},
		{"5..3", 0, 0, true},
		{"-1", 0, 0, true},
		{"lots", 0, 0, true},
		{"", 0, 0, true},
	} {
		got, err := scenario.ParseCount(c.in)
		if (err != nil) != c.bad || !c.bad && (got.Min != c.min || got.Max != c.max) {
			t.Errorf("ParseCount(%q) = %d..%d, %v; want %d..%d, bad %v", c.in, got.Min, got.Max, err, c.min, c.max, c.bad)
		}
	}
}

func FuzzParseCount(f *testing.F) {
	for _, s := range []string{"3", ">=3", "<=3", ">3", "<3", "3..5", "0", "<0", "5..3", ">18446744073709551615", "18446744073709551615", "99999999999999999999", " 7 ", "..", ">=", "1..2..3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := scenario.ParseCount(s)
		if err != nil {
			return
		}
		if c.Min > c.Max {
			t.Fatalf("ParseCount(%q) = %d..%d: empty", s, c.Min, c.Max)
		}
		back, err := scenario.ParseCount(c.String())
		if err != nil || back != c {
			t.Fatalf("ParseCount(%q) = %+v, whose String %q parses to %+v, %v", s, c, c.String(), back, err)
		}
	})
}

func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"10s", 10 * time.Second, false},
		{"250ms", 250 * time.Millisecond, false},
		{"1m30s", 90 * time.Second, false},
		{"10", 10 * time.Second, false}, // wait: 10, as compose and sleep
		{"2.5", 2500 * time.Millisecond, false},
		{"0", 0, false},
		{" 1s ", time.Second, false},
		{"-1s", 0, true},
		{"-1", 0, true},
		{"soon", 0, true},
		{"1e300", 0, true},
		{"NaN", 0, true},
		{"inf", 0, true},
		{"", 0, true},
	} {
		got, err := scenario.ParseDuration(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, bad %v", c.in, got, err, c.want, c.bad)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"10s", "250ms", "1m30s", "10", "2.5", "0", "-1s", "1e300", "NaN", "9223372036.854775807", "9223372037", "2562047h47m16.854775807s", "1h2m3.000000004s", ".5", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := scenario.ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v: negative", s, d)
		}
		back, err := scenario.ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v, whose String parses to %v, %v", s, d, back, err)
		}
	})
}

func FuzzParseDurRange(f *testing.F) {
	for _, s := range []string{"20ms..25ms", "1s", "0..0", "25ms..20ms", "-1s..1s", "1..2", "..", "1s..", "1s..2s..3s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := scenario.ParseDurRange(s)
		if err != nil {
			return
		}
		if r.Min < 0 || r.Min > r.Max {
			t.Fatalf("ParseDurRange(%q) = %v", s, r)
		}
		back, err := scenario.ParseDurRange(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseDurRange(%q) = %v, whose String parses to %v, %v", s, r, back, err)
		}
	})
}

func TestParseRate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want scenario.Rate
		bad  bool
	}{
		{"10Mbit", 10_000_000, false},
		{"1Gbit", 1_000_000_000, false},
		{"64kbit", 64_000, false},
		{"1000000", 1_000_000, false},
		{"1.5 kbit", 1500, false},
		{"1Pbit", 0, true},
		{"1000000Gbit", 1e15, false},
		{"1000001Gbit", 0, true},
		{"0", 0, true},
		{"0.4bit", 0, true}, // rounds to nothing: refused, not unlimited
		{"nan", 0, true},
		{"NaNmbit", 0, true},
		{"inf", 0, true},
		{"-1kbit", 0, true},
		{"fast", 0, true},
	} {
		got, err := scenario.ParseRate(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, bad %v", c.in, got, err, c.want, c.bad)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10Mbit", "1Gbit", "64kbit", "1000000", "0", "nan", "inf", "-1", "1e15", "1e16", "0.5bit", "1.5 KBIT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := scenario.ParseRate(s)
		if err == nil && (r < 1 || r > scenario.MaxRate) {
			t.Fatalf("ParseRate(%q) = %d, out of 1..%d", s, r, uint64(scenario.MaxRate))
		}
	})
}

func FuzzParseProbability(f *testing.F) {
	for _, s := range []string{"0.05", "5%", "0", "1", "100%", "150%", "-0", "-1%", "NaN", "nan%", "inf", "1e-300", " 5 % "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := scenario.ParseProbability(s)
		if err == nil && !(p >= 0 && p <= 1) {
			t.Fatalf("ParseProbability(%q) = %v, not in [0, 1]", s, p)
		}
	})
}
