// A module under terraform-provider-random's path, so Go's internal-package rule lets it import
// the provider's internal package; the wrapper replaces it with this folder.
module github.com/terraform-providers/terraform-provider-random/shim

go 1.25
