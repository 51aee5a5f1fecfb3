"""The msr-cache policy pack: `pulumi preview --policy-pack policy` runs this file.

Constructing the PolicyPack starts the analyzer's gRPC server and serves until the engine stops
it, so nothing else should import this module: tests import `policies` and call each policy's
`validate` directly.
"""

# Pulumi runs the pack as `python policy/` (runpy on the folder), which puts this folder first on
# sys.path: `policies` is the sibling module policy/policies.py, not a package import.
from policies import POLICIES
from pulumi_policy import PolicyPack

PolicyPack(name="msr-cache", policies=POLICIES)
