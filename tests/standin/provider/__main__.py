"""Entry point Terraform launches (through the harness's `terraform-provider-aws` wrapper)."""

from tests.standin.provider.server import main

main()
