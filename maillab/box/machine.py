"""`Box`: one embedded lab machine, booted with systemd-nspawn on an overlay.

The image is the read-only lower layer; everything the box writes lands in
its own upper layer.  `down` keeps that layer, `reset` throws it away.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from maillab.box import cgroup, layout, network
from maillab.box import image as images
from maillab.box.layout import BoxLayout
from maillab.box.tools import processes, require_root, require_tools, run
from maillab.errors import AddressInUse, BootFailed, BoxError, BoxNotRunning, NoSuchBox
from maillab.progress import Progress, Reporter, quiet
from maillab.remote.host import Host
from maillab.remote.service import failed_units
from maillab.remote.ssh import SSHBackend
from maillab.remote.sshconfig import SSHSettings

log = logging.getLogger(__name__)

BOOT_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


@dataclass
class BoxState:
    """What box.json records of a box."""

    name: str
    address: str
    image: str
    # False from the moment its upper layer is new until its keys, address
    # and passwords are in: an interrupted `reset` is finished by the next `up`.
    personalized: bool = False


class Box:
    """One lab box, by name.  Every operation needs root."""

    def __init__(self, name: str = layout.DEFAULT_NAME, *, home: Path | None = None):
        self.home = home or layout.home()
        self.files = BoxLayout.of(name, self.home)
        self.name = name

    def __repr__(self) -> str:
        return f"Box({self.name!r})"

    # -- state -------------------------------------------------------------

    @property
    def exists(self) -> bool:
        return self.files.state.is_file()

    def state(self) -> BoxState:
        if not self.exists:
            raise NoSuchBox(self.name)
        data = json.loads(self.files.state.read_text())
        known = {f.name for f in fields(BoxState)}
        return BoxState(**{k: v for k, v in data.items() if k in known})

    def _save(self, state: BoxState) -> None:
        tmp = self.files.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2) + "\n")
        tmp.replace(self.files.state)

    @property
    def pid(self) -> int | None:
        """The running systemd-nspawn of this box, found in /proc (not stored)."""
        return _find_nspawn(self.files.mountpoint) if self.exists else None

    @property
    def is_running(self) -> bool:
        return self.pid is not None

    @property
    def address(self) -> str:
        return self.state().address

    # -- connection ----------------------------------------------------------

    def ssh_settings(self) -> SSHSettings:
        return SSHSettings(
            hostname=self.address,
            port=22,
            user="vagrant",
            identity_files=(str(self.files.key),),
            known_hosts=(str(self.files.known_hosts),),
            strict_host_key_checking="yes",
            alias=self.files.ssh_alias,
        )

    def host(self, *, timeout: float = 60.0) -> Host:
        """A `Host` for this box; the box must be running."""
        if not self.is_running:
            raise BoxNotRunning(self.name) if self.exists else NoSuchBox(self.name)
        return Host(SSHBackend(self.ssh_settings()), timeout=timeout)

    # -- life cycle ----------------------------------------------------------

    def up(self, *, address: str | None = None, report: Reporter = quiet) -> bool:
        """Start the box, creating it first if needed.  False if it was already up."""
        _prepare()
        with self._locked():
            if self.is_running:
                return False
            image = images.ensure_image(base=self.home, report=report)
            created = not self.exists
            if created:
                # Choosing an address reads every other box's state: one
                # creation at a time, or two boxes could take the same one.
                with _lock_file(self.home / "boxes" / ".create.lock"):
                    self._create(image, address)
            state = self.state()
            if state.image != image.key and created is False:
                report(
                    Progress(
                        "box",
                        f"box keeps its image {state.image}; "
                        "`maillab reset` moves it to the new one",
                    )
                )
            self._start(state, report=report)
            return True

    def down(self, *, report: Reporter = quiet) -> None:
        """Stop the box cleanly; its files stay for the next `up`."""
        _prepare()
        with self._locked():
            self.state()  # a clear error when there is no such box
            pid = self.pid
            if pid is not None:
                report(Progress("box", f"stopping {self.name}"))
                _stop(pid, STOP_TIMEOUT)
            self._teardown()

    def reset(self, *, report: Reporter = quiet) -> None:
        """Back to the start-of-chapter state: a fresh upper layer, then boot."""
        _prepare()
        with self._locked():
            state = self.state()
            self._kill_and_teardown()
            state.personalized = False
            self._save(state)
            report(Progress("box", "discarding the box's changes"))
            _wipe(self.files)
            image = images.ensure_image(base=self.home, report=report)
            state.image = image.key
            self._save(state)
            self._start(state, report=report)

    def destroy(self, *, report: Reporter = quiet) -> None:
        """Remove the box, its files and its network; the image cache stays."""
        _prepare()
        with self._locked():
            self.state()
            self._kill_and_teardown()
            shutil.rmtree(self.files.root_dir)
            if not any(b.exists for b in all_boxes(self.home)):
                network.remove_bridge()
            write_ssh_config(self.home)

    # -- steps -----------------------------------------------------------------

    def _create(self, image: images.Image, address: str | None) -> None:
        address = address or _free_address(self.name, self.home)
        _check_address(address, self.name, self.home)
        self.files.root_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.files.root_dir, 0o700)
        _keygen(self.files.key, comment=f"maillab-{self.name}")
        _keygen(self.files.host_key, comment=f"host-{self.name}")
        host_pub = self.files.host_key.with_suffix(".pub").read_text().split()
        self.files.known_hosts.write_text(f"{address} {host_pub[0]} {host_pub[1]}\n")
        self._save(BoxState(self.name, address, image.key))

    def _start(self, state: BoxState, *, report: Reporter) -> None:
        image = images.Image(state.image, self.home / "images" / state.image)
        if not image.is_complete:
            raise BoxError(
                f"the image {state.image} of box {self.name} is gone; "
                f"run `maillab reset --name {self.name}`"
            )
        leftovers = cgroup.kill_all(self.name)
        if leftovers:
            log.warning(
                "%s: killed %d processes of an earlier run", self.name, leftovers
            )
            report(
                Progress(
                    "box", f"stopped {leftovers} leftover processes of {self.name}"
                )
            )
        network.ensure_bridge()
        network.create_box_network(self.files, state.address)
        _mount(self.files, image)
        if not state.personalized:
            report(Progress("box", f"personalizing {self.name} ({state.address})"))
            self._personalize(state)
            state.personalized = True
            self._save(state)
        write_ssh_config(self.home)
        report(
            Progress("boot", f"booting {self.name} (console: {self.files.console_log})")
        )
        pid = _boot(self.files)
        self._wait_ready(state, pid, report)

    def _personalize(self, state: BoxState) -> None:
        root = self.files.mountpoint
        ssh_dir = root / "etc/ssh"
        shutil.copy(self.files.host_key, ssh_dir / "ssh_host_ed25519_key")
        shutil.copy(
            self.files.host_key.with_suffix(".pub"),
            ssh_dir / "ssh_host_ed25519_key.pub",
        )
        os.chmod(ssh_dir / "ssh_host_ed25519_key", 0o600)
        (ssh_dir / "sshd_config.d/maillab-box.conf").write_text(
            "# maillab box: one host key, pinned by the host side.\n"
            "HostKey /etc/ssh/ssh_host_ed25519_key\n"
        )
        keys = root / "home/vagrant/.ssh/authorized_keys"
        keys.write_text(self.files.key.with_suffix(".pub").read_text())
        (root / "etc/machine-id").write_text(secrets.token_hex(16) + "\n")
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "MAILLAB_IP": state.address,
            "MAILLAB_HOST_IP": layout.HOST_ADDRESS,
        }
        subprocess.run(
            ["chroot", str(root), "bash", images.INSIDE, "personalize"],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def _wait_ready(self, state: BoxState, pid: int, report: Reporter) -> None:
        deadline = time.monotonic() + BOOT_TIMEOUT
        log_path = str(self.files.console_log)
        report(Progress("boot", "waiting for SSH"))
        while not _port_open(state.address, 22):
            if _is_gone(pid):
                raise BootFailed(f"box {self.name} stopped while booting", log_path)
            if time.monotonic() > deadline:
                raise BootFailed(
                    f"box {self.name}: no SSH after {BOOT_TIMEOUT:g} s", log_path
                )
            time.sleep(0.1)
        report(Progress("boot", "waiting for systemd to finish starting"))
        with self.host() as host:
            left = max(deadline - time.monotonic(), 5)
            result = host.run("systemctl is-system-running --wait", timeout=left)
            failed = failed_units(host) if result.stdout.strip() != "running" else []
        if failed:
            report(Progress("boot", "failed units: " + ", ".join(failed)))
        report(Progress("boot", f"{self.name} is up at {state.address}"))

    def _kill_and_teardown(self) -> None:
        pid = self.pid
        if pid is not None:
            _kill(pid)
        self._teardown()

    def _teardown(self) -> None:
        cgroup.kill_all(self.name)
        _unmount(self.files.mountpoint)
        network.remove_box_network(self.files)
        cgroup.remove(self.name)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with _lock_file(self.files.lock):
            yield


@contextmanager
def _lock_file(path: Path) -> Iterator[None]:
    """An exclusive flock on `path`, held for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def all_boxes(home: Path | None = None) -> list[Box]:
    base = home or layout.home()
    boxes_dir = base / "boxes"
    if not boxes_dir.is_dir():
        return []
    return [
        Box(p.name, home=base)
        for p in sorted(boxes_dir.iterdir())
        if (p / "box.json").is_file()
    ]


