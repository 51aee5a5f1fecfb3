// Package info describes terraform-provider-random to the Pulumi bridge as pulumi-random's
// provider/resources.go does: every resource in the one module index, named as pulumi-random
// names them (random_password → random:index/randomPassword:RandomPassword), which are the tokens
// the pulumi_random SDK registers, with the same state upgrade, ID and bridge settings. What that
// file sets only for the SDKs and docs it generates (descriptions, language options, doc edits)
// is left out: it changes nothing the provider does (docs/toolchain.md).
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
			"random_string": {PreStateUpgradeHook: unversionedStringIsV1},
			// random_bytes has no id attribute: the bridge needs to be told what its ID is.
			"random_bytes": {ComputeID: base64ID},
		},
		// The bridge built here reads neither any more (what they switched on for SDKv2
		// resources is always on; random's are Plugin Framework ones); set as upstream sets them.
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}
	standard := tokens.MakeStandard("random")
	prefixed := func(module, name string) (string, error) { return standard(module, "Random"+name) }
	provider.MustComputeTokens(tokens.SingleModule("random_", "index", prefixed))
	// Aliases and MaxItemsOne overrides that keep older programs working across renames, from
	// the history in the metadata (computed by tfgen, read back here at run time).
	provider.MustApplyAutoAliases()
	return provider
}

// unversionedStringIsV1 reads a random_string state that carries no schema version as version
// 1: older pulumi-random releases wrote such states without the marker
// (pulumi/pulumi-random#258), and the upgrades from 1 onwards accept a state that is already
// newer. A state with a version keeps it.
func unversionedStringIsV1(args bridge.PreStateUpgradeHookArgs) (int64, resource.PropertyMap, error) {
	if args.PriorStateSchemaVersion != 0 {
		return args.PriorStateSchemaVersion, args.PriorState, nil
	}
	return 1, args.PriorState, nil
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
	if !value.IsString() {
		return "", fmt.Errorf("random_bytes' base64 value is not a string")
	}
	return resource.ID(value.StringValue()), nil
}
