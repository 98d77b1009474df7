package postgres

import "github.com/weir-etl/weir/connect"

// BinaryBatch reports whether s, after its first Write, sends batch in
// COPY's binary format: for tests of the interval and bit encoders.
func BinaryBatch(s *RowSink, batch []connect.Row) bool {
	c := s.cols.Load()
	if c == nil {
		panic("BinaryBatch before the sink's first Write")
	}
	binary, _, _ := c.format(batch)
	return binary
}
