"""Inputs: the registry of inputs (`settings`), the check of each (`checks`) and the rules across
them (`rules`), the one error type (`problems`), and the ports of the upstream rules they apply
(Go's strconv, net/url and crypto/x509, the API server's validation)."""
