// Package info describes terraform-provider-random to the Pulumi bridge: every resource in the
// one module index, named as pulumi-random names them (random_password →
// random:index/randomPassword:RandomPassword), which are the tokens the pulumi_random SDK
// registers.
package info

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	bridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/terraform-providers/terraform-provider-random/shim"
)

// Version is set by the build (tools.toml ldflags).
var Version = "0.0.0"

// Provider is the bridge's description of the provider; metadata is what tfgen wrote beside
// the schema (`{}` while tfgen itself runs).
func Provider(metadata []byte) bridge.ProviderInfo {
	provider := bridge.ProviderInfo{
		P:            tfbridge.ShimProvider(shim.NewProvider()),
		Name:         "random",
		Version:      Version,
		MetadataInfo: bridge.NewProviderMetadata(metadata),
		Resources: map[string]*bridge.ResourceInfo{
			// random_bytes has no id attribute: the bridge needs to be told what its ID is.
			"random_bytes": {ComputeID: base64ID},
		},
	}
	standard := tokens.MakeStandard("random")
	prefixed := func(module, name string) (string, error) { return standard(module, "Random"+name) }
	provider.MustComputeTokens(tokens.SingleModule("random_", "index", prefixed))
	return provider
}

// base64ID is random_bytes' value, which is unique to it.
func base64ID(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	value, ok := state["base64"]
	if !ok {
		return "", fmt.Errorf("random_bytes has no base64 value")
	}
	if value.IsSecret() {
		value = value.SecretValue().Element
	}
	return resource.ID(value.StringValue()), nil
}
