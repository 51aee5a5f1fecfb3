// Package info describes terraform-provider-tls to the Pulumi bridge: every resource and
// function in the one module index, named as pulumi-tls names them (tls_private_key →
// tls:index/privateKey:PrivateKey), which are the tokens the pulumi_tls SDK registers.
package info

import (
	"github.com/hashicorp/terraform-provider-tls/shim"
	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
)

// Version is set by the build (tools.toml ldflags).
var Version = "0.0.0"

// Provider is the bridge's description of the provider; metadata is what tfgen wrote beside
// the schema (`{}` while tfgen itself runs).
func Provider(metadata []byte) tfbridge.ProviderInfo {
	provider := tfbridge.ProviderInfo{
		P:            pf.ShimProvider(shim.NewProvider()),
		Name:         "tls",
		Version:      Version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
	}
	provider.MustComputeTokens(tokens.SingleModule("tls_", "index", tokens.MakeStandard("tls")))
	return provider
}
