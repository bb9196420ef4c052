"""A throwaway PostgreSQL server for the examples that need real database locks.

The server runs from Debian's ``postgresql`` package (``.ci/run`` installs it;
the README lists it), in a temporary data folder, listening only on a Unix
socket in that folder, so it never clashes with a server already running on
the machine. PostgreSQL refuses to run as root; CI runs as root, so there
the server runs as the ``postgres`` user the package creates.

pytest-postgresql does the same job but starts ``pg_ctl`` as the current user
and so cannot run under root; these forty lines are the part of it we need.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL's server programs (initdb, pg_ctl) were not found. Install Debian's "
    "'postgresql' package (README, Prerequisites) or put their folder on PATH."
)


def server_bindir() -> Path:
    """The folder that holds ``initdb`` and ``pg_ctl``: on PATH, or Debian's versioned one."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if not installed:
        raise RuntimeError(INSTALL_HINT)
    return installed[-1].parent


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a fresh server, yield a libpq connection string, stop and delete it."""
    bindir = server_bindir()
    folder = Path(tempfile.mkdtemp(prefix="handbook-pg-"))
    data = folder / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, text=True)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
        options = f"-c listen_addresses='' -k {folder} -c max_connections=200 -c fsync=off"
        # -l: the server's log goes to a file, not to a pipe this process would wait on.
        log = str(folder / "server.log")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", log, "-o", options, "-w", "start")
        try:
            yield f"host={folder} user=postgres dbname=postgres"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
