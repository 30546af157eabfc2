"""Time Terraform core's `plan` of one generated root with the stand-in provider.

Usage: plan_once.py ROOT_DIR [RUNS]. Prints JSON: the median plan time (plan + show -json) over
RUNS plans after a warm-up plan, and how many data sources the plan read.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.standin.harness import Terraform  # noqa: E402


def main() -> None:
    root = Path(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    terraform = Terraform()
    try:
        plan = terraform.plan(root)  # warm-up: init, provider start, caches
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            terraform.plan(root)
            samples.append(time.perf_counter() - start)
    finally:
        terraform.close()
    data = [
        r
        for child in plan["prior_state"]["values"]["root_module"].get("child_modules", [])
        for r in child.get("resources", [])
        if r["mode"] == "data"
    ]
    print(json.dumps({"plan_s": statistics.median(samples), "data_sources_read": len(data)}))


if __name__ == "__main__":
    main()
