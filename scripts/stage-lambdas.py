#!/usr/bin/env python3
"""Stages the cargo-lambda zips for `sam deploy` (called by `make build`).

For each function: copies <from>/<fn>/bootstrap.zip to <to>/<fn>/bootstrap.zip and adds the YAML
config as `bridge.yaml` (so BRIDGE_CONFIG=/var/task/bridge.yaml works without S3). Writes <to>/ARCH
so `make deploy` can refuse a template/binary architecture mismatch. Refuses a zip whose
bootstrap was built for the other architecture (cargo-lambda can leave stale files behind).
"""

import argparse
import shutil
import sys
import zipfile
from pathlib import Path

# ELF e_machine values
MACHINES = {"arm64": 0xB7, "x86_64": 0x3E}


def elf_machine(data: bytes) -> int | None:
    if len(data) < 20 or data[:4] != b"\x7fELF":
        return None
    return int.from_bytes(data[18:20], "little")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", required=True, choices=sorted(MACHINES))
    ap.add_argument("--from", dest="src", required=True, type=Path)
    ap.add_argument("--to", dest="dst", required=True, type=Path)
    ap.add_argument("--config", required=True, type=Path)
    ap.add_argument("functions", nargs="+")
    args = ap.parse_args()

    if not args.config.is_file():
        print(f"stage-lambdas: config {args.config} not found", file=sys.stderr)
        return 1
    config = args.config.read_bytes()

    args.dst.mkdir(parents=True, exist_ok=True)
    for fn in args.functions:
        src = args.src / fn / "bootstrap.zip"
        if not src.is_file():
            print(f"stage-lambdas: {src} missing (did cargo lambda build {fn}?)", file=sys.stderr)
            return 1
        with zipfile.ZipFile(src) as z:
            machine = elf_machine(z.read("bootstrap")[:64])
        if machine != MACHINES[args.arch]:
            print(f"stage-lambdas: {src}: bootstrap is not an {args.arch} ELF (e_machine={machine})",
                  file=sys.stderr)
            return 1
        out_dir = args.dst / fn
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / "bootstrap.zip"
        shutil.copyfile(src, out)
        with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as z:
            info = zipfile.ZipInfo("bridge.yaml", date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, config)
        print(f"staged {out} ({out.stat().st_size // 1024} KiB, {args.arch}, config {args.config})")
    (args.dst / "ARCH").write_text(args.arch + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
