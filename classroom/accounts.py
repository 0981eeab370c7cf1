"""The class list and the students' local accounts on the hub machine.

Why local accounts (JupyterHub's default PAM authenticator) rather than a first-use-password
authenticator: on one machine every student's server must run under a uid of its own
anyway, so that one student cannot read another's home (the kernel enforces it, not the
hub), and collecting work "from every home, only files the student owns" needs those uids.
Local accounts give both, with no extra package; the hub checks the password with PAM.
Each new account gets a random password, written once to ``passwords.csv`` (mode 0600) in
the hub's folder for the instructor to hand out; students change it with ``passwd`` in a
terminal. Accounts made here carry :data:`MARK` in their GECOS field, and only those are
ever changed or removed — an existing user of the machine with the same name is an error.
"""
from __future__ import annotations

import csv
import os
import pwd
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

MARK = "mlcourse student"
NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
ID_COLUMNS = ("username", "student", "id", "login")


@dataclass(frozen=True)
class Student:
    name: str   # the account name = the student id in the gradebook
    uid: int
    gid: int
    home: Path


def read_roster(path: Path) -> list[str]:
    """Account names from a roster CSV (a header row with one of :data:`ID_COLUMNS`), in order.

    ValueError naming the file, the row and what was expected when a name is unusable.
    """
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            header = [h.strip().lower() for h in (rows[0].keys() if rows else [])]
    except OSError as exc:
        raise ValueError(f"roster {path}: {exc}") from None
    column = next((c for c in ID_COLUMNS if c in header), None)
    if column is None:
        raise ValueError(f"roster {path}: needs a header row with a column named one of {', '.join(ID_COLUMNS)}")
    names: list[str] = []
    for n, row in enumerate(rows, 2):
        value = next(v for k, v in row.items() if k.strip().lower() == column).strip()
        if not NAME.match(value):
            raise ValueError(f"roster {path}, line {n}: {value!r} is not a usable account name "
                             "(lower-case letters, digits, '-' or '_', at most 32, starting with a letter)")
        if value in names:
            raise ValueError(f"roster {path}, line {n}: {value!r} is listed twice")
        names.append(value)
    if not names:
        raise ValueError(f"roster {path}: no students")
    return names


def lookup(name: str) -> Student | None:
    """The account of ``name`` if it is one of ours; ValueError if it belongs to someone else."""
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return None
    if pw.pw_gecos.split(",")[0] != MARK:
        raise ValueError(f"user {name!r} already exists on this machine and was not made for the course; "
                         "rename the student in the roster")
    return Student(name, pw.pw_uid, pw.pw_gid, Path(pw.pw_dir))


def ensure(names: list[str], passwords: Path) -> list[Student]:
    """Create the missing accounts (home 0700, a random password); returns every student's account."""
    out, new = [], []
    for name in names:
        st = lookup(name)
        if st is None:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--comment", MARK, name],
                           check=True, capture_output=True)
            password = secrets.token_urlsafe(12)
            subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True)
            new.append((name, password))
            st = lookup(name)
        os.chmod(st.home, 0o700)  # other students cannot even list it
        out.append(st)
    if new:
        passwords.parent.mkdir(parents=True, exist_ok=True)
        fresh = not passwords.exists()
        fd = os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            if fresh:
                w.writerow(["username", "password"])
            w.writerows(new)
        os.chmod(passwords, 0o600)
    return out


def students(names: list[str]) -> list[Student]:
    """The existing accounts of ``names`` (ValueError naming any missing one)."""
    out = []
    for name in names:
        st = lookup(name)
        if st is None:
            raise ValueError(f"student {name!r} has no account here (start the hub with this roster first)")
        out.append(st)
    return out


def remove(names: list[str]) -> list[str]:
    """Delete the accounts of ``names`` that were made for the course, homes included."""
    gone = []
    for name in names:
        if lookup(name) is not None:
            subprocess.run(["userdel", "--remove", name], check=True, capture_output=True)
            gone.append(name)
    return gone
