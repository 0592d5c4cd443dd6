"""Lab box timings and memory, against the targets of a 2-core machine.

    .venv/bin/python benchmarks/box.py            # warm up, reset, memory
    .venv/bin/python benchmarks/box.py --cold     # also a cold image build

Run as root.  Uses its own box ("bench"), destroyed at the end; the cold
build goes to a scratch MAILLAB_HOME so that the real image cache stays.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from maillab.box import Box
from maillab.box import image as images

TARGETS = {"cold build": 180.0, "warm up": 15.0, "reset": 5.0}


def timed(action) -> float:
    start = time.monotonic()
    action()
    return time.monotonic() - start


def cold_build() -> float:
    with tempfile.TemporaryDirectory(prefix="maillab-bench-") as scratch:
        return timed(lambda: images.ensure_image(base=Path(scratch)))


def box_memory(box: Box) -> int:
    """Proportional set size of every process in the box's PID namespace, bytes."""
    init = Path(f"/proc/{box.pid}/task/{box.pid}/children")
    init_pid = int(init.read_text().split()[0])
    namespace = os.readlink(f"/proc/{init_pid}/ns/pid")
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.readlink(proc / "ns/pid") != namespace:
                continue
            for line in (proc / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def report(name: str, runs: list[float]) -> None:
    median = statistics.median(runs)
    target = TARGETS[name]
    shown = " ".join(f"{r:.1f}" for r in runs)
    print(
        f"{name:11} median {median:6.1f} s  runs [{shown}]  "
        f"target {target:.0f} s  ratio {median / target:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="also time a cold build")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    if args.cold:
        report("cold build", [cold_build()])
    box = Box("bench")
    if box.exists:
        box.destroy()
    box.up()
    try:
        ups = []
        for _ in range(args.runs):
            box.down()
            ups.append(timed(box.up))
        report("warm up", ups)
        report("reset", [timed(box.reset) for _ in range(args.runs)])
        time.sleep(5)  # let spamd's children and apache settle
        print(
            f"memory      {box_memory(box) / 2**20:6.0f} MiB",
            "(PSS of the box's processes)",
        )
    finally:
        box.destroy()


if __name__ == "__main__":
    main()
