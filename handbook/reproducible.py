"""Dates in the output come from the source, not the clock.

The one date Sphinx takes from the clock is ``today``: the PDF's title page
and ``|today|``. This module sets it from ``SOURCE_DATE_EPOCH`` when that is
set (the reproducible-builds convention), else from the time of the last
commit, so two builds of one commit are identical wherever and whenever they
run; the PDF's creation date too (:func:`set_today`). Outside a git checkout,
with no ``SOURCE_DATE_EPOCH``, Sphinx's default (the build date) stands.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config


def source_date_epoch(root: Path) -> int | None:
    """``SOURCE_DATE_EPOCH``, or the committer time of HEAD, or None."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        done = subprocess.run(
            ["git", "log", "-1", "--format=%ct"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return int(done.stdout) if done.stdout.strip().isdigit() else None


def set_today(app: Sphinx, config: Config) -> None:
    """Fill ``today`` from the source date unless conf.py set it.

    The date also goes into this process's ``SOURCE_DATE_EPOCH``, which the
    TeX tools that ``-M latexpdf`` runs after the build inherit: xdvipdfmx then
    writes it as the PDF's creation date, instead of the clock time, and
    derives the file identifier from it, so two PDFs of one commit are equal.
    """
    epoch = source_date_epoch(Path(app.confdir))
    if epoch is None:
        return
    os.environ.setdefault("SOURCE_DATE_EPOCH", str(epoch))
    if not config.today:
        config.today = dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%B %d, %Y")


def setup(app: Sphinx) -> None:
    """Connect the handler, early, before anything formats a date."""
    app.connect("config-inited", set_today, priority=100)
