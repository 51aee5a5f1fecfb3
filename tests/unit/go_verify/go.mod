// The Go judge of tests/unit/test_given_certificates.py: Go's own crypto/x509, from the standard
// library only. `go 1.26` sets the GODEBUG defaults of Go 1.26 (x509negativeserial=0,
// rsa1024min=1), whatever the go line of a program built by an older toolchain would set.
module msr-cache/tests/go_verify

go 1.26
