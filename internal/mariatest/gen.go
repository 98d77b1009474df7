package mariatest

import (
	"context"
	"database/sql"
	"fmt"
)

// GenOptions sizes the database [Generate] builds.
type GenOptions struct {
	// Rows is the total number of rows of the five main tables, split
	// customers 10%, products 1%, orders 30%, order_items 49%, events 10%.
	// Zero means 10,000; 1,100,000 is the benchmark's size.
	Rows int64
	// AllTypes adds the table all_types: one column per MariaDB type
	// connect/mysql maps, with rows of extreme values, NULLs and zero dates.
	AllTypes bool
}

// GenTables are the tables [Generate] creates, referenced ones first.
var GenTables = []string{"customers", "products", "orders", "order_items", "events"}

// Generate creates and fills, in db's current database, an online shop:
//
//   - customers: INT UNSIGNED AUTO_INCREMENT key, a UNIQUE email, utf8mb4
//     names with emoji, TINYINT(1), DATETIME(6), TIMESTAMP DEFAULT
//     CURRENT_TIMESTAMP, and referrer_id, a foreign
//     key to customers itself (ON DELETE SET NULL);
//   - products: a VARCHAR key, DECIMAL, FLOAT, ENUM, SET, JSON and BLOB;
//   - orders: BIGINT AUTO_INCREMENT key, a foreign key to customers (ON
//     DELETE CASCADE), TIMESTAMP(3), a DATE of which every 97th is the zero
//     date 0000-00-00, TIME (within a day, which pgloader's time takes), YEAR, BIT(8), BIGINT UNSIGNED, TEXT;
//   - order_items: a composite key (order_id, line), foreign keys to orders
//     and products, a secondary index;
//   - events: no primary key, TIMESTAMP(6), VARBINARY, an index.
//
// The rows are computed on the server from MariaDB's sequence engine
// (seq_1_to_N), so a million rows take seconds; values are deterministic.
// It blocks until done and returns the first error.
func Generate(ctx context.Context, db *sql.DB, opt GenOptions) error {
	n := opt.Rows
	if n <= 0 {
		n = 10_000
	}
	part := func(pct int64) int64 { return max(1, n*pct/100) }
	cust, prod, ord, item, ev := part(10), part(1), part(30), part(49), part(10)
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("mariatest: generate: %w", err)
	}
	defer conn.Close()
	stmts := []string{
		`SET SESSION sql_mode = '', SESSION foreign_key_checks = 0, SESSION unique_checks = 0, SESSION time_zone = '+00:00'`,
		`CREATE TABLE customers (
			id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
			email VARCHAR(120) NOT NULL,
			name VARCHAR(80) NOT NULL,
			country CHAR(2) NOT NULL DEFAULT 'DE',
			active TINYINT(1) NOT NULL DEFAULT 1,
			created DATETIME(6) NOT NULL,
			updated TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
			referrer_id INT UNSIGNED NULL,
			UNIQUE KEY customers_email (email),
			CONSTRAINT customers_referrer FOREIGN KEY (referrer_id) REFERENCES customers (id) ON DELETE SET NULL
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
		`CREATE TABLE products (
			sku VARCHAR(20) NOT NULL PRIMARY KEY,
			title VARCHAR(200) NOT NULL,
			price DECIMAL(10,2) NOT NULL,
			weight FLOAT NULL,
			status ENUM('draft','live','gone') NOT NULL DEFAULT 'draft',
			colours SET('red','green','blue') NULL,
			attrs JSON NULL,
			image BLOB NULL
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
		`CREATE TABLE orders (
			id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
			customer_id INT UNSIGNED NOT NULL,
			placed TIMESTAMP(3) NOT NULL,
			shipped DATE NULL,
			slot TIME NULL,
			fiscal YEAR NULL,
			flags BIT(8) NOT NULL DEFAULT b'0',
			tracking BIGINT UNSIGNED NULL,
			total DECIMAL(12,2) NOT NULL,
			note TEXT NULL,
			KEY orders_customer (customer_id),
			CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
		`CREATE TABLE order_items (
			order_id BIGINT NOT NULL,
			line SMALLINT UNSIGNED NOT NULL,
			sku VARCHAR(20) NOT NULL,
			qty MEDIUMINT NOT NULL,
			price DECIMAL(10,2) NOT NULL,
			PRIMARY KEY (order_id, line),
			KEY order_items_sku (sku),
			CONSTRAINT order_items_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
			CONSTRAINT order_items_product FOREIGN KEY (sku) REFERENCES products (sku)
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
		`CREATE TABLE events (
			at TIMESTAMP(6) NOT NULL,
			kind VARCHAR(20) NOT NULL,
			payload VARBINARY(64) NULL,
			KEY events_at (at)
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
		fmt.Sprintf(`INSERT INTO customers (id, email, name, country, active, created, updated, referrer_id)
			SELECT seq, CONCAT('user', seq, '@example.org'), CONCAT('Kundin ', seq, IF(seq %% 7 = 0, ' 🦫 Grüße', '')),
				ELT(1 + seq %% 4, 'DE', 'FR', 'PL', 'JP'), seq %% 3 <> 0,
				TIMESTAMP('2020-01-01') + INTERVAL seq SECOND + INTERVAL (seq %% 1000000) MICROSECOND,
				IF(seq %% 2 = 0, NULL, TIMESTAMP('2024-01-01') + INTERVAL seq MINUTE),
				IF(seq %% 5 = 0 OR seq = 1, NULL, seq DIV 2)
			FROM seq_1_to_%d`, cust),
		fmt.Sprintf(`INSERT INTO products (sku, title, price, weight, status, colours, attrs, image)
			SELECT CONCAT('SKU-', LPAD(seq, 6, '0')), CONCAT('Produkt Nr. ', seq), (seq %% 100000) / 100 + 0.99,
				IF(seq %% 11 = 0, NULL, seq / 8), ELT(1 + seq %% 3, 'draft', 'live', 'gone'),
				ELT(1 + seq %% 4, NULL, 'red', 'green,blue', 'red,green,blue'),
				IF(seq %% 5 = 0, NULL, JSON_OBJECT('n', seq, 'tags', JSON_ARRAY('a', seq %% 10), 'ok', seq %% 2 = 0)),
				IF(seq %% 3 = 0, NULL, UNHEX(CONCAT('00FF', LPAD(HEX(seq), 8, '0'))))
			FROM seq_1_to_%d`, prod),
		fmt.Sprintf(`INSERT INTO orders (id, customer_id, placed, shipped, slot, fiscal, flags, tracking, total, note)
			SELECT seq, 1 + seq %% %d, TIMESTAMP('2021-06-01') + INTERVAL seq * 7 SECOND + INTERVAL (seq %% 1000) * 1000 MICROSECOND,
				IF(seq %% 97 = 0, '0000-00-00', IF(seq %% 13 = 0, NULL, DATE('2021-06-01') + INTERVAL (seq %% 900) DAY)),
				IF(seq %% 9 = 0, NULL, SEC_TO_TIME(seq %% 86400)), 2000 + seq %% 30, seq %% 256,
				IF(seq %% 4 = 0, NULL, 18446744073709551615 - seq), (seq %% 50000) / 100 + 5.5,
				IF(seq %% 6 = 0, NULL, CONCAT('Bitte an der Tür klingeln ', seq, IF(seq %% 10 = 0, ' 📦', '')))
			FROM seq_1_to_%d`, cust, ord),
		fmt.Sprintf(`INSERT INTO order_items (order_id, line, sku, qty, price)
			SELECT 1 + (seq - 1) %% %[1]d, 1 + (seq - 1) DIV %[1]d, CONCAT('SKU-', LPAD(1 + seq * 7 %% %[2]d, 6, '0')),
				1 + seq %% 9, (seq %% 10000) / 100 + 0.01
			FROM seq_1_to_%[3]d`, ord, prod, item),
		fmt.Sprintf(`INSERT INTO events (at, kind, payload)
			SELECT TIMESTAMP('2022-01-01') + INTERVAL seq * 3 SECOND + INTERVAL seq MICROSECOND,
				ELT(1 + seq %% 3, 'login', 'view', 'buy'), IF(seq %% 4 = 0, NULL, UNHEX(SHA1(seq)))
			FROM seq_1_to_%d`, ev),
	}
	if opt.AllTypes {
		stmts = append(stmts, allTypes...)
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("mariatest: generate: %w\n%s", err, s)
		}
	}
	return nil
}

// allTypes is the all_types table: one column per mapped type, a row of
// minimums, a row of maximums, a row of NULLs, a row of zero dates and a
// row of oddities (a zero month, a zero day, an invalid ENUM value, a
// TINYINT(1) of 5).
var allTypes = []string{
	`CREATE TABLE all_types (
		id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
		ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
		mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
		b TINYINT(1), d DECIMAL(30,10), f FLOAT, db DOUBLE,
		c CHAR(10), vc VARCHAR(100), tx TEXT, lt LONGTEXT,
		bin BINARY(4), vb VARBINARY(10), bl BLOB,
		dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), y YEAR, bt BIT(10),
		e ENUM('small','medium','large'), st SET('a','b','c'), js JSON,
		gen INT AS (si * 2) VIRTUAL
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`INSERT INTO all_types (ti, tiu, si, siu, mi, miu, i, iu, bi, biu, b, d, f, db, c, vc, tx, lt, bin, vb, bl,
		dt, dtm, ts, tm, y, bt, e, st, js) VALUES
	(-128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0,
		-99999999999999999999.9999999999, -3.5, -1.7976931348623157e308, '', '', '', '', x'00000000', x'', x'',
		'1000-01-01', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000000', '-838:59:59.000000', 1901, b'0',
		'small', '', '[]'),
	(127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, 1,
		99999999999999999999.9999999999, 3.4e38, 1.7976931348623157e308, 'zehn zeich', 'Grüße 🦫 ok', 'long 😀 text',
		REPEAT('x', 70000), x'DEADBEEF', x'0102', x'FF00FF', '9999-12-31', '9999-12-31 23:59:59.999999',
		'2038-01-19 03:14:07.999999', '838:59:59.000000', 2155, b'1111111111', 'large', 'a,b,c',
		'{"k": [1, 2.5, "s", null, true], "n": {"x": "ü"}}'),
	(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5, 1, 1, 'a', 'a', 'a', 'a', x'01', x'01', x'01',
		'0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '00:00:00', 0, b'1', 'medium', 'b', '1')`,
	`INSERT INTO all_types (b, dt, dtm, e) VALUES (5, '2020-00-10', '2020-05-00 10:00:00', 'bogus')`,
}
