// The Go judge of tests/unit/test_go_url.py: Go's own net/url and net/http, from the standard library
// only. `go 1.26` sets the GODEBUG defaults of Go 1.26 (urlstrictcolons=1), whatever the go
// line of a program built by an older toolchain would set.
module msr-cache/tests/go_url

go 1.26
