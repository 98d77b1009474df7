package users

// SchemaPostgres creates the 15 tables in PostgreSQL, in foreign-key order,
// with the columns of [Splitter.Tables]. Every statement is CREATE TABLE IF
// NOT EXISTS, so running it again is harmless; it does not alter a table
// that exists with another shape. Run it as one multi-statement Exec
// without arguments (pgx then uses the simple protocol, which allows
// several statements).
//
// Times are timestamptz, JSON arrays jsonb, amounts numeric (the
// document's float64 round-trips exactly; numeric keeps sums exact).
// Children reference their parent with ON DELETE CASCADE, so deleting a
// users row removes all 126 rows of that user. Composite primary keys start
// with user_id, so they also index the foreign keys.
const SchemaPostgres = `CREATE TABLE IF NOT EXISTS users (
	id bigint NOT NULL,
	object_id text NOT NULL,
	username text NOT NULL,
	email text NOT NULL,
	first_name text NOT NULL,
	last_name text NOT NULL,
	age integer NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS addresses (
	user_id bigint NOT NULL,
	street text NOT NULL,
	city text NOT NULL,
	state text NOT NULL,
	country text NOT NULL,
	postal_code text NOT NULL,
	lat double precision NOT NULL,
	lon double precision NOT NULL,
	PRIMARY KEY (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS profiles (
	user_id bigint NOT NULL,
	bio text NOT NULL,
	interests jsonb NOT NULL,
	skills jsonb NOT NULL,
	PRIMARY KEY (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS education (
	user_id bigint NOT NULL,
	seq integer NOT NULL,
	school text NOT NULL,
	degree text NOT NULL,
	field text NOT NULL,
	start_year integer NOT NULL,
	end_year integer NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES profiles (user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS experience (
	user_id bigint NOT NULL,
	seq integer NOT NULL,
	company text NOT NULL,
	title text NOT NULL,
	start_date timestamptz NOT NULL,
	end_date timestamptz,
	description text NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES profiles (user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS preferences (
	user_id bigint NOT NULL,
	theme text NOT NULL,
	language text NOT NULL,
	timezone text NOT NULL,
	newsletter boolean NOT NULL,
	PRIMARY KEY (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS settings (
	user_id bigint NOT NULL,
	seq integer NOT NULL,
	key text NOT NULL,
	value text NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES preferences (user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS activity_log (
	user_id bigint NOT NULL,
	seq integer NOT NULL,
	action text NOT NULL,
	occurred_at timestamptz NOT NULL,
	ip text NOT NULL,
	details text NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS transactions (
	user_id bigint NOT NULL,
	seq integer NOT NULL,
	amount numeric NOT NULL,
	currency text NOT NULL,
	status text NOT NULL,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS messages (
	user_id bigint NOT NULL,
	seq integer NOT NULL,
	recipient_id bigint NOT NULL,
	subject text NOT NULL,
	body text NOT NULL,
	sent_at timestamptz NOT NULL,
	is_read boolean NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS attachments (
	user_id bigint NOT NULL,
	message_seq integer NOT NULL,
	seq integer NOT NULL,
	filename text NOT NULL,
	size bigint NOT NULL,
	mime_type text NOT NULL,
	PRIMARY KEY (user_id, message_seq, seq),
	FOREIGN KEY (user_id, message_seq) REFERENCES messages (user_id, seq) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS social_media (
	user_id bigint NOT NULL,
	connections jsonb NOT NULL,
	PRIMARY KEY (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS posts (
	user_id bigint NOT NULL,
	seq integer NOT NULL,
	content text NOT NULL,
	likes integer NOT NULL,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES social_media (user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS groups (
	user_id bigint NOT NULL,
	seq integer NOT NULL,
	name text NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES social_media (user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS large_data (
	user_id bigint NOT NULL,
	payload text NOT NULL,
	PRIMARY KEY (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
`

