import sys

from quilt_cross_account.cli import main

sys.exit(main())