def write_ssh_config(home: Path | None = None) -> Path:
    """One ssh_config for every box: `ssh -F <home>/ssh_config maillab` works."""
    base = home or layout.home()
    blocks = []
    for box in all_boxes(base):
        s = box.ssh_settings()
        blocks.append(
            f"Host {s.alias}\n  HostName {s.hostname}\n  User {s.user}\n  Port 22\n"
            f"  IdentityFile {box.files.key}\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {box.files.known_hosts}\n"
            "  StrictHostKeyChecking yes\n  HostKeyAlgorithms ssh-ed25519\n"
        )
        box.files.ssh_config.write_text(blocks[-1])
    path = base / "ssh_config"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by maillab: one entry per lab box.\n" + "\n".join(blocks)
    )
    return path


def _prepare() -> None:
    require_root()
    require_tools()


def _free_address(name: str, home: Path) -> str:
    if name == layout.DEFAULT_NAME:
        return layout.DEFAULT_ADDRESS
    taken = {b.state().address for b in all_boxes(home)}
    for last in range(11, 250):
        candidate = f"{layout.NETWORK_PREFIX}{last}"
        if candidate not in taken:
            return candidate
    raise AddressInUse("every box address from .11 to .249 is taken; destroy a box")


def _check_address(address: str, name: str, home: Path) -> None:
    if not address.startswith(layout.NETWORK_PREFIX) or address == layout.HOST_ADDRESS:
        raise BoxError(
            f"{address} is not a box address: choose one in "
            f"{layout.NETWORK_PREFIX}0/{layout.PREFIX_LENGTH} other than "
            f"{layout.HOST_ADDRESS}"
        )
    for other in all_boxes(home):
        if other.name != name and other.state().address == address:
            raise AddressInUse(
                f"{address} is already the address of box {other.name!r}; "
                "choose another with --address"
            )
    network.check_address_free(address)


