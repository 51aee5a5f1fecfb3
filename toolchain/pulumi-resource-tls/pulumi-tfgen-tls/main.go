// tfgen writes the provider's Pulumi schema and bridge metadata (`schema --out <dir>`), which
// the provider embeds: what pulumi-tls's build generates, made here from the same upstream.
package main

import (
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"msr-cache.local/toolchain/pulumi-tls/pulumi-resource-tls/info"
)

func main() { pftfgen.Main("tls", info.Provider([]byte("{}"))) }
