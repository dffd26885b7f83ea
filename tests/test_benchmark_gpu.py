"""benchmarks/gpu.py's CPU path (`--device cpu --tiny`): every row is measured and agrees with fp32."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu.py"


def test_gpu_benchmark_runs_on_cpu_tiny(capsys):
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--device", "cpu", "--tiny", "--steps", "1", "--warmup", "0", "--frames", "1"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(("train step", "inference frame", "DDP"))]
    assert [line.split()[2] for line in lines[:2]] == ["fp32", "bf16"]  # "train step <precision> ..."
    assert sum(line.startswith("inference frame") for line in lines) == 2
    assert all(line.rstrip().endswith("ok") for line in lines if not line.startswith("DDP"))
    assert "skipped: needs 2 CUDA GPUs" in out
