package conntest

// Tester is what the checks report to: the kit's tests pass a recorder, to
// watch the checks fail on broken connectors without failing themselves.
type Tester = tester

func SourceWith[E any](t Tester, c SourceCase[E])                 { testSource(t, c) }
func SinkWith[T any](t Tester, c SinkCase[T])                     { testSink(t, c) }
func CheckpointStoreWith(t Tester, c CheckpointStoreCase)         { testStore(t, c) }
func CheckpointSinkWith[T any](t Tester, c CheckpointSinkCase[T]) { testCheckpointSink(t, c) }
func ConfigWith(t Tester, cases []ConfigCase)                     { testConfig(t, cases) }
