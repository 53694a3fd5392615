// hello.go -- the Go net/http side of tests/bench/bench.sh.
//
// A minimal net/http server answering GET /hello with "hello\n" and
// Content-Type "text/plain; charset=utf-8", the same bytes as mod_testapp's
// /hello. It uses the timeouts of weft's shipped configuration so both
// servers do the same deadline bookkeeping per request; GOMAXPROCS is left
// at Go's default (the number of CPUs).
//
// Build without modules or network: GO111MODULE=off go build -o hello hello.go
// Run: ./hello -port 8080 [-host 127.0.0.1]
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"
)

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 8080, "TCP port to listen on")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "hello\n")
	})

	srv := &http.Server{
		Addr:              net.JoinHostPort(*host, strconv.Itoa(*port)),
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
