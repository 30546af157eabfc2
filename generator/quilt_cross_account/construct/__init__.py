"""Stage 2b: the CDK for Terraform construct, its stack and app.

Nothing here is imported by `generate`: `stack` and `app` load jsii and the provider bindings
(seconds and hundreds of MB); `node` and `bindings` only prepare that load.
"""
