"""Connect Quilt (control account) to S3 buckets in another AWS account: a Terraform module and a
CDK for Terraform construct, both rendered from one validated config.

Pipeline: `config` (read and validate) -> `model` -> `terraform` (HCL) and `construct` (CDKTF)
-> `writer` (stage, swap, check). `generate` never imports `construct`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("quilt-cross-account")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
