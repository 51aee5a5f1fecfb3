// Package info describes terraform-provider-tls to the Pulumi bridge as pulumi-tls's
// provider/resources.go does: every resource and function in the one module index, named as
// pulumi-tls names them (tls_private_key → tls:index/privateKey:PrivateKey), which are the tokens
// the pulumi_tls SDK registers, with the same state upgrade and bridge settings. What that file
// sets only for the SDKs and docs it generates (descriptions, language options, doc edits) is
// left out: it changes nothing the provider does (docs/toolchain.md).
package info

import (
	"github.com/hashicorp/terraform-provider-tls/shim"
	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
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
		Resources: map[string]*tfbridge.ResourceInfo{
			"tls_self_signed_cert": {PreStateUpgradeHook: selfSignedCertFromSDKv2},
		},
		// In the bridge built here the first acts on SDKv2 resources only, where tls's are
		// Plugin Framework ones (which read a state without a version as version 0 anyway), and
		// nothing reads the second any more; set as upstream sets them.
		EnableZeroDefaultSchemaVersion: true,
		EnableAccurateBridgePreview:    true,
	}
	provider.MustComputeTokens(tokens.SingleModule("tls_", "index", tokens.MakeStandard("tls")))
	return provider
}

// The subject's optional strings, which states written before the move to the Plugin Framework
// hold as "" when unset.
var subjectStrings = []resource.PropertyKey{
	"commonName", "country", "locality", "organization", "organizationalUnit", "postalCode",
	"province", "serialNumber",
}

// selfSignedCertFromSDKv2 brings a tls_self_signed_cert state written before terraform-provider-tls
// moved to the Plugin Framework (schema version 0 on both sides) to what the Plugin Framework
// resource reads, so an unchanged certificate shows no diff, as pulumi-tls does: unset booleans
// are false, unset subject strings and an empty street address list are absent, and
// allowedUses, which is required, is at least empty. Any other state is left as it is.
func selfSignedCertFromSDKv2(args tfbridge.PreStateUpgradeHookArgs) (int64, resource.PropertyMap, error) {
	if args.ResourceSchemaVersion != 0 || args.PriorStateSchemaVersion != 0 {
		return args.PriorStateSchemaVersion, args.PriorState, nil
	}
	state := args.PriorState
	for _, key := range []resource.PropertyKey{"setSubjectKeyId", "setAuthorityKeyId", "isCaCertificate"} {
		if _, ok := state[key]; !ok {
			state[key] = resource.NewBoolProperty(false)
		}
	}
	if subject, ok := state["subject"]; ok && subject.IsObject() {
		fields := subject.ObjectValue()
		for _, key := range subjectStrings {
			if value, ok := fields[key]; ok && value.IsString() && value.StringValue() == "" {
				delete(fields, key)
			}
		}
		if streets, ok := fields["streetAddresses"]; ok && streets.IsArray() && len(streets.ArrayValue()) == 0 {
			delete(fields, "streetAddresses")
		}
	}
	if _, ok := state["allowedUses"]; !ok {
		state["allowedUses"] = resource.NewArrayProperty([]resource.PropertyValue{})
	}
	return 0, state, nil
}
