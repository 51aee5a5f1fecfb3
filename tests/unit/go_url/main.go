// Command go_url answers, with the Go that builds it, how Go reads URLs: tests/unit/test_go_url.py
// holds components/inputs/go_url.py, a port of Go's net/url, to what this prints.
//
//	go_url parse   each line of stdin a JSON string, a URL; each line of stdout what
//	               url.Parse made of it (JSON), in the same order
//	go_url proxy   the proxy net/http's ProxyFromEnvironment picks, from this process's
//	               environment, for a GET of https://msr.example.com/ (JSON)
//
// Strings are printed as bytes (base64 in JSON): a host or a path may hold bytes that are not
// UTF-8, which encoding/json would replace one by one.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
)

// parsed is what url.Parse returns: its error, or the fields of the URL.
type parsed struct {
	Error       string `json:"error,omitempty"`
	Scheme      []byte `json:"scheme"`
	Opaque      []byte `json:"opaque"`
	HasUser     bool   `json:"has_user"`
	Username    []byte `json:"username"`
	Password    []byte `json:"password"`
	HasPassword bool   `json:"has_password"`
	Host        []byte `json:"host"`
	Hostname    []byte `json:"hostname"`
	Port        []byte `json:"port"`
	Path        []byte `json:"path"`
	RawQuery    []byte `json:"raw_query"`
	ForceQuery  bool   `json:"force_query"`
	Fragment    []byte `json:"fragment"`
}

func read(u *url.URL, err error) parsed {
	if err != nil {
		return parsed{Error: err.Error()}
	}
	p := parsed{
		Scheme: []byte(u.Scheme), Opaque: []byte(u.Opaque), Host: []byte(u.Host),
		Hostname: []byte(u.Hostname()), Port: []byte(u.Port()), Path: []byte(u.Path),
		RawQuery: []byte(u.RawQuery), ForceQuery: u.ForceQuery, Fragment: []byte(u.Fragment),
	}
	if u.User != nil {
		p.HasUser, p.Username = true, []byte(u.User.Username())
		password, set := u.User.Password()
		p.Password, p.HasPassword = []byte(password), set
	}
	return p
}

func main() {
	out := json.NewEncoder(os.Stdout)
	var err error
	switch {
	case len(os.Args) == 2 && os.Args[1] == "version":
		err = out.Encode(runtime.Version())
	case len(os.Args) == 2 && os.Args[1] == "parse":
		lines := bufio.NewScanner(os.Stdin)
		lines.Buffer(make([]byte, 1<<20), 1<<20)
		for lines.Scan() && err == nil {
			var raw string
			if err = json.Unmarshal(lines.Bytes(), &raw); err == nil {
				err = out.Encode(read(url.Parse(raw)))
			}
		}
		if err == nil {
			err = lines.Err()
		}
	case len(os.Args) == 2 && os.Args[1] == "proxy":
		request, _ := http.NewRequest("GET", "https://msr.example.com/", nil)
		err = out.Encode(read(http.ProxyFromEnvironment(request)))
	default:
		err = fmt.Errorf("usage: go_url version|parse|proxy")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
