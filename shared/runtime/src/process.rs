//! What every binary does first, before building anything.

/// Sets the process up: its heap on ordinary pages (see [`no_transparent_huge_pages`]), then
/// tracing ([`crate::telemetry::init`]). Call it first in `main`.
pub fn init() {
    no_transparent_huge_pages();
    crate::telemetry::init();
}

/// Sets the `bridge` command up: as [`init`], with its logs on stderr
/// ([`crate::telemetry::init_cli`]) so that its results alone go to stdout.
pub fn init_cli(logs: crate::telemetry::CliLogs) {
    no_transparent_huge_pages();
    crate::telemetry::init_cli(logs);
}

/// Keeps the kernel from backing this process's memory with 2 MiB transparent huge pages.
///
/// Where `/sys/kernel/mm/transparent_hugepage/enabled` is `always` (many distributions), every
/// aligned region mimalloc reserves is filled in 2 MiB pages as soon as it is touched, so the
/// resident set grows in 2 MiB steps that a few live objects keep resident: `bridge serve` peaked
/// at 67.5 MiB in the escalation benchmark with them and at 29.2 MiB without
/// (docs/BENCHMARKS.md). The flag is per process and only costs the TLB savings that huge pages
/// would bring, which this I/O-bound program does not need. Where the call is refused (an old
/// kernel, a sandbox), the process runs as before.
pub fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    let _refused = rustix::thread::disable_transparent_huge_pages(true);
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn the_process_opts_out_of_transparent_huge_pages() {
        super::no_transparent_huge_pages();
        assert!(rustix::thread::transparent_huge_pages_are_disabled().unwrap());
    }
}
