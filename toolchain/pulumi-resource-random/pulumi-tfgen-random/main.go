// tfgen writes the provider's Pulumi schema and bridge metadata (`schema --out <dir>`), which
// the provider embeds: what pulumi-random's build generates, made here from the same upstream.
package main

import (
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"msr-cache.local/toolchain/pulumi-random/pulumi-resource-random/info"
)

func main() { pftfgen.Main("random", info.Provider([]byte("{}"))) }
