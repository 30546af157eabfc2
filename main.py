"""The CDK for Terraform app that `cdktf.json` runs (`cdktf synth`, or `python main.py`).

A shim: the app lives in the package (`quilt_cross_account.construct.app`), so an installed copy
runs the same code with `python -m quilt_cross_account.construct.app`.
"""

import sys

from quilt_cross_account.construct.app import main

if __name__ == "__main__":
    sys.exit(main())
