// Command go_verify has Go's own crypto/x509 judge certificates, so that
// tests/unit/test_given_certificates.py can hold components/inputs/given_certificates.py, a port of it, to
// what Go does. It calls the standard library only.
//
// It reads a JSON array of cases on stdin: each a leaf, intermediates and roots (PEM), a time
// (Unix seconds) and, optionally, a DNS name and extended key usages (Go's names, as
// given_certificates.EXT_KEY_USAGES has them). For each it writes what x509.ParseCertificate
// says of every certificate, and what Certificate.Verify says of the leaf with the others in its
// pools, as one JSON array on stdout. A chain is written as the SHA-256 of each certificate's
// DER, leaf first.
package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

type request struct {
	Name          string   `json:"name"`
	Leaf          string   `json:"leaf"`
	Intermediates []string `json:"intermediates"`
	Roots         []string `json:"roots"`
	Time          int64    `json:"time"`
	DNSName       string   `json:"dns_name"`
	KeyUsages     []string `json:"key_usages"`
}

type verdict struct {
	Name string `json:"name"`
	// ParseErrors holds, for each certificate (leaf, intermediates, roots, in that order),
	// ParseCertificate's error, or "".
	ParseErrors []string `json:"parse_errors"`
	// Error is Verify's error, or "" when it returned chains.
	Error  string     `json:"error"`
	Chains [][]string `json:"chains"`
}

var usages = map[string]x509.ExtKeyUsage{
	"any":             x509.ExtKeyUsageAny,
	"serverAuth":      x509.ExtKeyUsageServerAuth,
	"clientAuth":      x509.ExtKeyUsageClientAuth,
	"codeSigning":     x509.ExtKeyUsageCodeSigning,
	"emailProtection": x509.ExtKeyUsageEmailProtection,
}

func parse(text string) (*x509.Certificate, error) {
	block, rest := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE" || strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("not one PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func judge(r request) (verdict, error) {
	v := verdict{Name: r.Name, ParseErrors: []string{}, Chains: [][]string{}}
	roots, intermediates := x509.NewCertPool(), x509.NewCertPool()
	var leaf *x509.Certificate
	texts := append(append([]string{r.Leaf}, r.Intermediates...), r.Roots...)
	for i, text := range texts {
		cert, err := parse(text)
		if err != nil {
			v.ParseErrors = append(v.ParseErrors, err.Error())
			continue
		}
		v.ParseErrors = append(v.ParseErrors, "")
		switch {
		case i == 0:
			leaf = cert
		case i <= len(r.Intermediates):
			intermediates.AddCert(cert)
		default:
			roots.AddCert(cert)
		}
	}
	if leaf == nil {
		v.Error = "the leaf does not parse"
		return v, nil
	}
	opts := x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   time.Unix(r.Time, 0),
		DNSName:       r.DNSName,
	}
	for _, name := range r.KeyUsages {
		usage, ok := usages[name]
		if !ok {
			return v, fmt.Errorf("case %q: unknown key usage %q", r.Name, name)
		}
		opts.KeyUsages = append(opts.KeyUsages, usage)
	}
	chains, err := leaf.Verify(opts)
	if err != nil {
		v.Error = err.Error()
	}
	for _, chain := range chains {
		var digests []string
		for _, cert := range chain {
			sum := sha256.Sum256(cert.Raw)
			digests = append(digests, hex.EncodeToString(sum[:]))
		}
		v.Chains = append(v.Chains, digests)
	}
	slices.SortFunc(v.Chains, func(a, b []string) int {
		return strings.Compare(strings.Join(a, " "), strings.Join(b, " "))
	})
	return v, nil
}

func main() {
	// Verify's errors print the current time in the local zone; the port prints UTC.
	time.Local = time.UTC
	var requests []request
	if err := json.NewDecoder(os.Stdin).Decode(&requests); err != nil {
		fmt.Fprintln(os.Stderr, "go_verify: reading the cases:", err)
		os.Exit(2)
	}
	verdicts := []verdict{}
	for _, r := range requests {
		v, err := judge(r)
		if err != nil {
			fmt.Fprintln(os.Stderr, "go_verify:", err)
			os.Exit(2)
		}
		verdicts = append(verdicts, v)
	}
	if err := json.NewEncoder(os.Stdout).Encode(verdicts); err != nil {
		fmt.Fprintln(os.Stderr, "go_verify: writing the verdicts:", err)
		os.Exit(2)
	}
}
