"""Synth time and template size at scale, and the code asset's zipped size.

Synth runs ``app.py`` the way the CDK CLI does (``CDK_OUTDIR`` and ``CDK_CONTEXT_JSON`` with
cdk.json's feature flags and ``triggers`` pointing at :func:`bench.scale_config.scale_config`'s
file), in a fresh interpreter, timed from start to exit. Every template in the output directory
is counted (nested stacks write one each). A synth that fails is recorded with its last line of
error output, never raised: the figures say which sizes do not synthesize.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.common import ROOT
from bench.scale_config import scale_config

__all__ = ["SYNTH_TIMEOUT_SECONDS", "asset_sizes", "synth", "zipped_size"]

# 500 triggers take minutes on a loaded machine; past this, the size is recorded as failed.
SYNTH_TIMEOUT_SECONDS = 1800


def synth(count: int) -> dict[str, Any]:
    """Seconds to synthesize ``count`` triggers, and each template's resource count (or why it failed)."""
    with tempfile.TemporaryDirectory(prefix="gluetrigger-synth-") as work:
        triggers = Path(work) / "triggers.yaml"
        triggers.write_text(scale_config(count), encoding="utf-8")
        context = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
        outdir = Path(work) / "cdk.out"
        env = {
            **os.environ,
            "CDK_OUTDIR": str(outdir),
            "CDK_CONTEXT_JSON": json.dumps({**context, "triggers": str(triggers)}),
        }
        started = time.perf_counter()
        try:
            result = subprocess.run(
                [sys.executable, "app.py"],
                check=False,
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=SYNTH_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            return {"triggers": count, "ok": False, "error": f"no result within {SYNTH_TIMEOUT_SECONDS} s"}
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("b'!!")]
            return {"triggers": count, "ok": False, "seconds": seconds, "error": lines[-1] if lines else "exit code"}
        templates = {
            path.name: len(json.loads(path.read_text(encoding="utf-8")).get("Resources", {}))
            for path in sorted(outdir.glob("*.template.json"))
        }
        return {"triggers": count, "ok": True, "seconds": seconds, "resources": templates}


def zipped_size(directory: Path) -> int:
    """Bytes of ``directory`` zipped the way the CDK zips an asset: every file, deflated, in name order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(directory)), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return len(buffer.getvalue())


def asset_sizes(asset: Path) -> dict[str, int]:
    """The bench function's ``asset`` zipped as staged (with bytecode for this interpreter) and as source only."""
    with tempfile.TemporaryDirectory() as work:
        source_only = Path(work) / "asset"
        shutil.copytree(asset, source_only, ignore=shutil.ignore_patterns("__pycache__"))
        source_only_bytes = zipped_size(source_only)
    return {
        "zipped_bytes": zipped_size(asset),
        "zipped_bytes_source_only": source_only_bytes,
        "pyc_files": sum(1 for _ in asset.rglob("*.pyc")),
    }
