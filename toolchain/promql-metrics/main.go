// promql-metrics lists the metrics PromQL expressions read, for the tests that hold alert rules
// and dashboard queries to the metrics the cache exports: the expressions are parsed by the
// PromQL parser of the pinned Prometheus (github.com/prometheus/prometheus/promql/parser), with
// the options promtool parses rules with when no feature is enabled (parser.Options{}).
//
//	promql-metrics < expressions.json
//
// stdin: a JSON array of expressions (strings). stdout: a JSON array with one entry per
// expression, in the same order: the sorted, unique metric names its vector and matrix
// selectors name (a selector's metric name, or its __name__="…" matcher). A selector without
// either (a regular expression on __name__, or labels only) names none. Exit status 1 when an
// expression does not parse, each such one written to stderr with its index and the parser's
// own error, and nothing on stdout; 2 when stdin is not a JSON array of strings.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"

	"github.com/prometheus/common/version"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

const module = "github.com/prometheus/prometheus"

func main() {
	showVersion := flag.Bool("version", false, "print the Prometheus release whose parser this links, and exit")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: promql-metrics < expressions.json (a JSON array of PromQL expressions)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *showVersion {
		os.Exit(printVersion())
	}
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "promql-metrics: reading stdin:", err)
		os.Exit(2)
	}
	var expressions []string
	if err := json.Unmarshal(input, &expressions); err != nil || expressions == nil {
		if err == nil {
			err = fmt.Errorf("it is null")
		}
		fmt.Fprintln(os.Stderr, "promql-metrics: stdin is not a JSON array of strings:", err)
		os.Exit(2)
	}
	names, failed := metrics(expressions)
	if failed {
		os.Exit(1)
	}
	out, err := json.Marshal(names)
	if err != nil {
		panic(err) // a [][]string always encodes
	}
	fmt.Println(string(out))
}

// metrics is each expression's metric names; false when all parsed, else true, having written
// each one that did not parse to stderr.
func metrics(expressions []string) ([][]string, bool) {
	p := parser.NewParser(parser.Options{})
	names := make([][]string, len(expressions))
	failed := false
	for i, text := range expressions {
		expr, err := p.ParseExpr(text)
		if err != nil {
			fmt.Fprintf(os.Stderr, "expression %d (%q): %v\n", i, text, err)
			failed = true
			continue
		}
		names[i] = named(expr)
	}
	return names, failed
}

// named is the sorted, unique metric names of expr's vector selectors: those of its matrix
// selectors and subqueries too, which hold a vector selector.
func named(expr parser.Expr) []string {
	found := []string{}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		selector, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if selector.Name != "" {
			found = append(found, selector.Name)
			return nil
		}
		for _, m := range selector.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				found = append(found, m.Value)
			}
		}
		return nil
	})
	slices.Sort(found)
	return slices.Compact(found)
}

// printVersion prints the Prometheus release the build stamped (github.com/prometheus/common's
// version.Version, as promtool's --version reads it) and the module version linked; 1 if the
// module is not in the build info.
func printVersion() int {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == module {
				fmt.Printf("promql-metrics, Prometheus %s (%s %s) %s\n", version.Version, module, dep.Version, info.GoVersion)
				return 0
			}
		}
	}
	fmt.Fprintln(os.Stderr, "promql-metrics: no", module, "in the build info")
	return 1
}
