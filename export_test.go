package weir

// Timing says whether this test binary times batches: false when built
// with -tags weir_notiming (see timing.go).
const Timing = timing
