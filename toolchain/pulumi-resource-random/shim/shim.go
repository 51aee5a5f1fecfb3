// Package shim hands the bridge terraform-provider-random's provider, which lives in an internal
// package: the bridged Pulumi providers reach it the same way.
package shim

import (
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	upstream "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider is the upstream provider, as Terraform would load it.
func NewProvider() fwprovider.Provider { return upstream.New() }
