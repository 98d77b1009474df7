// Command gendb fills a MariaDB database with the test shop of
// mariatest.Generate, for benchmarks:
//
//	go run ./internal/mariatest/gendb -url 'mysql://root@127.0.0.1:3306/shop' -rows 1100000
//
// The database must exist and be empty.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/weir-etl/weir/internal/mariatest"
)

func main() {
	rawURL := flag.String("url", "", "mysql://USER[:PASS]@HOST:PORT/DB of an empty database")
	rows := flag.Int64("rows", 1_100_000, "total rows of the five tables")
	all := flag.Bool("all-types", false, "add the all_types table")
	flag.Parse()
	if err := run(*rawURL, *rows, *all); err != nil {
		fmt.Fprintln(os.Stderr, "gendb:", err)
		os.Exit(1)
	}
}

func run(rawURL string, rows int64, all bool) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "mysql" {
		return fmt.Errorf("-url: want mysql://USER[:PASS]@HOST:PORT/DB")
	}
	c := mysql.NewConfig()
	c.User = u.User.Username()
	c.Passwd, _ = u.User.Password()
	c.Net, c.Addr, c.DBName = "tcp", u.Host, u.Path[1:]
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	start := time.Now()
	if err := mariatest.Generate(context.Background(), db, mariatest.GenOptions{Rows: rows, AllTypes: all}); err != nil {
		return err
	}
	fmt.Printf("gendb: %d rows in %v\n", rows, time.Since(start).Round(time.Millisecond))
	return nil
}
