// The kubernetes resource provider, served as upstream's cmd/pulumi-resource-kubernetes serves
// it. Upstream's main embeds schema-embed.json, which its build generates and its module lacks;
// `make toolchain` writes that file here from the module's schema.json, with the version set.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

func main() {
	// No Terraform mapping: it serves only `pulumi convert --from terraform`.
	provider.Serve("kubernetes", version.Version, pulumiSchema, nil)
}