def _keygen(path: Path, *, comment: str) -> None:
    if path.exists():
        return
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    os.chmod(path, 0o600)


def _mount(files: BoxLayout, image: images.Image) -> None:
    for folder in (files.upper, files.work, files.mountpoint):
        folder.mkdir(parents=True, exist_ok=True)
    if os.path.ismount(files.mountpoint):
        return
    options = f"lowerdir={image.rootfs},upperdir={files.upper},workdir={files.work}"
    run(["mount", "-t", "overlay", "overlay", "-o", options, str(files.mountpoint)])


def _unmount(mountpoint: Path) -> None:
    for _ in range(20):
        if not os.path.ismount(mountpoint):
            return
        proc = subprocess.run(
            ["umount", str(mountpoint)], capture_output=True, check=False
        )
        if proc.returncode == 0:
            return
        time.sleep(0.1)
    run(["umount", "--lazy", str(mountpoint)])


def _wipe(files: BoxLayout) -> None:
    for folder in (files.upper, files.work):
        shutil.rmtree(folder, ignore_errors=True)


def _boot(files: BoxLayout) -> int:
    argv = [
        "systemd-nspawn",
        "--quiet",
        "-D",
        str(files.mountpoint),
        "--boot",
        "--register=no",
        "--keep-unit",
        f"--machine=maillab-{files.name}",
        f"--network-namespace-path=/run/netns/{files.netns}",
        "--resolv-conf=off",
        "--timezone=off",
        "--link-journal=no",
        "--console=read-only",
    ]
    argv = cgroup.wrapped(files.name, argv)
    with files.console_log.open("ab") as console:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc.pid


def _find_nspawn(mountpoint: Path) -> int | None:
    """The systemd-nspawn process whose root is this mount point, if any."""
    wanted = str(mountpoint).encode()
    for pid, argv in processes():
        if argv[0].endswith(b"systemd-nspawn") and wanted in argv and not _is_gone(pid):
            return pid
    return None


def _container_init(pid: int) -> int | None:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def _stop(pid: int, timeout: float) -> None:
    """An orderly shutdown (nspawn turns SIGTERM into a poweroff), then a kill."""
    _signal(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        log.warning("box did not stop within %s s; killing it", timeout)
        _kill(pid)


def _kill(pid: int) -> None:
    """Kill the container's init, which takes its whole PID namespace with it."""
    init = _container_init(pid)
    _signal(init or pid, signal.SIGKILL)
    if not _wait_gone(pid, 10):
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, 5)


def _signal(pid: int, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signum)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _is_gone(pid):
            return True
        time.sleep(0.05)
    return False


def _is_gone(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return True  # our own child, now reaped
    except ChildProcessError:
        pass
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def _port_open(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False
