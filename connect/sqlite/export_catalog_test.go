package sqlite

// MinRangeRows lets a test split small tables into ranges.
var MinRangeRows = &minRangeRows
