// Package weir moves records from a [Source] through a [Transform] into a
// [Sink]: typed, batched and concurrent, without losing track of a record.
//
// # Terms used throughout
//
// A batch is a slice of records that travels between stages as one unit; the
// engine never spends a channel operation on a single record. Batches come
// from pools and are reused: a [Sink] must not keep a batch after Write
// returns, and a transform must not keep its input slice.
//
// A run has three stages. Extract: one goroutine calls [Source.Read] and
// closes batches by size or bytes as records arrive; a timer goroutine
// closes a partial batch once it has waited [Config.FlushInterval].
// Transform: [Config.Workers] goroutines apply the [Transform], each to a
// whole batch, optionally spreading one batch's records over
// [Config.TransformConcurrency] goroutines. Load: batches go to
// [Sink.Write], on the worker that transformed them or, with
// [Config.LoadConcurrency] > 0, on a separate stage of that many
// goroutines.
//
// Options: [New] takes a [Config] (plain data, from flags or a file) and
// [Option] values for what is not data: [WithHooks], [WithDeadLetter],
// [WithCheckpoint], [WithExactlyOnce], [WithRetryable], [WithSize]. New
// checks them against each other, so a run never fails half-way for a
// reason known before it started.
//
// Ordering: records keep their order inside a batch through every transform.
// Batches may be loaded out of order when more than one worker or loader is
// running; with Workers = 1 and LoadConcurrency <= 1 they are loaded in
// extract order.
//
// Blocking: [Pipeline.Run] blocks until the run ends and every goroutine it
// started has returned. Sources and sinks must return promptly once their
// context is cancelled; the engine waits for them rather than leaking them.
//
// Errors: the first error of a transform, a sink or a hook (or a panic in
// user code, turned into a [*PanicError]) cancels the run; Run returns it
// wrapped in a [*StageError] naming the stage and the batch. A source that
// fails for good ends reading instead, as at the end of its input: the
// records read before the error are transformed and loaded, then Run
// returns the error (Stage [StageExtract]), so a checkpoint lands exactly
// before the failing record. A source that cannot read one record reports
// it as a [*BadRecordError]: the same under [FailRun], and under [Skip]
// the record goes to the dead-letter sink and reading goes on. Cancelling the caller's
// context makes Run return the context's error, wrapped. Hooks run exactly
// once per run, whatever happens (see [Hooks]).
package weir
