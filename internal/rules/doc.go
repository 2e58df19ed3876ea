// Package rules holds no code: its tests enforce the house rules across the
// repository (docs/design.md, Contracts): every package has exactly one
// package comment; core packages touch no OS interface and respect the
// dependency arrows; node code takes time only from clock.Clock and
// randomness only from injected streams.
package rules
