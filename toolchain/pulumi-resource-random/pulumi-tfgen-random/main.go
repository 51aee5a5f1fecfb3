// pulumi-tfgen-random writes the provider's Pulumi schema and bridge metadata (`schema --out
// <dir>`), which the provider embeds: what pulumi-random's build generates, made here from the
// same upstream. The bridge takes a binary whose main package path holds "pulumi-tfgen" for
// the build step, where it computes what it records in the metadata (before it looks for
// "pulumi-resource", which this path holds too), so this folder is named as upstream's is.
package main

import (
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"msr-cache.local/toolchain/pulumi-random/pulumi-resource-random/info"
)

func main() { pftfgen.Main("random", info.Provider([]byte("{}"))) }
