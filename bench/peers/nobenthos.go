//go:build !benthos

package main

// benthosRun is nil: this binary does not link Benthos, so that the Go
// engines it runs are not slowed by it. Build with -tags benthos for the
// benthos engine.
var benthosRun runFunc
