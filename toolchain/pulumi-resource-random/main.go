// The random resource provider: terraform-provider-random served through the Pulumi bridge,
// as pulumi-random serves it, for the pulumi_random SDK. The Go module proxy refuses
// pulumi-random's own provider module at each version asked (docs/toolchain.md), so this main
// and the ProviderInfo in info/ are ours; the schema and metadata it embeds are generated at
// build time by pulumi-tfgen-random/.
package main

import (
	"context"
	_ "embed"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"msr-cache.local/toolchain/pulumi-random/pulumi-resource-random/info"
)

//go:embed schema-embed.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pf.Main(context.Background(), "random", info.Provider(metadata), pf.ProviderMetadata{PackageSchema: schema})
}
