"""Stand-in for the hashicorp/aws Terraform provider, for offline tests with Terraform core.

Serves the schema in ../schema.json (extracted from the cdktf bindings), or the one of another
provider version that $STANDIN_SCHEMA names (../schemas/), over plugin protocol 6
with the `tf` framework, and behaves like the real SDKv2-based provider where our tests can see
it: plan-time validation, defaults, JSON normalisation of policies, unknown computed values at
plan, deterministic computed values at apply, data sources (caller identity, partition, region,
IAM policy documents rendered like the provider does). Nothing talks to AWS.

Modules, in the order a request meets them:
- `schema`: the schema file loaded and turned into `tf` schema objects (any nesting mode);
- `values`: helpers on raw configuration values (unknowns, nested block elements, paths);
- `validation`: the provider-side checks of a configuration (SDKv2 ValidateFuncs, conflicts);
- `state`: the configured provider (region, default tags, account);
- `resources`: resource behaviour: defaults, plan-time computed values, replacement, apply;
- `gojson`, `iam`: Go-compatible JSON and the provider's rendering of IAM policy documents;
- `data_sources`: the data sources the module reads;
- `server`: the gRPC servicer and the entry point (`python -m tests.standin.provider`).

Terraform launches it through the `terraform-provider-aws` wrapper the harness writes. Only
`server` (and what needs `tf`) imports the plugin framework: `gojson` and `iam` are plain Python.
"""
