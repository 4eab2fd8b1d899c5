#!/usr/bin/env python3
"""Downloads the official OpenAPI files of the fidelity tests into a cache (`make specs`).

The fidelity tests (tests/fidelity) validate the simulators' exchanges against the vendors'
OpenAPI descriptions. The files are never committed: they are pinned here by URL and sha256.
The tests look for each file in $BRIDGE_SPECS_DIR when it is set, else in
<cargo target dir>/openapi-specs, the cache this script fills (`make test` runs it).

Each file is downloaded from its pinned URL to a temporary file in the cache folder, its sha256
checked, and only then moved into place, so a partial or altered download is never read. A file
the tests already find in $BRIDGE_SPECS_DIR, or a cached copy with the right sha256, is not
fetched again. Offline, point BRIDGE_SPECS_DIR at a folder holding both files.

Without network this prints a note and exits 0: the fidelity tests that need a missing file are
then skipped (they fail instead under BRIDGE_REQUIRE_SPECS=1, as in CI). Standard library only.
"""

import argparse
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# file name -> (URL at a pinned commit, sha256 of the file)
SPECS = {
    "intercom-openapi.yaml": (
        "https://raw.githubusercontent.com/intercom/Intercom-OpenAPI/"
        "8889625a7b931d8649e18726e7f872ff073520fc/descriptions/2.16/api.intercom.io.yaml",
        "212b09336bf561992d998e6650d4eaacb44aa0a0f02504e398cf10f1cfb9d238",
    ),
    "zendesk-openapi.yaml": (
        "https://raw.githubusercontent.com/emberstack/ES.FX/"
        "87fa408897d1179d462e8e0ae3974ebc75af88c5/src/ES.FX.Zendesk/OpenApi/support-oas.yaml",
        "83dfbd932bcff6ecf22c0062e9e2ad9192912d5c4b2a845ba7142618e7db06e7",
    ),
}

TIMEOUT_SECONDS = 30


def note(message: str) -> None:
    print(f"fetch-specs: {message}", file=sys.stderr)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def target_dir() -> Path:
    """Cargo's target directory, as `cargo metadata` reports it (CARGO_TARGET_DIR,
    .cargo/config.toml, else <workspace>/target)."""
    try:
        out = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
        return Path(json.loads(out)["target_directory"])
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError) as e:
        fallback = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target").resolve()
        note(f"cargo metadata failed ({e}); using {fallback}")
        return fallback


def download(url: str, sha256: str, dest: Path) -> None:
    """Downloads `url` to `dest` through a temporary file in the same folder, moved into place
    only when its sha256 is `sha256`. Raises ValueError on a mismatch, OSError/URLError when the
    download fails."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
        store(response, sha256, dest)


def store(source, sha256: str, dest: Path) -> None:
    """Copies the readable `source` to `dest` through a temporary file in the same folder, moved
    into place only when its sha256 is `sha256` (ValueError otherwise)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: source.read(1 << 16), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ValueError(f"sha256 {digest.hexdigest()}, expected {sha256}")
        tmp.chmod(0o644)  # mkstemp made it private
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", type=Path, help="the cache folder (default: <cargo target dir>/openapi-specs)")
    args = ap.parse_args()

    explicit = os.environ.get("BRIDGE_SPECS_DIR")
    if explicit:
        missing = [name for name in SPECS if not (Path(explicit) / name).is_file()]
        if missing:
            note(f"BRIDGE_SPECS_DIR={explicit} lacks {', '.join(missing)}: the fidelity tests will fail")
        else:
            note(f"BRIDGE_SPECS_DIR={explicit} holds the files; nothing to fetch")
        return 0

    wanted = dict(SPECS)
    cache = args.dest or target_dir() / "openapi-specs"
    for name, (url, sha256) in wanted.items():
        dest = cache / name
        if dest.is_file():
            if sha256_of(dest) == sha256:
                print(f"fetch-specs: {dest} ok (sha256 checked)")
                continue
            note(f"{dest} has another sha256: removed, downloading it again")
            dest.unlink()
        try:
            download(url, sha256, dest)
        except ValueError as e:
            note(f"{url}: {e}; not used (the fidelity tests that need {name} will be skipped)")
            continue
        except urllib.error.HTTPError as e:
            note(f"{url}: HTTP {e.code}; not downloaded (the fidelity tests that need {name} will be skipped)")
            continue
        except (urllib.error.URLError, socket.timeout, ConnectionError, http.client.HTTPException) as e:
            # Offline (or the host is unreachable): the other file would fail the same way.
            reason = getattr(e, "reason", e)
            note(
                f"cannot download {url} ({reason}): offline? The fidelity tests that need the files will be "
                f"skipped. To run them, put {', '.join(wanted)} in {cache} (or in a folder named by "
                "BRIDGE_SPECS_DIR) and run `make specs` again to check them."
            )
            return 0
        except OSError as e:
            note(f"cannot write {dest}: {e}")
            return 0
        print(f"fetch-specs: {dest} downloaded (sha256 checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
