"""The class roster: student id and machine, from YAML, CSV or an Ansible inventory."""

from __future__ import annotations

import configparser
import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from maillab.errors import MaillabError
from maillab.remote.host import Host
from maillab.remote.ssh import SSHBackend
from maillab.remote.sshconfig import SSHSettings


class RosterError(MaillabError):
    """A roster that cannot be read."""


@dataclass(frozen=True)
class Student:
    """One student's machine, and how to reach it over SSH."""

    id: str
    host: str
    port: int = 22
    user: str = "vagrant"
    key: str | None = None
    known_hosts: str | None = None  # pins the host key; else the first one is used

    def connect(self, *, timeout: float) -> Host:
        settings = SSHSettings(
            hostname=self.host,
            port=self.port,
            user=self.user,
            identity_files=(os.path.expanduser(self.key),) if self.key else (),
            known_hosts=(self.known_hosts,) if self.known_hosts else (os.devnull,),
            strict_host_key_checking="yes" if self.known_hosts else "accept-new",
            connect_timeout=min(timeout, 10.0),
            alias=self.id,
        )
        return Host(SSHBackend(settings), timeout=timeout)


_ANSIBLE = {
    "ansible_host": "host",
    "ansible_port": "port",
    "ansible_user": "user",
    "ansible_ssh_private_key_file": "key",
}


def _student(ident: str, fields: dict[str, Any], source: str) -> Student:
    values = {_ANSIBLE.get(k, k): v for k, v in fields.items() if v not in (None, "")}
    values.pop("id", None)
    values.setdefault("host", ident)
    known = {"host", "port", "user", "key", "known_hosts"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise RosterError(f"{source}: {ident}: unknown field(s) {', '.join(unknown)}")
    try:
        return Student(str(ident), **{**values, "port": int(values.get("port", 22))})
    except ValueError:
        raise RosterError(f"{source}: {ident}: the port is not a number") from None


def read_roster(path: str | Path) -> list[Student]:
    """A roster by its content: CSV, a YAML list, a YAML or INI Ansible inventory."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RosterError(f"{path}: cannot read it ({exc.strerror})") from None
    return parse_roster(text, source=str(path))


def parse_roster(text: str, *, source: str = "<roster>") -> list[Student]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    if first.startswith("[") or ("ansible_host=" in text and ":" not in first):
        students = _from_ini(text, source)
    elif "," in first and ":" not in first:
        students = _from_csv(text, source)
    else:
        students = _from_yaml(text, source)
    ids = [s.id for s in students]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RosterError(f"{source}: listed twice: {', '.join(duplicates)}")
    return students


def _from_csv(text: str, source: str) -> list[Student]:
    rows = csv.DictReader(io.StringIO(text))
    if rows.fieldnames is None or "id" not in rows.fieldnames:
        raise RosterError(f"{source}: a CSV roster needs an id column")
    return [_student(row["id"], dict(row), source) for row in rows]


def _from_yaml(text: str, source: str) -> list[Student]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RosterError(f"{source}: not YAML: {exc}") from None
    if isinstance(data, dict) and "students" in data:
        data = data["students"]
    if isinstance(data, list):
        return [_student(str(d["id"]), d, source) for d in data]
    if isinstance(data, dict):
        return [_student(n, f, source) for n, f in _inventory_hosts(data).items()]
    raise RosterError(f"{source}: expected a list of students or an inventory")


def _inventory_hosts(
    group: dict[str, Any], inherited: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Ansible YAML inventory: hosts of every group and child group, vars merged."""
    found: dict[str, dict[str, Any]] = {}
    for body in group.values():
        body = body or {}
        merged = {**(inherited or {}), **(body.get("vars") or {})}
        for host, fields in (body.get("hosts") or {}).items():
            found[host] = {**merged, **(fields or {})}
        found.update(_inventory_hosts(body.get("children") or {}, merged))
    return found


def _from_ini(text: str, source: str) -> list[Student]:
    parser = configparser.ConfigParser(
        allow_no_value=True, delimiters=("\0",), interpolation=None
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text if text.lstrip().startswith("[") else "[all]\n" + text)
    except configparser.Error as exc:
        raise RosterError(f"{source}: not an Ansible inventory: {exc}") from None
    group_vars = _ini_group_vars(parser)
    students: dict[str, Student] = {}
    for section in parser.sections():
        if ":" in section:
            continue
        for line in parser[section]:
            name, *pairs = line.split()
            fields = {**group_vars.get(section, {}), **_pairs(pairs)}
            students[name] = _student(name, fields, source)
    return list(students.values())


def _ini_group_vars(parser: configparser.ConfigParser) -> dict[str, dict[str, str]]:
    found = {}
    for section in parser.sections():
        if section.endswith(":vars"):
            found[section[:-5]] = _pairs(list(parser[section]))
    return found


def _pairs(words: list[str]) -> dict[str, str]:
    return dict(w.split("=", 1) for w in words if "=" in w)
