// Command client fetches https://ADDR/ trusting only the certificate in
// -ca, checks that the server presented that certificate for the name
// -name, and prints the page.
//
//	client -ca cert.pem -name localhost -addr 127.0.0.1:PORT
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	caFile := flag.String("ca", "", "PEM certificate to trust")
	name := flag.String("name", "", "server name to verify")
	addr := flag.String("addr", "", "host:port")
	flag.Parse()

	caPEM, err := os.ReadFile(*caFile)
	if err != nil {
		log.Fatalf("client: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		log.Fatalf("client: no certificate in %s", *caFile)
	}
	block, _ := pem.Decode(caPEM)
	client := &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs:    pool,
			ServerName: *name,
		}},
	}
	resp, err := client.Get("https://" + *addr + "/")
	if err != nil {
		log.Fatalf("client: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatalf("client: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		log.Fatalf("client: HTTP %d", resp.StatusCode)
	}
	peer := resp.TLS.PeerCertificates[0]
	if !bytes.Equal(peer.Raw, block.Bytes) {
		log.Fatalf("client: the server presented another certificate (%s)", peer.Subject)
	}
	fmt.Printf("verified %s (%s, %s)\n", peer.Subject, tls.CipherSuiteName(resp.TLS.CipherSuite), versionName(resp.TLS.Version))
	os.Stdout.Write(body)
}

func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLS 1.3"
	case tls.VersionTLS12:
		return "TLS 1.2"
	}
	return fmt.Sprintf("TLS 0x%04x", v)
}
