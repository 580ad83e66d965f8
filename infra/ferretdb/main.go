// Command ferretdb runs FerretDB v1.24.2 for the local development stack: on PostgreSQL
// (the default; the devstack runs its own PostgreSQL on a unix socket) or on SQLite.
//
// Why a wrapper instead of `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`:
// that builds, but the binary panics at start because the module zip on the Go proxy lacks
// the generated build/version/version.txt. FerretDB's embeddable package runs the same
// server code without that check, and keeps telemetry disabled and locked.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "postgresql", "backend: postgresql or sqlite")
	postgresqlURL := flag.String("postgresql-url", "postgres://127.0.0.1:5432/ferretdb",
		"PostgreSQL URL for the postgresql handler, e.g. postgres://user@/ferretdb?host=/socket/dir&pool_max_conns=100")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite directory URL for the sqlite handler; must end with / and exist")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad --log-level %q\n", *logLevel)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	config := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
		Handler:  *handler,
	}
	switch *handler {
	case "postgresql":
		config.PostgreSQLURL = *postgresqlURL
	case "sqlite":
		config.SQLiteURL = *sqliteURL
	default:
		fmt.Fprintf(os.Stderr, "ferretdb: bad --handler %q: postgresql or sqlite\n", *handler)
		os.Exit(2)
	}

	f, err := ferretdb.New(config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	logger.Info("FerretDB listening", "addr", *listen, "handler", *handler, "uri", f.MongoDBURI())
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}
