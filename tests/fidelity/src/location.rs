//! Where the official spec files are found, and whether a test without them is skipped.
//!
//! The files are never committed to this repository (only their URLs and sha256, in
//! `scripts/fetch-specs.py`). A vendor's file is looked for, in order:
//! 1. in `$BRIDGE_SPECS_DIR` when it is set, and then only there: a folder named explicitly
//!    that lacks the file is an error, never a skip;
//! 2. in `<cargo target dir>/openapi-specs/`, the cache that `make specs` (part of `make test`)
//!    fills from the vendors' public URLs when the network allows.
//!
//! A test that needs a spec found nowhere is skipped ([`crate::Spec::load_or_skip`]) with a line
//! on stderr saying how to get it, unless `BRIDGE_REQUIRE_SPECS=1` (CI sets it), where it fails.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bridge_sim::common::Vendor;

use crate::{Error, vendor_slug};

/// Environment variable naming the directory that holds the spec files (then the only place
/// looked at).
pub const SPECS_DIR_ENV: &str = "BRIDGE_SPECS_DIR";

/// Environment variable: `1` turns a spec found nowhere into a failure instead of a skip.
pub const REQUIRE_SPECS_ENV: &str = "BRIDGE_REQUIRE_SPECS";

/// The cache folder under cargo's target directory (filled by `scripts/fetch-specs.py`).
pub const SPECS_CACHE_DIR: &str = "openapi-specs";

/// How to get the files, for error and skip messages.
pub(crate) const HOW_TO_GET: &str = "run `make specs` (or `python3 scripts/fetch-specs.py`) to download \
     the pinned files into <cargo target dir>/openapi-specs, or set BRIDGE_SPECS_DIR to a folder holding \
     intercom-openapi.yaml and zendesk-openapi.yaml";

/// The file name of a vendor's spec: `intercom-openapi.yaml`, `zendesk-openapi.yaml`.
pub fn spec_file_name(vendor: Vendor) -> String {
    format!("{}-openapi.yaml", vendor_slug(vendor))
}

/// The spec file of `vendor`: `Ok(None)` when it is in none of the default places (see the
/// module documentation); an error when `BRIDGE_SPECS_DIR` is set but lacks the file.
pub fn find_spec(vendor: Vendor) -> Result<Option<PathBuf>, Error> {
    let explicit = std::env::var_os(SPECS_DIR_ENV).filter(|dir| !dir.is_empty()).map(PathBuf::from);
    find_in(vendor, explicit.as_deref(), &default_dirs())
}

/// The places looked at when `BRIDGE_SPECS_DIR` is not set: the cache under cargo's target
/// directory. Nothing outside the checkout is read.
pub fn default_dirs() -> Vec<PathBuf> {
    cache_dir().into_iter().collect()
}

/// Whether `BRIDGE_REQUIRE_SPECS=1`.
pub fn specs_required() -> bool {
    std::env::var_os(REQUIRE_SPECS_ENV).is_some_and(|value| value == "1")
}

/// The error for a spec found nowhere: names every path tried and how to get the file.
pub(crate) fn not_found(vendor: Vendor) -> Error {
    let name = spec_file_name(vendor);
    Error::NotFound { vendor, searched: default_dirs().iter().map(|dir| dir.join(&name)).collect() }
}

/// Prints `skipped: <test>: …` for a test without the spec of `vendor`: the first time for a
/// vendor, with every path tried and how to get the file; after that, briefly. Written to the
/// stderr handle, not with `eprintln!`, which libtest captures (and shows only for failed tests).
pub(crate) fn report_skip(vendor: Vendor) {
    // Per vendor: whether the full message was printed. Held while printing, so the full
    // message comes first.
    static EXPLAINED: Mutex<[bool; 2]> = Mutex::new([false; 2]);
    let mut explained = EXPLAINED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let slot = match vendor {
        Vendor::Intercom => 0,
        Vendor::Zendesk => 1,
    };
    // libtest names each test's thread after the test.
    let thread = std::thread::current();
    let test = thread.name().filter(|name| *name != "main").map(|name| format!("{name}: ")).unwrap_or_default();
    let line = if explained[slot] {
        format!("skipped: {test}official {vendor:?} OpenAPI spec not found (see the first such line)\n")
    } else {
        explained[slot] = true;
        format!("skipped: {test}{} ({REQUIRE_SPECS_ENV}=1 makes this a failure)\n", not_found(vendor))
    };
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// [`find_spec`] with its inputs made explicit: `explicit` is `BRIDGE_SPECS_DIR`, `defaults` the
/// folders tried otherwise.
fn find_in(vendor: Vendor, explicit: Option<&Path>, defaults: &[PathBuf]) -> Result<Option<PathBuf>, Error> {
    let name = spec_file_name(vendor);
    if let Some(dir) = explicit {
        let path = dir.join(&name);
        return match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => Ok(Some(path)),
            Ok(_) => Err(Error::NotInSpecsDir { vendor, path, source: std::io::Error::other("not a file") }),
            Err(source) => Err(Error::NotInSpecsDir { vendor, path, source }),
        };
    }
    Ok(defaults.iter().map(|dir| dir.join(&name)).find(|path| path.is_file()))
}

