//! Job 7 end to end: a known history seeded into the Intercom and Zendesk simulators, the
//! `csat-report` handler (the function's code path) run against them, moto S3 and the Sheets
//! simulator; figures worked out by hand below; re-runs rewrite the same objects and range;
//! the dashboard renders in headless Chromium without console errors. Without a browser
//! (`CHROME`, else `chromium`, `chromium-browser` or `google-chrome` on PATH) that last part is
//! skipped with a message, but under `BRIDGE_REQUIRE_BROWSER=1`, where it fails. A warm
//! reporter takes a changed `reporting:` section at its next scheduled run.

use std::collections::BTreeMap;
use std::sync::Arc;

use bridge_aws::S3Objects;
use bridge_aws::sdk::s3;
use bridge_e2e::World;
use bridge_e2e::csat::{browser_for_test, screenshot, seed_intercom, seed_zendesk, skip_without_browser};
use bridge_reports::sheets::SheetsClient;
use bridge_reports::{Reporter, S3Sink, handle_scheduled};
use bridge_runtime::metrics::Counters;
use bridge_runtime::reload::{ConfigHolder, ConfigOrigin};
use bridge_runtime::reports::CsatReporter;
use bridge_runtime::settings::ConfigSource;
use bridge_sim::sheets::SheetsSim;
use chrono::{Duration, NaiveDate};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{Value, json};

const REPORTING: &str = r#"
reporting:
  periods: [daily, weekly]
  page_size: 2
  s3: { prefix: csat }
  sheets:
    spreadsheet_id: sheet-1
    ranges: { daily: CsatDaily, weekly: CsatWeekly, custom: CsatCustom }
  title: Acme support CSAT
"#;

async fn objects(s3: &s3::Client, bucket: &str) -> BTreeMap<String, Vec<u8>> {
    let list = s3.list_objects_v2().bucket(bucket).prefix("csat/").send().await.unwrap();
    let mut out = BTreeMap::new();
    for o in list.contents() {
        let key = o.key().unwrap().to_string();
        let body = s3.get_object().bucket(bucket).key(&key).send().await.unwrap().body.collect().await.unwrap();
        out.insert(key, body.into_bytes().to_vec());
    }
    out
}

fn csv_rows(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines.map(|l| header.iter().map(|h| h.to_string()).zip(l.split(',').map(str::to_string)).collect()).collect()
}

fn row<'a>(rows: &'a [BTreeMap<String, String>], scope: &str) -> &'a BTreeMap<String, String> {
    rows.iter().find(|r| r["scope"] == scope).unwrap()
}

