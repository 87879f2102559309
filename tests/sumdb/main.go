// Command sumdb runs a Go checksum database (the protocol of sum.golang.org)
// on loopback, for nora's integration tests.
//
// It serves /lookup/, /latest and /tile/ with the reference implementation in
// golang.org/x/mod/sumdb. Records are created on first lookup from the files
// of a directory in GOPROXY layout (<escaped module>/@v/<escaped version>.zip
// and .mod), so the go command can check downloads against it.
//
// Build (GOPATH mode, Debian packages golang-go and golang-golang-x-mod-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o sumdb tests/sumdb/main.go
//
// Usage:
//
//	sumdb -proxy DIR [-name sumdb.test] [-addr 127.0.0.1:0] [-key FILE] [-fill N]
//
// -fill N logs N made-up records (fill.test/mI v1.0.0) before serving, so the
// modules looked up later sit deep enough in the log to need several tiles.
//
// Once listening it prints one line to stdout, "<verifier key> http://<host:port>",
// which is a value for GOSUMDB. Each request path is logged to stderr as
// "sumdb: <path>". The tree lives in memory and is empty again after a restart
// (even with -key), so clients must then start without cached sumdb state
// ($GOPATH/pkg/sumdb and $GOMODCACHE/cache/download/sumdb).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/sumdb/note"
)

func main() {
	proxy := flag.String("proxy", "", "directory in GOPROXY layout")
	name := flag.String("name", "sumdb.test", "checksum database name")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	keyFile := flag.String("key", "", "file holding the key pair (created if missing)")
	fill := flag.Int("fill", 0, "made-up records to log before serving")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("sumdb: ")
	if *proxy == "" {
		log.Fatal("-proxy is required")
	}

	skey, vkey, err := loadKey(*keyFile, *name)
	if err != nil {
		log.Fatal(err)
	}
	gosum := func(path, vers string) ([]byte, error) {
		if strings.HasPrefix(path, "fill.test/") {
			return []byte(fmt.Sprintf("%s %s h1:fill=\n%s %s/go.mod h1:fill=\n", path, vers, path, vers)), nil
		}
		return goSum(*proxy, path, vers)
	}
	ts := sumdb.NewTestServer(skey, gosum)
	for i := 0; i < *fill; i++ {
		if _, err := ts.Lookup(context.Background(), module.Version{Path: fmt.Sprintf("fill.test/m%d", i), Version: "v1.0.0"}); err != nil {
			log.Fatal(err)
		}
	}
	srv := sumdb.NewServer(ts)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s http://%s\n", vkey, ln.Addr()) // os.Stdout is unbuffered

	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Print(r.URL.Path)
		defer func() {
			// TestServer panics on a tile beyond its tree, which a client
			// remembering a tree from before a restart may ask for.
			if recover() != nil {
				http.Error(w, "tile beyond tree", http.StatusNotFound)
			}
		}()
		srv.ServeHTTP(w, r)
	})))
}

// goSum returns the two go.sum lines for path@vers, hashed from the proxy
// directory. A missing file yields an os.IsNotExist error, which the server
// answers with 404.
func goSum(dir, path, vers string) ([]byte, error) {
	escPath, err := module.EscapePath(path)
	if err != nil {
		return nil, err
	}
	escVers, err := module.EscapeVersion(vers)
	if err != nil {
		return nil, err
	}
	base := filepath.Join(dir, filepath.FromSlash(escPath), "@v", escVers)

	zipHash, err := dirhash.HashZip(base+".zip", dirhash.Hash1)
	if err != nil {
		return nil, err
	}
	mod, err := os.ReadFile(base + ".mod")
	if err != nil {
		return nil, err
	}
	modHash, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(mod)), nil
	})
	if err != nil {
		return nil, err
	}
	return []byte(fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", path, vers, zipHash, path, vers, modHash)), nil
}

// loadKey returns a signer and verifier key for name, read from file
// (signer key on the first line, verifier key on the second) if it exists,
// otherwise freshly generated and, if file is set, written there.
func loadKey(file, name string) (skey, vkey string, err error) {
	if file != "" {
		if f, err := os.Open(file); err == nil {
			defer f.Close()
			s := bufio.NewScanner(f)
			s.Scan()
			skey = s.Text()
			s.Scan()
			vkey = s.Text()
			if !strings.HasPrefix(skey, "PRIVATE+KEY+"+name+"+") || !strings.HasPrefix(vkey, name+"+") {
				return "", "", fmt.Errorf("%s: no key pair for %s", file, name)
			}
			return skey, vkey, nil
		} else if !os.IsNotExist(err) {
			return "", "", err
		}
	}
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", err
	}
	if file != "" {
		err = os.WriteFile(file, []byte(skey+"\n"+vkey+"\n"), 0o600)
	}
	return skey, vkey, err
}
