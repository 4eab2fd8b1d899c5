"""Tests of scripts/module_cycles.py on small synthetic workspaces (`make module-cycles` runs them).

Usage: python3 scripts/test_module_cycles.py
"""

import io
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path

import module_cycles


def workspace(root: Path, crates: dict[str, dict[str, str]], members: str = '"crates/*"') -> Path:
    """Writes a workspace with `crates` (name -> {path under src: text}) under root/crates."""
    (root / "Cargo.toml").write_text(f"[workspace]\nmembers = [{members}]\n", encoding="utf-8")
    for name, files in crates.items():
        folder = root / "crates" / name
        (folder / "src").mkdir(parents=True)
        (folder / "Cargo.toml").write_text(f'[package]\nname = "{name}"\n', encoding="utf-8")
        for path, text in files.items():
            (folder / "src" / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / "src" / path).write_text(text, encoding="utf-8")
    return root


LIB = "pub mod a;\npub mod b;\npub mod c;\n"


class ModuleCyclesTest(unittest.TestCase):
    def run_on(self, crates: dict[str, dict[str, str]], members: str = '"crates/*"') -> tuple[int, str]:
        with tempfile.TemporaryDirectory() as tmp:
            root = workspace(Path(tmp).resolve(), crates, members)
            out = io.StringIO()
            with redirect_stdout(out):
                status = module_cycles.main(["--root", str(root)])
            return status, out.getvalue()

    def test_a_cycle_is_reported_with_its_files_and_lines(self):
        status, out = self.run_on(
            {
                "one": {
                    "lib.rs": LIB,
                    "a.rs": "//! A.\n\nuse crate::b::B;\n",
                    "b.rs": "pub struct B;\n\npub fn f() -> crate::c::C {\n    crate::c::make()\n}\n",
                    "c.rs": "mod inner;\n",
                    "c/inner.rs": "use crate::{a, b::B};\n",
                }
            }
        )
        self.assertEqual(status, 1, out)
        self.assertIn("one: a -> b -> c -> a\n", out)
        self.assertIn("    a -> b: crates/one/src/a.rs:3\n", out)
        self.assertIn("    b -> c: crates/one/src/b.rs:3,4\n", out)
        self.assertIn("    c -> a: crates/one/src/c/inner.rs:1\n", out)
        self.assertIn("one: b -> c -> b\n", out)
        self.assertIn("module_cycles: 2 cycle(s) in 1 crate(s)", out)

    def test_a_crate_without_cycles_passes(self):
        status, out = self.run_on(
            {
                "two": {
                    "lib.rs": LIB,
                    "a.rs": "use crate::{b::{self, B}, c};\n",
                    "b.rs": "use crate::c::C;\n// crate::a::A in a comment\n",
                    "c.rs": 'const DOC: &str = "crate::a and super::b";\nfn g<\'a>(x: &\'a str) -> char { \'"\' }\n',
                }
            }
        )
        self.assertEqual(status, 0, out)
        self.assertIn("module_cycles: no module cycles in 1 crate(s)", out)

    def test_a_back_edge_in_test_code_only_is_not_a_cycle(self):
        crate = {
            "lib.rs": LIB + "\n#[cfg(test)]\nmod tests;\n",
            "a.rs": "use crate::b::B;\n\n#[cfg(test)]\n#[allow(unused)]\nmod tests {\n    use crate::c;\n}\n",
            "b.rs": "pub struct B;\n\n#[cfg(test)]\nmod tests;\n#[cfg(test)]\nmod helpers;\n",
            "b/tests.rs": "use crate::a;\n",
            "b/helpers.rs": "use crate::a;\n",
            "c.rs": "use crate::a;\n",
            "tests.rs": "use crate::{a, b, c};\n",
        }
        status, out = self.run_on({"three": crate})
        self.assertEqual(status, 0, out)
        # the same back edge in a module that is not test-only is a cycle
        crate["b.rs"] = "pub struct B;\n\nmod helpers;\n"
        status, out = self.run_on({"three": crate})
        self.assertEqual(status, 1, out)
        self.assertIn("    b -> a: crates/three/src/b/helpers.rs:1\n", out)

    def test_super_from_a_top_level_module_and_root_reexports_are_edges(self):
        status, out = self.run_on(
            {
                "four": {
                    "lib.rs": "pub mod a;\npub mod b;\npub mod c;\n\npub use c::Thing;\n",
                    "a.rs": "use super::b::B;\nmod inner {\n    use super::super::c;\n}\n",
                    "b.rs": "mod deep;\n",
                    "b/deep.rs": "use super::super::a;\nuse super::sibling;\n",
                    "c.rs": "pub struct Thing;\npub fn f() -> crate::Thing { crate::a::g() }\n",
                }
            }
        )
        self.assertEqual(status, 1, out)
        self.assertIn("four: a -> b -> a\n", out)
        self.assertIn("    b -> a: crates/four/src/b/deep.rs:1\n", out)
        self.assertIn("four: a -> c -> a\n", out)
        self.assertIn("    a -> c: crates/four/src/a.rs:3\n", out)
        self.assertNotIn("c -> c", out)

    def test_every_member_is_checked_and_cycles_name_their_crate(self):
        status, out = self.run_on(
            {
                "five": {"lib.rs": LIB, "a.rs": "use crate::b;\n", "b.rs": "use crate::a;\n", "c.rs": ""},
                "six": {"main.rs": "mod x;\nmod y;\n", "x.rs": "use crate::y;\n", "y.rs": "use crate::x;\n"},
                "seven": {"lib.rs": LIB, "a.rs": "use crate::b;\n", "b.rs": "", "c.rs": ""},
            },
            members='"crates/five", "crates/s*"',
        )
        self.assertEqual(status, 1, out)
        self.assertIn("five: a -> b -> a\n", out)
        self.assertIn("six: x -> y -> x\n", out)
        self.assertNotIn("seven:", out)
        self.assertIn("module_cycles: 2 cycle(s) in 3 crate(s)", out)


if __name__ == "__main__":
    unittest.main()