fn sheet_row<'a>(values: &'a [Vec<Value>], date: &str, scope: &str) -> &'a [Value] {
    values.iter().find(|r| r[0] == json!(date) && r[1] == json!(scope)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn csat_report_end_to_end() {
    // Looked up first, so a required but missing browser fails at once.
    let browser = browser_for_test().unwrap_or_else(|e| panic!("{e:#}"));
    let mut world = World::start_with(|c| format!("{c}{REPORTING}")).await.unwrap();
    world.stop_bridge().await; // a scheduled job: no webhooks involved
    let today = chrono::Utc::now().date_naive();
    let d1: NaiveDate = today - Duration::days(5);
    let (d2, d3) = (d1 + Duration::days(1), d1 + Duration::days(2));
    let d1_ts = d1.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();

    let s = world.seeded.clone();
    let convs = seed_intercom(&world.intercom, &s.agent, &s.escalations_team, &s.customer, d1_ts).unwrap();
    let tickets = seed_zendesk(&world.zendesk, s.zendesk_agent, d1_ts).unwrap();

    let bucket = bridge_sim::moto::unique_name("reports");
    let s3 = S3Sink::new(S3Objects::new(&world.sdk), &bucket);
    s3.objects().client().create_bucket().bucket(&bucket).send().await.unwrap();
    let sheets = SheetsSim::start().await.unwrap();
    for name in ["CsatDaily", "CsatWeekly", "CsatCustom"] {
        sheets.add_named_range("sheet-1", name, 40, 11);
    }
    let reporter = Reporter {
        intercom: world.intercom_client().unwrap(),
        zendesk: world.zendesk_client().unwrap(),
        s3: Some(s3.clone()),
        sheets: Some(
            SheetsClient::new(&sheets.service_account_json().into(), &sheets.base_url().parse().unwrap()).unwrap(),
        ),
    };
    let config = world.config.reporting.clone().unwrap();

    let input = json!({"from": d1.to_string(), "to": d3.to_string()});
    let answer = handle_scheduled(&reporter, &config, input.clone(), today).await.unwrap();
    assert_eq!(answer["period"]["kind"], "custom");
    // Ratings in the period: Intercom C1, C2, C3 (C5's is before it); Zendesk T1, T3 and the
    // two unanswered surveys T2 (offered) and T5 (unoffered).
    assert_eq!(answer["ratings"], 7);

    // ---- S3: 3 days x (ratings, daily) x (csv, parquet) + the dashboard
    let first = objects(s3.objects().client(), &bucket).await;
    let mut expected_keys: Vec<String> = [d1, d2, d3]
        .iter()
        .flat_map(|d| {
            ["daily.csv", "daily.parquet", "ratings.csv", "ratings.parquet"].map(|f| format!("csat/date={d}/{f}"))
        })
        .collect();
    expected_keys.push(format!("csat/dashboard/custom/{d1}_{d3}.html"));
    expected_keys.sort();
    assert_eq!(first.keys().cloned().collect::<Vec<_>>(), expected_keys);

    // Day 1: C1 (5, positive) and T1 (good): 2 rated, 2 positive -> CSAT 1; response rate
    // (Zendesk) 1/1. Created: C1, C2, T1 = 3. Resolved: C1 (2 h), C5 (48 h), T1 (2 h) = 3,
    // median 120 min. First replies of the day's new items: 30, 60, 20 -> median 30 min.
    let day1 = csv_rows(&first[&format!("csat/date={d1}/daily.csv")]);
    assert_eq!(day1.len(), 3, "intercom, zendesk, combined");
    let c = row(&day1, "combined");
    assert_eq!((c["rated"].as_str(), c["positive"].as_str(), c["csat"].as_str()), ("2", "2", "1.0000"));
    assert_eq!((c["response_rate"].as_str(), c["created"].as_str(), c["resolved"].as_str()), ("1.0000", "3", "3"));
    assert_eq!((c["median_resolution_minutes"].as_str(), c["median_first_reply_minutes"].as_str()), ("120.0", "30.0"));
    // Intercom alone on day 1: resolved C1 (120 min) and C5 (2880 min) -> median 1500.
    let ic = row(&day1, "intercom");
    assert_eq!((ic["resolved"].as_str(), ic["median_resolution_minutes"].as_str()), ("2", "1500.0"));
    assert_eq!(ic["response_rate"], "", "Intercom reports no unanswered surveys");

    // Day 2: C2 (2, negative) and T3 (bad): CSAT 0. Created: C3, T2, T3 = 3 (T4 was merged
    // into T3: counted once). Resolved: C2 (24 h), C3 (1 h), T3 (4 h) = 3.
    let day2 = csv_rows(&first[&format!("csat/date={d2}/daily.csv")]);
    let c = row(&day2, "combined");
    assert_eq!((c["rated"].as_str(), c["positive"].as_str(), c["csat"].as_str()), ("2", "0", "0.0000"));
    assert_eq!((c["created"].as_str(), c["resolved"].as_str()), ("3", "3"));
    assert_eq!(row(&day2, "zendesk")["created"], "2");

    // Day 3: C3 (4, positive); Zendesk T2 offered + T5 unoffered: 0 of 2 surveys answered.
    // Created: C4, T5 = 2. Resolved: T2 (24 h) = 1.
    let day3 = csv_rows(&first[&format!("csat/date={d3}/daily.csv")]);
    let c = row(&day3, "combined");
    assert_eq!((c["rated"].as_str(), c["csat"].as_str(), c["unanswered"].as_str()), ("1", "1.0000", "2"));
    assert_eq!((c["response_rate"].as_str(), c["created"].as_str(), c["resolved"].as_str()), ("0.0000", "2", "1"));

    // Rating rows of day 1: C1 at 11:00, then T1 at 12:00; comment lengths, never the text.
    let ratings_csv = &first[&format!("csat/date={d1}/ratings.csv")];
    let r1 = csv_rows(ratings_csv);
    assert_eq!(r1.len(), 2);
    assert_eq!((r1[0]["source"].as_str(), r1[0]["record_id"].as_str()), ("intercom", convs[0].as_str()));
    assert_eq!((r1[0]["raw_score"].as_str(), r1[0]["score"].as_str()), ("5", "1.00"));
    assert_eq!((r1[0]["comment_length"].as_str(), r1[0]["team"].as_str()), ("11", s.escalations_team.as_str()));
    assert_eq!((r1[1]["source"].as_str(), r1[1]["record_id"].as_str()), ("zendesk", tickets[0].to_string().as_str()));
    assert_eq!((r1[1]["answer"].as_str(), r1[1]["comment_length"].as_str()), ("positive", "6"));
    let text = String::from_utf8_lossy(ratings_csv);
    assert!(!text.contains("Great help") && !text.contains("Thanks"), "comment text must not be exported");

    // Parquet mirrors the CSV.
    let pq =
        SerializedFileReader::new(bytes::Bytes::from(first[&format!("csat/date={d2}/daily.parquet")].clone())).unwrap();
    assert_eq!(pq.metadata().file_metadata().num_rows(), 3);
    let fields: Vec<String> =
        pq.metadata().file_metadata().schema().get_fields().iter().map(|f| f.name().to_string()).collect();
    assert_eq!(fields, bridge_domain::csat::DAILY_COLUMNS.map(String::from));
    let rows: Vec<String> = pq.get_row_iter(None).unwrap().map(|r| r.unwrap().to_string()).collect();
    assert!(rows.iter().any(|r| r.contains("scope: \"combined\"") && r.contains("created: 3")), "{rows:?}");
    let pq = SerializedFileReader::new(bytes::Bytes::from(first[&format!("csat/date={d3}/ratings.parquet")].clone()))
        .unwrap();
    assert_eq!(pq.metadata().file_metadata().num_rows(), 3, "C3 + T2 offered + T5 unoffered");

    // ---- Sheets: the custom range holds header + 3 days x 3 scopes + 3 totals.
    let values = sheets.values("sheet-1", "CsatCustom");
    assert_eq!(values.len(), 13);
    assert_eq!(values[0][0], json!("date"));
    // Totals: rated 3 Intercom + 2 Zendesk = 5, positive 2 + 1 = 3 -> CSAT 0.6; unanswered 2,
    // response rate 2/4 = 0.5; created 4 + 4 = 8; resolved 4 + 3 = 7; first replies
    // 10, 20, 30, 30, 60, 60 -> 30 min; resolutions 60, 120, 120, 240, 1440, 1440, 2880 -> 240.
    let total = sheet_row(&values, "total", "combined");
    assert_eq!(total[2..].to_vec(), [5.0, 3.0, 0.6, 2.0, 0.5, 8.0, 7.0, 30.0, 240.0].map(|v| json!(v)).to_vec());
    // Intercom: 2 of 3 positive; median resolution (120 + 1440) / 2 = 780.
    let ic_total = sheet_row(&values, "total", "intercom");
    assert_eq!((ic_total[4].as_f64().unwrap() * 3.0).round(), 2.0);
    assert_eq!(ic_total[10], json!(780.0));
    assert_eq!(ic_total[6], json!(""), "no Intercom response rate");
    let zd_total = sheet_row(&values, "total", "zendesk");
    assert_eq!(zd_total[2..].to_vec(), [2.0, 1.0, 0.5, 2.0, 0.5, 4.0, 3.0, 30.0, 240.0].map(|v| json!(v)).to_vec());

    // ---- Re-running the period rewrites the same objects and range; nothing is doubled.
    handle_scheduled(&reporter, &config, input, today).await.unwrap();
    let second = objects(s3.objects().client(), &bucket).await;
    assert_eq!(second, first, "same keys, same bytes");
    assert_eq!(sheets.values("sheet-1", "CsatCustom"), values);
    let writes = sheets.writes();
    assert_eq!(writes.len(), 2);
    assert!(writes.iter().all(|(_, range, rows)| range == "CsatCustom" && *rows == 13));

    // ---- The daily schedule for day 3 rewrites day 3's partition with the same figures and
    // writes the daily range (header + 3 scopes + 3 totals).
    let daily = handle_scheduled(&reporter, &config, json!({"period": "daily"}), d3 + Duration::days(1)).await.unwrap();
    assert_eq!(daily["period"]["from"], json!(d3));
    let third = objects(s3.objects().client(), &bucket).await;
    assert_eq!(third.len(), first.len() + 1, "only the daily dashboard is new");
    assert_eq!(third[&format!("csat/date={d3}/daily.csv")], first[&format!("csat/date={d3}/daily.csv")]);
    assert_eq!(sheets.values("sheet-1", "CsatDaily").len(), 7);
    assert_eq!(sheets.refused_tokens(), 0);

    // ---- The dashboard renders in headless Chromium without console errors.
    let Some(browser) = browser else {
        skip_without_browser("csat_report_end_to_end, its dashboard screenshot");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let html_path = dir.path().join("dashboard.html");
    let html = &first[&format!("csat/dashboard/custom/{d1}_{d3}.html")];
    std::fs::write(&html_path, html).unwrap();
    let shot = screenshot(&browser, &html_path, &dir.path().join("dashboard.png")).unwrap();
    assert!(shot.console_errors.is_empty(), "console errors: {:?}", shot.console_errors);
    let png = std::fs::read(&shot.png).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 20_000, "a blank page compresses to a few KB; got {} bytes", png.len());
    let text = String::from_utf8_lossy(html);
    assert!(text.contains("60.0%"), "combined CSAT card");
    // The detector is live: a page with an uncaught error is reported.
    let bad = dir.path().join("bad.html");
    std::fs::write(&bad, "<html><body><script>throw new Error('control')</script></body></html>").unwrap();
    let control = screenshot(&browser, &bad, &dir.path().join("bad.png")).unwrap();
    assert!(!control.console_errors.is_empty(), "the console-error check must see an uncaught error");
    if let Ok(dir) = std::env::var("CSAT_SCREENSHOT_DIR") {
        std::fs::copy(&shot.png, std::path::Path::new(&dir).join("csat-dashboard.png")).unwrap();
    }
}

/// A reporting section that changes between two runs: S3 prefix and dashboard title.
const REPORTING_BEFORE: &str = r#"
reporting:
  s3: { prefix: csat-before }
  title: Before the change
"#;

/// Every object key of the bucket.
async fn keys(s3: &s3::Client, bucket: &str) -> Vec<String> {
    let list = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    list.contents().iter().filter_map(|o| o.key()).map(str::to_string).collect()
}

/// The scheduled report takes its configuration from the same reloading holder as the workers
/// (`App::config`): a `reporting:` section changed in the file applies to the next scheduled run
/// of a warm `csat-report`, without a cold start.
#[tokio::test]
async fn a_changed_reporting_section_applies_to_the_next_scheduled_run() {
    let mut world = World::start_with(|c| format!("{c}{REPORTING_BEFORE}")).await.unwrap();
    world.stop_bridge().await; // a scheduled job: no webhooks involved
    let file = std::env::temp_dir().join(format!("{}-reporting.yaml", world.prefix));
    std::fs::write(&file, &world.config_text).unwrap();
    let origin = ConfigOrigin { source: ConfigSource::File(file.display().to_string()), sdk: world.sdk.clone() };
    let holder = Arc::new(ConfigHolder::new(world.config.clone(), Some(origin), std::time::Duration::ZERO));
    let bucket = bridge_sim::moto::unique_name("reports");
    let s3 = S3Sink::new(S3Objects::new(&world.sdk), &bucket);
    s3.objects().client().create_bucket().bucket(&bucket).send().await.unwrap();
    let reporter = Reporter {
        intercom: world.intercom_client().unwrap(),
        zendesk: world.zendesk_client().unwrap(),
        s3: Some(s3.clone()),
        sheets: None,
    };
    let reporter = CsatReporter::new(reporter, holder, Counters::default());
    let today = chrono::Utc::now().date_naive();
    let period = bridge_domain::csat::Period::previous(bridge_domain::csat::PeriodKind::Daily, today);
    let dashboard = |key: String| {
        let s3 = s3.clone();
        async move {
            let body = s3.objects().client().get_object().bucket(s3.bucket()).key(&key).send().await.unwrap().body;
            String::from_utf8(body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
        }
    };

    reporter.handle_scheduled(json!({"period": "daily"}), today).await.unwrap();
    let first = keys(s3.objects().client(), &bucket).await;
    assert!(!first.is_empty() && first.iter().all(|k| k.starts_with("csat-before/")), "{first:?}");
    let html = dashboard(bridge_domain::csat::dashboard_key("csat-before", &period)).await;
    assert!(html.contains("Before the change"), "the first run's title");

    // The section changes in the file: the same warm reporter's next run uses the new one.
    let after = world.config_text.replace("csat-before", "csat-after").replace("Before the change", "After the change");
    std::fs::write(&file, after).unwrap();
    reporter.handle_scheduled(json!({"period": "daily"}), today).await.unwrap();
    let new: Vec<String> =
        keys(s3.objects().client(), &bucket).await.into_iter().filter(|k| !first.contains(k)).collect();
    assert_eq!(new.len(), first.len(), "the second run writes as many objects: {new:?}");
    assert!(new.iter().all(|k| k.starts_with("csat-after/")), "under the new prefix: {new:?}");
    let html = dashboard(bridge_domain::csat::dashboard_key("csat-after", &period)).await;
    assert!(html.contains("After the change") && !html.contains("Before the change"), "the new title");
    assert_eq!(reporter.counters.get("ConfigReloadFailed", ("Component", "worker")), 0);
    let _ = std::fs::remove_file(&file);
}