// SchemaSQLite creates the 15 tables in SQLite, like [SchemaPostgres] with
// SQLite's storage classes: INTEGER (also for booleans), REAL, TEXT (also
// for times, in the driver's format, and JSON arrays). A single INTEGER
// primary key is the rowid, so one-to-one tables cost no extra index.
// Foreign keys are enforced only on a connection that has run PRAGMA
// foreign_keys = ON. Safe to run again; run it as one multi-statement Exec.
const SchemaSQLite = `CREATE TABLE IF NOT EXISTS users (
	id INTEGER NOT NULL,
	object_id TEXT NOT NULL,
	username TEXT NOT NULL,
	email TEXT NOT NULL,
	first_name TEXT NOT NULL,
	last_name TEXT NOT NULL,
	age INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS addresses (
	user_id INTEGER NOT NULL,
	street TEXT NOT NULL,
	city TEXT NOT NULL,
	state TEXT NOT NULL,
	country TEXT NOT NULL,
	postal_code TEXT NOT NULL,
	lat REAL NOT NULL,
	lon REAL NOT NULL,
	PRIMARY KEY (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS profiles (
	user_id INTEGER NOT NULL,
	bio TEXT NOT NULL,
	interests TEXT NOT NULL,
	skills TEXT NOT NULL,
	PRIMARY KEY (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS education (
	user_id INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	school TEXT NOT NULL,
	degree TEXT NOT NULL,
	field TEXT NOT NULL,
	start_year INTEGER NOT NULL,
	end_year INTEGER NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES profiles (user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS experience (
	user_id INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	company TEXT NOT NULL,
	title TEXT NOT NULL,
	start_date TEXT NOT NULL,
	end_date TEXT,
	description TEXT NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES profiles (user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS preferences (
	user_id INTEGER NOT NULL,
	theme TEXT NOT NULL,
	language TEXT NOT NULL,
	timezone TEXT NOT NULL,
	newsletter INTEGER NOT NULL,
	PRIMARY KEY (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS settings (
	user_id INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES preferences (user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS activity_log (
	user_id INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	action TEXT NOT NULL,
	occurred_at TEXT NOT NULL,
	ip TEXT NOT NULL,
	details TEXT NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS transactions (
	user_id INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	amount REAL NOT NULL,
	currency TEXT NOT NULL,
	status TEXT NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS messages (
	user_id INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	recipient_id INTEGER NOT NULL,
	subject TEXT NOT NULL,
	body TEXT NOT NULL,
	sent_at TEXT NOT NULL,
	is_read INTEGER NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS attachments (
	user_id INTEGER NOT NULL,
	message_seq INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	filename TEXT NOT NULL,
	size INTEGER NOT NULL,
	mime_type TEXT NOT NULL,
	PRIMARY KEY (user_id, message_seq, seq),
	FOREIGN KEY (user_id, message_seq) REFERENCES messages (user_id, seq) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS social_media (
	user_id INTEGER NOT NULL,
	connections TEXT NOT NULL,
	PRIMARY KEY (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS posts (
	user_id INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	content TEXT NOT NULL,
	likes INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES social_media (user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS groups (
	user_id INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	name TEXT NOT NULL,
	PRIMARY KEY (user_id, seq),
	FOREIGN KEY (user_id) REFERENCES social_media (user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS large_data (
	user_id INTEGER NOT NULL,
	payload TEXT NOT NULL,
	PRIMARY KEY (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
`

// DropPostgres drops the 15 tables and everything in them, children first.
// Safe to run when some or all are missing.
const DropPostgres = `DROP TABLE IF EXISTS large_data, groups, posts, social_media, attachments, messages,
	transactions, activity_log, settings, preferences, experience, education, profiles,
	addresses, users;
`

// DropSQLite drops the 15 tables and everything in them, children first
// (one statement per table: SQLite's DROP TABLE takes one name). Safe to
// run when some or all are missing.
const DropSQLite = `DROP TABLE IF EXISTS large_data;
DROP TABLE IF EXISTS groups;
DROP TABLE IF EXISTS posts;
DROP TABLE IF EXISTS social_media;
DROP TABLE IF EXISTS attachments;
DROP TABLE IF EXISTS messages;
DROP TABLE IF EXISTS transactions;
DROP TABLE IF EXISTS activity_log;
DROP TABLE IF EXISTS settings;
DROP TABLE IF EXISTS preferences;
DROP TABLE IF EXISTS experience;
DROP TABLE IF EXISTS education;
DROP TABLE IF EXISTS profiles;
DROP TABLE IF EXISTS addresses;
DROP TABLE IF EXISTS users;
`
