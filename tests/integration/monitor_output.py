"""Reading `dbus-monitor` output: when a call was made, from its `time=` header field."""

from __future__ import annotations

import re


def call_times(text: str, member: str, *needles: str) -> list[float]:
    """`time=` (epoch seconds) of each `member` message containing every needle, in order."""
    times = []
    for message in re.split(r"\n(?=\S)", text):
        if f"member={member}" in message and all(n in message for n in needles):
            found = re.search(r"time=(\d+\.\d+)", message)
            if found:
                times.append(float(found.group(1)))
    return times
