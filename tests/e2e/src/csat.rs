//! Job 7 helpers for the end-to-end test and the demo: a known history seeded in the past into
//! both simulators, and a headless Chromium screenshot with console-error capture.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use bridge_sim::intercom::{ConversationSeed, IntercomSim, RatingSeed};
use bridge_sim::zendesk::{UserInput, ZendeskSim};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

fn err(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// Seeds Intercom conversations over three days from `d1` (Unix seconds of day 1, 00:00 UTC).
/// Times are exact (seeded parts).
///
/// | conv | created     | first reply | closed      | rating            |
/// |------|-------------|-------------|-------------|-------------------|
/// | C1   | D1 08:00    | +30 min     | D1 10:00    | 5 at D1 11:00, remark "Great help!" |
/// | C2   | D1 09:00    | +60 min     | D2 09:00    | 2 at D2 10:00     |
/// | C3   | D2 12:00    | +10 min     | D2 13:00    | 4 at D3 08:00     |
/// | C4   | D3 07:00    | -           | open        | -                 |
/// | C5   | D1-2d 12:00 | -           | D1 12:00    | 5 at D1-1d (before the period) |
pub fn seed_intercom(
    sim: &IntercomSim,
    admin: &str,
    team: &str,
    customer: &str,
    d1: i64,
) -> anyhow::Result<Vec<String>> {
    let conv = |created: i64, reply: Option<i64>, closed: Option<i64>, rating: Option<(u8, Option<&str>, i64)>| {
        sim.seed_conversation(ConversationSeed {
            contact_id: customer.into(),
            body: "help please".into(),
            created_at: Some(created),
            admin_id: Some(admin.into()),
            team_assignee_id: Some(team.into()),
            admin_reply_at: reply,
            closed_at: closed,
            rating: rating.map(|(rating, remark, rated_at)| RatingSeed {
                rating,
                remark: remark.map(str::to_string),
                rated_at,
            }),
            ..ConversationSeed::default()
        })
        .map_err(err)
    };
    Ok(vec![
        conv(
            d1 + 8 * HOUR,
            Some(d1 + 8 * HOUR + 1800),
            Some(d1 + 10 * HOUR),
            Some((5, Some("Great help!"), d1 + 11 * HOUR)),
        )?,
        conv(d1 + 9 * HOUR, Some(d1 + 10 * HOUR), Some(d1 + DAY + 9 * HOUR), Some((2, None, d1 + DAY + 10 * HOUR)))?,
        conv(
            d1 + DAY + 12 * HOUR,
            Some(d1 + DAY + 12 * HOUR + 600),
            Some(d1 + DAY + 13 * HOUR),
            Some((4, None, d1 + 2 * DAY + 8 * HOUR)),
        )?,
        conv(d1 + 2 * DAY + 7 * HOUR, None, None, None)?,
        conv(d1 - 2 * DAY + 12 * HOUR, None, Some(d1 + 12 * HOUR), Some((5, None, d1 - DAY)))?,
    ])
}

/// Moves the Zendesk simulator's clock to `ts` (actions then happen "at" that time).
pub fn zendesk_at(sim: &ZendeskSim, ts: i64) {
    sim.with_state(|s| s.clock_offset = ts - chrono::Utc::now().timestamp());
}

/// Seeds Zendesk tickets over three days from `d1`, moving the simulator's clock; restores it.
///
/// | ticket | created  | first reply | solved   | rating                 |
/// |--------|----------|-------------|----------|------------------------|
/// | T1     | D1 09:00 | +20 min     | D1 11:00 | good at D1 12:00, comment "Thanks" |
/// | T2     | D2 08:00 | +60 min     | D3 08:00 | offered at D3 09:00 (unanswered)   |
/// | T3     | D2 10:00 | +30 min     | D2 14:00 | bad at D2 15:00        |
/// | T4     | D2 11:00 | -           | merged into T3 at D2 11:30 (closed_by_merge) |
/// | T5     | D3 10:00 | -           | open     | unoffered at D3 10:30  |
pub fn seed_zendesk(sim: &ZendeskSim, agent: u64, d1: i64) -> anyhow::Result<Vec<u64>> {
    let requester = sim
        .add_user(UserInput {
            name: Some("Rita Requester".into()),
            email: Some(format!("rita-{}@example.com", uuid::Uuid::new_v4().simple())),
            ..UserInput::default()
        })
        .map_err(err)?;
    let submit = |ts: i64, subject: &str| -> anyhow::Result<u64> {
        zendesk_at(sim, ts);
        sim.submit_ticket(requester, subject, "It does not work", "web").map_err(err)
    };
    let reply = |ts: i64, t: u64| -> anyhow::Result<()> {
        zendesk_at(sim, ts);
        sim.comment(agent, t, "Looking into it", true).map_err(err)
    };
    let solve = |ts: i64, t: u64| -> anyhow::Result<()> {
        zendesk_at(sim, ts);
        sim.set_status(agent, t, "solved").map_err(err)
    };
    let rate = |ts: i64, t: u64, score: &str, comment: Option<&str>| -> anyhow::Result<()> {
        zendesk_at(sim, ts);
        sim.rate(t, score, comment).map(|_| ()).map_err(err)
    };
    let d2 = d1 + DAY;
    let d3 = d1 + 2 * DAY;
    let t1 = submit(d1 + 9 * HOUR, "T1")?;
    reply(d1 + 9 * HOUR + 1200, t1)?;
    solve(d1 + 11 * HOUR, t1)?;
    rate(d1 + 12 * HOUR, t1, "good", Some("Thanks"))?;
    let t2 = submit(d2 + 8 * HOUR, "T2")?;
    reply(d2 + 9 * HOUR, t2)?;
    let t3 = submit(d2 + 10 * HOUR, "T3")?;
    reply(d2 + 10 * HOUR + 1800, t3)?;
    let t4 = submit(d2 + 11 * HOUR, "T4 (duplicate of T3)")?;
    zendesk_at(sim, d2 + 11 * HOUR + 1800);
    sim.merge(agent, t3, &[t4]).map_err(err)?;
    solve(d2 + 14 * HOUR, t3)?;
    rate(d2 + 15 * HOUR, t3, "bad", None)?;
    solve(d3 + 8 * HOUR, t2)?;
    rate(d3 + 9 * HOUR, t2, "offered", None)?;
    let t5 = submit(d3 + 10 * HOUR, "T5")?;
    rate(d3 + 10 * HOUR + 1800, t5, "unoffered", None)?;
    sim.with_state(|s| s.clock_offset = 0);
    Ok(vec![t1, t2, t3, t4, t5])
}

/// Environment variable naming the headless browser: a path, or a command looked up on PATH.
pub const BROWSER_ENV: &str = "CHROME";

/// Environment variable: `1` makes a missing browser fail the dashboard test instead of
/// skipping it (CI sets it).
pub const REQUIRE_BROWSER_ENV: &str = "BRIDGE_REQUIRE_BROWSER";

/// Commands looked up on PATH, in order, when `CHROME` is not set.
pub const BROWSER_COMMANDS: &[&str] = &["chromium", "chromium-browser", "google-chrome"];

/// How to get a browser, for skip and error messages.
pub const INSTALL_BROWSER_HINT: &str = "install Chromium (Debian: `sudo apt-get install chromium`; macOS: \
     `brew install --cask chromium`) or Google Chrome, or set CHROME=/path/to/chrome";

/// The headless browser: `$CHROME` when set (a path, or a command on PATH; an error when it
/// names nothing runnable), else the first of [`BROWSER_COMMANDS`] on PATH, else `Ok(None)`.
pub fn find_browser() -> anyhow::Result<Option<PathBuf>> {
    browser_in(std::env::var_os(BROWSER_ENV), std::env::var_os("PATH"))
}

/// [`find_browser`] for the given values of `CHROME` and `PATH`.
fn browser_in(chrome: Option<OsString>, path: Option<OsString>) -> anyhow::Result<Option<PathBuf>> {
    if let Some(named) = chrome.filter(|v| !v.is_empty()) {
        let named = PathBuf::from(named);
        // A bare name is a command on PATH; anything with a directory part is a path.
        let found = match named.components().count() {
            1 if named.is_relative() => on_path(&named, path.as_deref()),
            _ => named.is_file().then(|| named.clone()),
        };
        return match found {
            Some(path) => Ok(Some(path)),
            None => anyhow::bail!("{BROWSER_ENV}={} is not a file nor a command on PATH", named.display()),
        };
    }
    Ok(BROWSER_COMMANDS.iter().find_map(|name| on_path(Path::new(name), path.as_deref())))
}

/// Whether `BRIDGE_REQUIRE_BROWSER=1`.
pub fn browser_required() -> bool {
    std::env::var_os(REQUIRE_BROWSER_ENV).is_some_and(|v| v == "1")
}

/// For the dashboard test: the browser; `Ok(None)` when there is none and
/// `BRIDGE_REQUIRE_BROWSER` is not `1` (the caller skips, see [`skip_without_browser`]); an
/// error when it is required, or when `CHROME` names nothing runnable.
pub fn browser_for_test() -> anyhow::Result<Option<PathBuf>> {
    required_or_skipped(find_browser()?, browser_required())
}

/// The browser found, or the skip (`Ok(None)`), or, when one is `required`, the failure.
fn required_or_skipped(found: Option<PathBuf>, required: bool) -> anyhow::Result<Option<PathBuf>> {
    match found {
        Some(path) => Ok(Some(path)),
        None if required => anyhow::bail!(
            "no headless browser ({REQUIRE_BROWSER_ENV}=1): none of {} on PATH and {BROWSER_ENV} unset; {INSTALL_BROWSER_HINT}",
            BROWSER_COMMANDS.join(", ")
        ),
        None => Ok(None),
    }
}

/// Prints the line that says the browser part of `test` is skipped, and how to install one.
/// Written to the stderr handle, not with `eprintln!`, which libtest captures (and shows only
/// for failed tests).
pub fn skip_without_browser(test: &str) {
    let line = format!(
        "skipped: {test}: no headless browser (none of {} on PATH, {BROWSER_ENV} unset); {INSTALL_BROWSER_HINT} \
         ({REQUIRE_BROWSER_ENV}=1 makes this a failure)\n",
        BROWSER_COMMANDS.join(", ")
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

/// `name` in the first directory of `path` (a `PATH` value) holding it as a file.
fn on_path(name: &Path, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod browser_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A folder holding empty files named `names`, and its path as a `PATH` value.
    fn bin_dir(names: &[&str]) -> (tempfile::TempDir, OsString) {
        let dir = tempfile::tempdir().unwrap();
        for name in names {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let path = dir.path().as_os_str().to_owned();
        (dir, path)
    }

    #[test]
    fn the_first_known_command_on_path_is_found_and_chrome_overrides_it() {
        let (dir, path) = bin_dir(&["chromium-browser", "google-chrome"]);
        let found = browser_in(None, Some(path.clone())).unwrap().unwrap();
        assert_eq!(found, dir.path().join("chromium-browser"), "chromium, then chromium-browser, then google-chrome");
        let named = browser_in(Some("google-chrome".into()), Some(path.clone())).unwrap().unwrap();
        assert_eq!(named, dir.path().join("google-chrome"), "CHROME as a command on PATH");
        let by_path = browser_in(Some(dir.path().join("google-chrome").into()), None).unwrap().unwrap();
        assert_eq!(by_path, dir.path().join("google-chrome"), "CHROME as a path");
    }

    #[test]
    fn a_chrome_that_names_nothing_is_an_error_naming_it() {
        let (_dir, path) = bin_dir(&["chromium"]);
        let err = browser_in(Some("no-such-browser".into()), Some(path)).unwrap_err().to_string();
        assert!(err.contains("CHROME=no-such-browser"), "{err}");
    }

    #[test]
    fn without_a_browser_the_test_is_skipped_unless_one_is_required() {
        let (_dir, path) = bin_dir(&["firefox"]);
        let found = browser_in(None, Some(path)).unwrap();
        assert_eq!(found, None, "no known command on PATH");
        assert_eq!(required_or_skipped(None, false).unwrap(), None, "skipped");
        let err = required_or_skipped(None, true).unwrap_err().to_string();
        assert!(err.contains("BRIDGE_REQUIRE_BROWSER=1") && err.contains("chromium"), "{err}");
    }
}

/// What a headless Chromium run produced.
#[derive(Debug)]
pub struct Screenshot {
    /// The PNG.
    pub png: PathBuf,
    /// Console errors, uncaught exceptions and refused loads seen in Chromium's log.
    pub console_errors: Vec<String>,
}

/// Loads `html` in headless Chromium (`chromium`, from [`find_browser`]), saves a screenshot to
/// `png` and collects console errors (from `--enable-logging=stderr --v=0`: `CONSOLE` lines,
/// `Uncaught`, CSP refusals, failed loads).
pub fn screenshot(chromium: &Path, html: &Path, png: &Path) -> anyhow::Result<Screenshot> {
    let profile = tempfile::tempdir()?;
    let html = html.canonicalize().with_context(|| format!("{}", html.display()))?;
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1500",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .with_context(|| format!("running {}", chromium.display()))?;
    let log = String::from_utf8_lossy(&output.stderr);
    let console_errors = log
        .lines()
        .filter(|l| {
            l.contains(":CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Refused to")
                || l.contains("net::ERR_")
                || l.contains("Failed to load resource")
        })
        .map(str::to_string)
        .collect();
    anyhow::ensure!(output.status.success(), "chromium failed ({}): {log}", output.status);
    Ok(Screenshot { png: png.to_path_buf(), console_errors })
}

/// The demo's scene: seeds a few days of rated history into both simulators (webhooks off, so
/// the other jobs stay out of it), then runs `bridge report csat` for the last 14 days, which
/// prints the summary table and writes `<work>/dashboard.html`.
pub fn demo_scene(
    intercom: &IntercomSim,
    zendesk: &ZendeskSim,
    admin: &str,
    customer: &str,
    bridge_bin: &str,
    env: &[(&str, String)],
    work: &Path,
) -> anyhow::Result<PathBuf> {
    intercom.set_webhook_target(None);
    zendesk.set_webhook_target(None);
    let today = chrono::Utc::now().date_naive();
    let team = intercom.seed_team("Support", &[admin.to_string()]);
    let agent = zendesk.add_agent("Zoe Zendesk", "zoe.reports@example.com").map_err(err)?;
    for days_ago in [12, 8, 4] {
        let d1 = (today - chrono::Duration::days(days_ago)).and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
        let d1 = d1.context("date out of range")?;
        seed_intercom(intercom, admin, &team, customer, d1)?;
        seed_zendesk(zendesk, agent, d1)?;
    }
    let html = work.join("dashboard.html");
    let from = today - chrono::Duration::days(13);
    let status = Command::new(bridge_bin)
        .args(["report", "csat", "--from", &from.to_string(), "--to", &today.to_string(), "--html"])
        .arg(&html)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .status()
        .with_context(|| format!("running {bridge_bin} report csat"))?;
    anyhow::ensure!(status.success(), "bridge report csat failed");
    Ok(html)
}