/// The cache folder under cargo's target directory, told from the running executable, which
/// cargo put at `<target>/[<triple>/]<profile>/[deps/]<name>` (so `CARGO_TARGET_DIR` is
/// honoured): `openapi-specs` in the nearest of those ancestors that has one, else where a test
/// executable (`<target>/<profile>/deps/<name>`) expects it.
fn cache_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let existing = exe.ancestors().skip(1).take(4).map(|dir| dir.join(SPECS_CACHE_DIR)).find(|dir| dir.is_dir());
    existing.or_else(|| exe.ancestors().nth(3).map(|target| target.join(SPECS_CACHE_DIR)))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh folder under the system temp dir, removed on drop.
    struct Folder(PathBuf);

    impl Folder {
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn folder_with(files: &[&str]) -> Folder {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("bridge-fidelity-location-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for file in files {
            std::fs::write(dir.join(file), "openapi: 3.0.3\n").unwrap();
        }
        Folder(dir)
    }

    #[test]
    fn an_explicit_folder_without_the_file_is_an_error_naming_it() {
        let empty = folder_with(&[]);
        let full = folder_with(&["zendesk-openapi.yaml"]);
        // Even when a default place has the file: the explicit folder is the only one looked at.
        let err = find_in(Vendor::Zendesk, Some(empty.path()), &[full.path().to_path_buf()]).unwrap_err();
        assert!(matches!(err, Error::NotInSpecsDir { .. }), "{err}");
        assert!(err.to_string().contains(&empty.path().join("zendesk-openapi.yaml").display().to_string()), "{err}");
        assert!(err.to_string().contains(SPECS_DIR_ENV), "{err}");
    }

    #[test]
    fn an_explicit_folder_with_the_file_is_used() {
        let full = folder_with(&["intercom-openapi.yaml"]);
        let found = find_in(Vendor::Intercom, Some(full.path()), &[]).unwrap();
        assert_eq!(found, Some(full.path().join("intercom-openapi.yaml")));
    }

    #[test]
    fn default_places_are_tried_in_order_and_none_is_not_an_error() {
        let first = folder_with(&["intercom-openapi.yaml"]);
        let second = folder_with(&["intercom-openapi.yaml", "zendesk-openapi.yaml"]);
        let defaults = [first.path().to_path_buf(), second.path().to_path_buf()];
        assert_eq!(
            find_in(Vendor::Intercom, None, &defaults).unwrap(),
            Some(first.path().join("intercom-openapi.yaml"))
        );
        assert_eq!(
            find_in(Vendor::Zendesk, None, &defaults).unwrap(),
            Some(second.path().join("zendesk-openapi.yaml"))
        );
        let empty = folder_with(&[]);
        assert_eq!(find_in(Vendor::Zendesk, None, &[empty.path().to_path_buf()]).unwrap(), None);
    }

    #[test]
    fn the_cache_under_the_target_directory_is_a_default_place() {
        // This test runs from <target>/debug/deps, so the target directory can be told.
        let dirs = default_dirs();
        assert_eq!(dirs.len(), 1, "{dirs:?}");
        assert!(dirs[0].ends_with(SPECS_CACHE_DIR), "{dirs:?}");
        assert!(dirs.iter().all(|dir| !dir.to_string_lossy().contains("..")), "nothing outside the checkout: {dirs:?}");
    }

    #[test]
    fn not_found_names_every_place_and_how_to_get_the_file() {
        let message = not_found(Vendor::Zendesk).to_string();
        for dir in default_dirs() {
            assert!(message.contains(&dir.join("zendesk-openapi.yaml").display().to_string()), "{message}");
        }
        assert!(message.contains("make specs"), "{message}");
    }
}
