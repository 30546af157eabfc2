"""Connect Quilt (control account) to S3 buckets in another AWS account: a Terraform module and a
CDK for Terraform construct, both rendered from one validated config.

Pipeline: `config` (read and validate) -> `model` -> `terraform` (HCL) and `construct` (CDKTF)
-> `writer` (stage, swap, check). `generate` never imports `construct`.
"""

from quilt_cross_account import version as _version

__version__ = _version.current()
