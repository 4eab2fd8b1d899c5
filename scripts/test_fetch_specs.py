"""Tests of scripts/fetch-specs.py (`make specs`): where the pinned OpenAPI files come from.

Run by `make specs` (part of `make test`) before the script itself: `python3 scripts/test_fetch_specs.py`.
Each test pins the script to a temporary file (a file:// URL, which urllib fetches like any
other) or to an unreachable URL, with a temporary cache, so nothing leaves the machine.
"""

import contextlib
import hashlib
import importlib.util
import io
import os
import tempfile
import unittest
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
SPEC = importlib.util.spec_from_file_location("fetch_specs", HERE / "fetch-specs.py")
fetch_specs = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(fetch_specs)

CONTENT = b"openapi: 3.0.3\ninfo: {title: test}\n"
SHA = hashlib.sha256(CONTENT).hexdigest()
# A URL nothing answers: port 9 (discard) on loopback refuses the connection at once.
OFFLINE_URL = "http://127.0.0.1:9/spec.yaml"


class FetchSpecsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        root = Path(self.tmp.name)
        self.published = root / "published.yaml"
        self.cache = root / "cache"
        patches = [
            mock.patch.object(fetch_specs, "TIMEOUT_SECONDS", 2),
            mock.patch.dict(os.environ, {}, clear=False),
        ]
        for patch in patches:
            patch.start()
            self.addCleanup(patch.stop)
        os.environ.pop("BRIDGE_SPECS_DIR", None)

    def run_script(self, url):
        err = io.StringIO()
        with mock.patch.object(fetch_specs, "SPECS", {"one.yaml": (url, SHA)}), \
                contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()) as out, \
                mock.patch("sys.argv", ["fetch-specs.py", "--dest", str(self.cache)]):
            code = fetch_specs.main()
        return code, out.getvalue(), err.getvalue()

    def test_a_download_with_the_pinned_sha256_fills_the_cache(self):
        self.published.write_bytes(CONTENT)
        code, out, _ = self.run_script(self.published.as_uri())
        self.assertEqual(code, 0)
        self.assertEqual((self.cache / "one.yaml").read_bytes(), CONTENT)
        self.assertIn("downloaded", out)

    def test_a_download_with_another_sha256_is_not_kept(self):
        self.published.write_bytes(CONTENT + b"# altered\n")
        code, _, err = self.run_script(self.published.as_uri())
        self.assertEqual(code, 0, "a note, not a failure: the tests report the file as missing")
        self.assertFalse((self.cache / "one.yaml").exists(), "an altered file must never reach the cache")
        self.assertIn("expected " + SHA, err)
        self.assertEqual([p.name for p in self.cache.iterdir()], [], "no partial file is left behind")

    def test_a_cached_file_with_another_sha256_is_replaced(self):
        self.cache.mkdir()
        (self.cache / "one.yaml").write_bytes(b"stale")
        self.published.write_bytes(CONTENT)
        code, _, err = self.run_script(self.published.as_uri())
        self.assertEqual(code, 0)
        self.assertIn("another sha256", err)
        self.assertEqual((self.cache / "one.yaml").read_bytes(), CONTENT)

    def test_offline_the_note_says_how_to_get_the_files(self):
        code, _, err = self.run_script(OFFLINE_URL)
        self.assertEqual(code, 0)
        self.assertIn("cannot download", err)
        self.assertIn("BRIDGE_SPECS_DIR", err)
        self.assertFalse((self.cache / "one.yaml").exists())


if __name__ == "__main__":
    unittest.main()
