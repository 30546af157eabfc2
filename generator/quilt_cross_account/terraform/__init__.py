"""Stage 2a: render the Terraform module and its root-module call (HCL, Jinja templates)."""
