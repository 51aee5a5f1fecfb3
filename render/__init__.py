"""Offline render: the stack program evaluated under Pulumi's mock monitor, written as manifests."""
