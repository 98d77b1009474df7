// Package postgres connects weir to PostgreSQL through pgx v5: sinks that
// load batches with the COPY protocol, and a source that reads a table or a
// query by keyset pagination.
//
// # Sinks
//
//   - [Sink] loads one table. With [SinkConfig.OnConflict] left at
//     [connect.ConflictError] each batch is one COPY in a transaction: the
//     fastest way in. A failed batch loads nothing, but re-running a batch
//     that did load duplicates it (or fails on the key). [connect.ConflictIgnore] and
//     [connect.ConflictUpdate] make re-runs safe: in one transaction the
//     sink COPYs the batch into a temporary table, then inserts from it
//     with ON CONFLICT on the table's key, doing nothing or updating the
//     other columns.
//   - [MultiSink] loads composite records that a [connect.Splitter] expands
//     into rows of several tables (an order and its lines), COPYing every
//     table's rows in foreign-key order inside one transaction per batch, so
//     a batch lands whole or not at all. Its [MultiSinkConfig.OnConflict]
//     works as the Sink's, so that with ConflictIgnore a re-run of the same
//     records doubles nothing.
//
// # A lost COMMIT answer
//
// Every Write is one transaction, and a connection can be lost after its
// COMMIT was sent and before the answer came back (a network cut, a server
// restart): the batch may be loaded or not, and retrying it blindly could
// load it twice. The sinks do not guess. Each transaction learns its id in
// the round trip of its BEGIN (BEGIN; SELECT pg_current_xact_id(), which
// needs PostgreSQL 13 or later), and when a COMMIT fails with no answer
// from the server the Write asks, on another connection, what became of it
// (pg_xact_status):
//
//   - committed: the Write succeeds, and its rows are counted once;
//   - aborted: the Write returns the COMMIT's error, which [Retryable]
//     accepts, so weir's retry loads the batch exactly once;
//   - in progress (the old session has not noticed its socket closed yet)
//     or no answer (the server is restarting): the Write asks again with a
//     backoff of 10 ms doubling to 1 s, for at most the config's
//     InDoubtTimeout ([DefaultInDoubtTimeout], one minute) and while its
//     context lasts, then returns an [*InDoubtError], which is not
//     retryable. Recover by loading again with ConflictIgnore (weir migrate
//     --resume), which skips what did load.
//
// This holds for every conflict mode, for tables with or without keys, and
// for [MultiSink.WriteCheckpoint], whose checkpoint commits with the batch.
// With a pgx.Tx as the DB the sinks work in savepoints of your transaction,
// and its commit is yours to check. The explicit transaction costs a plain
// COPY two round trips per batch.
//
// Each Write takes its own connection from the pool, so every sink is safe
// for as many concurrent Write calls as [weir.Config.LoadConcurrency] allows;
// size the pool (pgxpool's MaxConns) to at least that. No sink keeps a batch
// after Write returns. The sinks do not own the pool: close it yourself after
// the run.
//
// Values reach pgx as they are: a Go value is encoded by pgx's type for the
// column (int64 → bigint, string → text, time.Time → timestamptz,
// map[string]any → jsonb, a nil pointer or untyped nil → NULL, and so on).
//
// # Source
//
// [Source] reads with keyset pagination, never OFFSET:
//
//	SELECT cols FROM t WHERE key > $1 ORDER BY key LIMIT n
//
// so every page costs an index range scan, however deep into the table it
// is, and [Source.LastKey] (the key of the last record returned) is all a
// later run needs to resume with [SourceConfig.After]. The source implements
// weir.Positioner, and [CheckpointStore] keeps weir's checkpoints in a table
// of the database, so weir.WithCheckpoint makes a job resumable.
//
// # A job
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil { ... }
//	defer pool.Close()
//	src, err := postgres.NewSource(pool, postgres.SourceConfig[User]{
//		Table: "users", Key: "id", Columns: []string{"id", "name"},
//		Scan: pgx.RowToStructByName[User],
//	})
//	if err != nil { ... }
//	sink, err := postgres.NewSink(pool, postgres.SinkConfig[User]{
//		Table: connect.Table{Name: "users_copy", Columns: []string{"id", "name"}},
//		Values: func(u User, row []any) []any { return append(row, u.ID, u.Name) },
//	})
//	if err != nil { ... }
//	p, err := weir.New(src, weir.Identity[User](), sink, weir.Config{LoadConcurrency: 4})
//	if err != nil { ... }
//	err = p.Run(ctx)
//
// [Exec] runs a DDL script (CREATE TABLE ...) as one transaction.
//
// # Errors
//
// Errors are returned wrapped with the operation and the table ("copy users:
// ..."); the server's [*pgconn.PgError] stays reachable with [errors.As].
// Its message gains what pgconn's leaves out: the DETAIL, the HINT and the
// context, so that a duplicate key says which ("DETAIL: Key (id)=(7)
// already exists. (COPY users, line 8)"). A value a COPY cannot carry (one
// pgx cannot encode for the column's type, which the server would only
// report as a cancelled query, or text that is not valid UTF-8) fails the
// Write with a [*weir.RecordError] naming the record's index in the batch,
// the table and the column; the engine turns the index into the record's
// position in the run. [Retryable] says whether an error is worth retrying
// (a lost connection, a serialization failure) or not (a constraint
// violation, an [*InDoubtError]).
package postgres
