"""Stopping a child started with `start_new_session=True` together with its own children
(gunicorn workers, say): the whole process group, as a service manager would."""

from __future__ import annotations

import os
import signal
import subprocess


def kill(process: subprocess.Popen) -> None:
    """SIGKILL: no handler runs, an open transaction is cut off, like a power cut."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the group has not gone within 10 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            kill(process)
