"""Run one slow test tier in full and, if every test passes, record the digest of its inputs.

    python tests/tools/record_tier_pass.py exchange_library

The default test run then skips that tier until one of its inputs changes (tests/tiers.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.tiers import PASSES, REPO, TIERS, recorded_passes, tier_digest


def main(tier: str) -> int:
    if tier not in TIERS:
        print(f"unknown tier {tier!r}; tiers: {', '.join(TIERS)}", file=sys.stderr)
        return 2
    before = tier_digest(tier)
    started = time.process_time(), time.perf_counter()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-m", tier]
    completed = subprocess.run(command, cwd=REPO, check=False)
    children = os.times()
    cpu = children.children_user + children.children_system
    if completed.returncode != 0:
        print(f"{tier}: not recorded, pytest exited with {completed.returncode}", file=sys.stderr)
        return completed.returncode
    if tier_digest(tier) != before:
        print(f"{tier}: not recorded, its inputs changed while it ran", file=sys.stderr)
        return 1
    passes = recorded_passes()
    passes[tier] = {
        "digest": before,
        "recorded": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu_seconds": round(cpu),
        "wall_seconds": round(time.perf_counter() - started[1]),
    }
    tmp = PASSES.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(passes, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(PASSES)
    print(f"{tier}: recorded ({passes[tier]['cpu_seconds']} s CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
