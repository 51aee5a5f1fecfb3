"""Objects: which Kubernetes objects a cache has (`plan`) and the builder of each one's spec, as
plain data: pure functions of the checked settings, with no Pulumi resources."""
