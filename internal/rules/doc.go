// Package rules enforces the house rules across the repository
// (docs/design.md, Contracts). Its tests check that every package has
// exactly one package comment, that node code takes time only from
// clock.Clock and randomness only from injected streams, and that the
// dependency rules hold, transitively and test imports included: Check
// walks an import graph (from go list -deps -test) and names the whole chain
// of every import a Rule forbids.
package rules
