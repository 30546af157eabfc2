"""The CDK app that `cdktf.json` runs (`cdktf synth`, `cdktn synth`, or `python main.py`), on
CDK for Terraform or CDK Terrain (README: CDKTF or CDK Terrain).

A shim: the app lives in the package (`quilt_cross_account.construct.app`), so an installed copy
runs the same code with `python -m quilt_cross_account.construct.app`.
"""

import sys

from quilt_cross_account.construct.app import main

if __name__ == "__main__":
    sys.exit(main())
