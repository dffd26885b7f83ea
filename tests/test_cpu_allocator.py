"""`device.tune_cpu_allocator`: after it, a large temporary freed and allocated again costs no page faults (the
reason the command line calls it); the opt-out leaves the allocator alone. Each case runs in a child process,
since the setting is process-wide."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CHILD = r"""
import json, resource, sys
import torch
from iseebetter_lib.device import tune_cpu_allocator
tuned = tune_cpu_allocator()
def two_maps():  # two 40 MB temporaries alive at once, like an HR feature map of a 320x240 frame and its PReLU
    a = torch.empty(10 * 2**20).fill_(1.0)
    b = torch.empty(10 * 2**20).fill_(2.0)
    return float(a[0] + b[0])
for _ in range(10):  # the tuned heap grows to its steady size within a few rounds
    two_maps()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    two_maps()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"tuned": tuned, "faults": faults}))
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")


def _child(disable: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.pop("ISEEBETTER_NO_MALLOC_TUNING", None)
    if disable:
        env["ISEEBETTER_NO_MALLOC_TUNING"] = "1"
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_tuned_allocator_reuses_freed_memory_without_page_faults():
    tuned, plain = _child(disable=False), _child(disable=True)
    assert tuned["tuned"] is True and plain["tuned"] is False
    # 5 x 2 x 40 MB: untuned, glibc maps and unmaps each block (~10k faults each); tuned, the heap keeps them.
    assert plain["faults"] > 2000, plain
    assert tuned["faults"] < plain["faults"] / 10, (tuned, plain)
