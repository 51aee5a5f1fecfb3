// A module under terraform-provider-tls's path, so Go's internal-package rule lets it import
// the provider's internal package; the wrapper replaces it with this folder.
module github.com/hashicorp/terraform-provider-tls/shim

go 1.25
