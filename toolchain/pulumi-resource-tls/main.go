// The tls resource provider: terraform-provider-tls served through the Pulumi bridge,
// as pulumi-tls serves it, for the pulumi_tls SDK. The Go module proxy refuses
// pulumi-tls's own provider module at each version asked (docs/toolchain.md), so this main
// and the ProviderInfo in info/ are ours; the schema and metadata it embeds are generated at
// build time by pulumi-tfgen-tls/.
package main

import (
	"context"
	_ "embed"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"msr-cache.local/toolchain/pulumi-tls/pulumi-resource-tls/info"
)

//go:embed schema-embed.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pf.Main(context.Background(), "tls", info.Provider(metadata), pf.ProviderMetadata{PackageSchema: schema})
}
