"""The box image: a Debian 12 root file system built by mmdebstrap and bootstrap.sh.

Images are cached under <home>/images/<key>/, where the key is a hash of
bootstrap.sh and of the build recipe: a second `up` reuses the image, and a
change to bootstrap.sh builds a new one.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from maillab.box import layout
from maillab.errors import BuildFailed
from maillab.progress import Progress, Reporter, quiet

log = logging.getLogger(__name__)

SUITE = "bookworm"
RECIPE_VERSION = "1"
INSIDE = "/usr/local/share/maillab/bootstrap.sh"
# Lines of a build's log that mark progress (apt downloads, dpkg steps).
_STEP = re.compile(r"^(Get:\d+|Unpacking |Setting up )")
# What a full build printed of those lines when it was measured; a real
# build then replaces this estimate with its own count.
ESTIMATED_STEPS = 1200
BUILD_TIMEOUT = 1800


def bootstrap_script() -> str:
    return resources.files("maillab.box").joinpath("bootstrap.sh").read_text()


def image_key(script: str) -> str:
    digest = hashlib.sha256(f"{RECIPE_VERSION}\n{SUITE}\n{script}".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Image:
    """One cached image."""

    key: str
    directory: Path

    @property
    def rootfs(self) -> Path:
        return self.directory / "rootfs"

    @property
    def build_log(self) -> Path:
        return self.directory / "build.log"

    @property
    def is_complete(self) -> bool:
        return (self.directory / "complete").is_file()


def current_image(base: Path | None = None) -> Image:
    key = image_key(bootstrap_script())
    return Image(key, (base or layout.home()) / "images" / key)


def ensure_image(*, base: Path | None = None, report: Reporter = quiet) -> Image:
    """The image for the current bootstrap.sh, built if it is not cached yet."""
    image = current_image(base)
    image.directory.parent.mkdir(parents=True, exist_ok=True)
    # One build at a time: a second `up` waits for the first one's image.
    with (image.directory.parent / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image.is_complete:
            report(Progress("image", f"image {image.key} is cached"))
            return image
        build(image, report=report)
    return image


def build(image: Image, *, report: Reporter = quiet) -> None:
    """Build the image into a scratch folder, then move it in place."""
    scratch = image.directory.with_name(image.key + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    script = scratch / "bootstrap.sh"
    script.write_text(bootstrap_script())
    logfile = scratch / "build.log"
    total = _expected_steps(image.directory.parent)
    report(
        Progress(
            "image", f"building image {image.key} (log: {image.build_log})", 0, total
        )
    )
    start = time.monotonic()
    steps = _run_build(_build_argv(script, scratch / "rootfs"), logfile, total, report)
    elapsed = time.monotonic() - start
    (scratch / "steps").write_text(str(steps))
    (scratch / "complete").write_text(f"built in {elapsed:.0f} s\n")
    shutil.rmtree(image.directory, ignore_errors=True)
    scratch.rename(image.directory)
    report(
        Progress("image", f"image {image.key} built in {elapsed:.0f} s", total, total)
    )


def _build_argv(script: Path, rootfs: Path) -> list[str]:
    hooks = [
        f'--essential-hook=mkdir -p "$1{Path(INSIDE).parent}"',
        f"--essential-hook=copy-in {script} {Path(INSIDE).parent}",
        f'--essential-hook=chroot "$1" bash {INSIDE} preseed',
        f'--customize-hook=chroot "$1" bash {INSIDE} configure',
        # Every box gets its own SSH host key when it is created.
        '--customize-hook=rm -f "$1"/etc/ssh/ssh_host_*',
    ]
    packages = subprocess.run(
        ["bash", str(script), "packages"], capture_output=True, text=True, check=True
    ).stdout.split()
    # A chroot takes the build host's name: give the build its own UTS
    # namespace with the lab's hostname, so postfix's postinst sees the right one.
    return [
        "unshare",
        "--uts",
        "sh",
        "-c",
        f'hostname {layout.LAB_HOSTNAME} && exec "$@"',
        "sh",
        "mmdebstrap",
        "--verbose",
        "--variant=apt",
        "--include=" + ",".join(packages),
        *hooks,
        SUITE,
        str(rootfs),
    ]


def _run_build(argv: list[str], logfile: Path, total: int, report: Reporter) -> int:
    steps = 0
    with logfile.open("w") as out:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
            errors="replace",
        )
        assert proc.stdout is not None
        deadline = time.monotonic() + BUILD_TIMEOUT
        for line in proc.stdout:
            out.write(line)
            if _STEP.match(line):
                steps += 1
                stage = "installing packages" if line[0] != "G" else "downloading"
                done = min(steps, total)
                report(Progress("image", stage, done, total, item=_short(line)))
            elif line.startswith("I: "):
                message = line[3:].strip().rstrip(".")
                report(Progress("image", message, min(steps, total), total))
            if time.monotonic() > deadline:
                proc.kill()
        status = proc.wait()
    if status != 0:
        raise BuildFailed(f"mmdebstrap failed (status {status})", str(logfile))
    return steps


def _short(line: str) -> str:
    words = line.split()
    if line.startswith("Get:"):
        return words[4] if len(words) > 4 else ""
    return words[2] if words[0] == "Setting" else words[1]


def _expected_steps(images: Path) -> int:
    counts = [
        int(p.read_text()) for p in images.glob("*/steps") if p.read_text().isdigit()
    ]
    return max(counts) if counts else ESTIMATED_STEPS
