//! Where the rehearsal's binaries are and how they are built: the cargo profile
//! ([`DEFAULT_PROFILE`]), its target folder, and the build itself.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::{BINARIES, workspace_root};

/// The cargo profile the rehearsal runs when `BRIDGE_REHEARSAL_PROFILE` names none: `rehearse`
/// (Cargo.toml), the release build's semantics (`panic = "abort"`, no debug assertions, no
/// overflow checks) without its optimisation cost.
pub const DEFAULT_PROFILE: &str = "rehearse";

/// The cargo profile of the functions the rehearsal runs (`BRIDGE_REHEARSAL_PROFILE`, else
/// [`DEFAULT_PROFILE`]).
pub fn profile() -> String {
    std::env::var("BRIDGE_REHEARSAL_PROFILE").ok().filter(|p| !p.trim().is_empty()).unwrap_or(DEFAULT_PROFILE.into())
}

/// The folder of the target directory cargo builds `profile` into (`dev` and `test` go to
/// `debug`, `bench` to `release`, every other profile to its own name).
pub fn profile_folder(profile: &str) -> &str {
    match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    }
}

/// Where `profile`'s binaries are, from this test executable's path
/// (`<target>/<its profile>/deps/<test>` -> `<target>/<profile folder>`).
pub fn binaries_beside(test_exe: &Path, profile: &str) -> Option<PathBuf> {
    let target = test_exe.parent()?.parent()?.parent()?;
    Some(target.join(profile_folder(profile)))
}

/// Where cargo put the host binaries: `BRIDGE_REHEARSAL_BIN_DIR`, else the [`profile`]'s folder of
/// this test executable's target directory (`<target>/rehearse`), so `CARGO_TARGET_DIR` is
/// honoured.
pub fn binary_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("BRIDGE_REHEARSAL_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().context("locating the test executable")?;
    binaries_beside(&exe, &profile()).context("the test executable is not under <target>/<profile>/deps")
}

/// Builds the binaries the rehearsal runs (`cargo build --profile <profile> -p ...`), unless
/// `BRIDGE_REHEARSAL_PREBUILT` says `make rehearse` already did.
pub(crate) fn build_binaries() -> anyhow::Result<()> {
    if std::env::var_os("BRIDGE_REHEARSAL_PREBUILT").is_some() {
        return Ok(());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.current_dir(workspace_root()).args(["build", "--quiet", "--profile", &profile()]);
    for b in BINARIES {
        cmd.args(["-p", if b == "bridge" { "bridge-cli" } else { b }]);
    }
    let status = cmd.status().context("running cargo build for the rehearsal's binaries")?;
    if !status.success() {
        bail!("cargo build of the functions failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_binaries_are_found_in_the_profile_folder_of_the_test_target_directory() {
        let exe = Path::new("/ci/target-dir/debug/deps/rehearsal-0123abcd");
        assert_eq!(binaries_beside(exe, DEFAULT_PROFILE).unwrap(), Path::new("/ci/target-dir/rehearse"));
        assert_eq!(binaries_beside(exe, "dev").unwrap(), Path::new("/ci/target-dir/debug"));
        assert_eq!(binaries_beside(exe, "release").unwrap(), Path::new("/ci/target-dir/release"));
        let cross = Path::new("/t/x86_64-unknown-linux-gnu/debug/deps/rehearsal-0123abcd");
        assert_eq!(binaries_beside(cross, "rehearse").unwrap(), Path::new("/t/x86_64-unknown-linux-gnu/rehearse"));
        assert_eq!(DEFAULT_PROFILE, "rehearse", "the profile Cargo.toml defines for the rehearsal");
    }

    #[test]
    fn the_rehearse_profile_keeps_the_release_semantics() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
        let section = manifest.split("[profile.rehearse]").nth(1).unwrap().split("\n[").next().unwrap();
        assert!(section.contains("inherits = \"release\""), "{section}");
        for kept in ["panic", "debug-assertions", "overflow-checks", "strip"] {
            assert!(!section.contains(kept), "the rehearse profile overrides release's {kept}: {section}");
        }
        let release = manifest.split("[profile.release]").nth(1).unwrap().split("\n[").next().unwrap();
        assert!(release.contains("panic = \"abort\""), "{release}");
    }
}
