// Command server serves HTTPS on 127.0.0.1 with a private key that lives
// in a PKCS#11 token, through crypto11: seed 000's story. The key pair and
// its certificate are found in the token by their label; the private key
// never leaves it (every TLS handshake signs with C_Sign).
//
//	server -module PATH -token LABEL -pin-file FILE -label LABEL -addr-file FILE
//
// It listens on a free port of 127.0.0.1, writes "host:port" to
// -addr-file once it accepts connections, and serves until killed.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/ThalesIgnite/crypto11"
)

func main() {
	module := flag.String("module", "", "PKCS#11 module path")
	token := flag.String("token", "", "token label")
	pinFile := flag.String("pin-file", "", "file whose first line is the user PIN")
	label := flag.String("label", "", "label of the key pair and its certificate")
	addrFile := flag.String("addr-file", "", "where to write host:port once listening")
	flag.Parse()

	pin, err := os.ReadFile(*pinFile)
	if err != nil {
		log.Fatalf("server: %v", err)
	}
	ctx, err := crypto11.Configure(&crypto11.Config{
		Path:       *module,
		TokenLabel: *token,
		Pin:        strings.TrimSpace(string(pin)),
	})
	if err != nil {
		log.Fatalf("server: crypto11.Configure: %v", err)
	}
	defer ctx.Close()

	signer, err := ctx.FindKeyPair(nil, []byte(*label))
	if err != nil || signer == nil {
		log.Fatalf("server: no key pair labelled %q in the token (%v)", *label, err)
	}
	cert, err := ctx.FindCertificate(nil, []byte(*label), nil)
	if err != nil || cert == nil {
		log.Fatalf("server: no certificate labelled %q in the token (%v)", *label, err)
	}

	cfg := &tls.Config{
		Certificates: []tls.Certificate{{
			Certificate: [][]byte{cert.Raw},
			PrivateKey:  signer,
			Leaf:        cert,
		}},
		MinVersion: tls.VersionTLS12,
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		log.Fatalf("server: %v", err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from a key in token %s\n", *token)
	})
	// The address file is written whole under a temporary name and then
	// renamed, so a reader never sees half of it.
	tmp := *addrFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(ln.Addr().String()), 0o600); err != nil {
		log.Fatalf("server: %v", err)
	}
	if err := os.Rename(tmp, *addrFile); err != nil {
		log.Fatalf("server: %v", err)
	}
	log.Fatal(http.Serve(ln, nil))
}
