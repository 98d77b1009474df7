// Package users is weir's reference job, the migration of the Rust ETL
// performance-tuning guide weir is measured against: one nested user document, as exported from MongoDB, becomes rows in 15 normalized
// relational tables.
//
// # The pieces
//
//   - [User] and its nested types are the document, with the JSON names of a
//     plain (non-Extended-JSON) mongoexport document. [Decode] and
//     [DecodeJSON] read one; [Validate] checks the fields a row needs.
//   - [Generate] and [NewGenerator] make the guide's "fat" mock user,
//     deterministically from a seed and the user's id, so a run (or one
//     user) can be regenerated exactly; [NewGenerator] is a [weir.Source]
//     that generates inside Read, so generation is part of a run's time, as
//     in the guide.
//   - [Splitter] implements [connect.Splitter] for [User]: [Splitter.Tables]
//     lists the 15 tables in foreign-key order and [Splitter.Split] writes a
//     document's rows. [RowsPerUser] and [ExpectedRows] say how many rows a
//     generated user yields, for verifying a finished run.
//   - [SchemaPostgres] and [SchemaSQLite] create the tables; [DropPostgres]
//     and [DropSQLite] remove them.
//
// The package imports no database driver: connectors wire it to a database.
//
// # Record type
//
// Records travel by value: the pipeline's record type is [User], not *User.
// A [NewGenerator] source fills the engine's batch slots in place (no
// allocation for the User itself), [Validated] checks records in place, and
// the engine finds [User.Size] for [weir.Config.BatchBytes] without help.
// [Splitter] therefore implements connect.Splitter[User]; Split copies the
// top-level struct (about 600 bytes), which costs far less than the 126
// rows it writes.
//
// # Tables, keys and row counts
//
// Every table's primary key comes from the document alone, so loading the
// same user twice (a resumed or repeated run, an upsert) produces the same
// keys. users is keyed by the document's numeric id; one-to-one children by
// user_id; list children by (user_id, seq), where seq is the element's
// 0-based position in its document array; attachments by (user_id,
// message_seq, seq).
//
//	table         key                          per generated user
//	users         id                            1
//	addresses     user_id                       1
//	profiles      user_id                       1   interests, skills: JSON arrays
//	education     user_id, seq                  2   references profiles
//	experience    user_id, seq                  3   references profiles
//	preferences   user_id                       1
//	settings      user_id, seq                 10   references preferences
//	activity_log  user_id, seq                 20
//	transactions  user_id, seq                 15
//	messages      user_id, seq                 10
//	attachments   user_id, message_seq, seq    30   references messages
//	social_media  user_id                       1   connections: JSON array
//	posts         user_id, seq                 25   references social_media
//	groups        user_id, seq                  5   references social_media
//	large_data    user_id                       1   payload: BlobSize bytes
//	                                          ---
//	                                          126
//
// Tables without a note reference users. The guide quotes "about 40 rows
// per user" for its Go sibling's data set; the fat mock user described in
// the guide (20 activities, 15 transactions, 10 messages × 3 attachments, 25
// posts, ...) normalizes to 126 rows, and that is what this package
// produces. The 50 connections are one JSON array column of social_media
// (they are bare ids with nothing else to normalize); as rows they would add
// 50 more per user.
package users
