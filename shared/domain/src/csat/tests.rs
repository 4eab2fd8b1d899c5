#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;

use super::period::start_of;
use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn at(day: &str, hour: i64) -> i64 {
    start_of(d(day)) + hour * 3600
}

fn ic(id: &str, rating: u64, ts: i64) -> RatingRow {
    RatingRow::from_intercom(&IntercomRatingInput {
        conversation_id: id,
        rating,
        remark: Some("  très bien  "),
        rated_at: ts,
        team: Some("0"),
        agent: Some("7"),
    })
    .unwrap()
}

fn zd(id: u64, score: &str, ts: i64) -> RatingRow {
    RatingRow::from_zendesk(&ZendeskRatingInput {
        id,
        ticket_id: Some(id * 10),
        score,
        comment: None,
        created_at: ts,
        group_id: Some(5),
        assignee_id: None,
    })
    .unwrap()
}

fn item(source: Source, id: &str, created: i64, resolved: Option<i64>) -> WorkItem {
    WorkItem {
        source,
        id: RecordId::new(id),
        created_at: created,
        first_reply_secs: Some(600),
        resolved_at: resolved,
        resolution_secs: resolved.map(|r| r - created),
        merged_away: false,
    }
}

#[test]
fn intercom_four_and_five_are_positive_and_scores_normalise() {
    assert_eq!(ic("1", 4, 0).answer, Answer::Positive);
    assert_eq!(ic("1", 5, 0).score, Some(1.0));
    assert_eq!(ic("1", 3, 0).answer, Answer::Negative);
    assert_eq!(ic("1", 1, 0).score, Some(0.0));
    assert!(RatingRow::from_intercom(&IntercomRatingInput { rating: 6, ..input() }).is_none());
    let row = ic("1", 3, 0);
    assert_eq!(row.comment_length, 9, "trimmed characters (10 bytes), not bytes");
    assert_eq!(row.team, None, "team 0 means unassigned");
}

fn input() -> IntercomRatingInput<'static> {
    IntercomRatingInput { conversation_id: "c", rating: 5, remark: None, rated_at: 0, team: None, agent: None }
}

#[test]
fn zendesk_offers_are_unanswered_and_unknown_scores_dropped() {
    assert_eq!(zd(1, "good", 0).answer, Answer::Positive);
    assert_eq!(zd(1, "bad", 0).score, Some(0.0));
    assert_eq!(zd(1, "offered", 0).answer, Answer::Unanswered);
    assert_eq!(zd(1, "unoffered", 0).score, None);
    assert!(
        RatingRow::from_zendesk(&ZendeskRatingInput {
            id: 1,
            ticket_id: None,
            score: "good_with_comment",
            comment: None,
            created_at: 0,
            group_id: None,
            assignee_id: None
        })
        .is_none()
    );
}

#[test]
fn csat_and_response_rate_per_day_and_scope() {
    let period = Period::custom(d("2024-05-01"), d("2024-05-02")).unwrap();
    let ratings = vec![
        ic("a", 5, at("2024-05-01", 9)),
        ic("b", 3, at("2024-05-01", 10)),
        zd(1, "good", at("2024-05-01", 11)),
        zd(2, "bad", at("2024-05-02", 11)),
        zd(3, "offered", at("2024-05-02", 12)),
        zd(4, "unoffered", at("2024-05-02", 13)),
        zd(5, "good", at("2024-05-03", 0)), // after the period
    ];
    let r = build_report(period, ratings, vec![]);
    assert_eq!(r.ratings.len(), 6);
    let day1 = r.day(d("2024-05-01"), Scope::Combined).unwrap();
    assert_eq!((day1.rated, day1.positive), (3, 2));
    assert_eq!(day1.csat(), Some(2.0 / 3.0));
    assert_eq!(day1.response_rate(), Some(1.0), "one Zendesk rating, no unanswered offers");
    let ic1 = r.day(d("2024-05-01"), Scope::Intercom).unwrap();
    assert_eq!(ic1.csat(), Some(0.5));
    assert_eq!(ic1.response_rate(), None, "Intercom does not report unanswered surveys");
    let zd2 = r.day(d("2024-05-02"), Scope::Zendesk).unwrap();
    assert_eq!((zd2.rated, zd2.unanswered), (1, 2));
    assert_eq!(zd2.csat(), Some(0.0));
    assert_eq!(zd2.response_rate(), Some(1.0 / 3.0));
    let total = r.total(Scope::Combined).unwrap();
    assert_eq!((total.rated, total.positive, total.unanswered), (4, 2, 2));
    assert_eq!(total.response_rate(), Some(2.0 / 4.0));
}

#[test]
fn repeated_ratings_count_once_with_the_latest_answer() {
    let period = Period::custom(d("2024-05-01"), d("2024-05-01")).unwrap();
    let ratings = vec![zd(1, "offered", at("2024-05-01", 1)), zd(1, "good", at("2024-05-01", 2))];
    let r = build_report(period, ratings.clone(), vec![]);
    assert_eq!(r.ratings.len(), 1);
    assert_eq!(r.ratings[0].answer, Answer::Positive);
    let reversed = build_report(period, ratings.into_iter().rev().collect(), vec![]);
    assert_eq!(reversed.ratings, r.ratings);
}

#[test]
fn volume_resolution_and_merged_tickets() {
    let period = Period::custom(d("2024-05-01"), d("2024-05-02")).unwrap();
    let mut merged = item(Source::Zendesk, "3", at("2024-05-01", 1), Some(at("2024-05-01", 2)));
    merged.merged_away = true;
    let items = vec![
        item(Source::Zendesk, "1", at("2024-05-01", 0), Some(at("2024-05-01", 3))), // 3 h
        item(Source::Zendesk, "1", at("2024-05-01", 0), Some(at("2024-05-01", 3))), // repeat
        item(Source::Zendesk, "2", at("2024-05-01", 0), Some(at("2024-05-02", 12))), // 36 h
        merged,
        item(Source::Intercom, "9", at("2024-04-30", 0), Some(at("2024-05-02", 0))), // created before
        item(Source::Intercom, "8", at("2024-05-02", 0), None),
    ];
    let r = build_report(period, vec![], items);
    let z1 = r.day(d("2024-05-01"), Scope::Zendesk).unwrap();
    assert_eq!((z1.created, z1.resolved), (2, 1));
    assert_eq!(z1.median_resolution_minutes, Some(180.0));
    assert_eq!(z1.median_first_reply_minutes, Some(10.0));
    let c2 = r.day(d("2024-05-02"), Scope::Combined).unwrap();
    assert_eq!((c2.created, c2.resolved), (1, 2));
    assert_eq!(c2.median_resolution_minutes, Some((36.0 * 60.0 + 48.0 * 60.0) / 2.0));
    let total = r.total(Scope::Combined).unwrap();
    assert_eq!((total.created, total.resolved), (3, 3));
    let counts: Vec<(u32, u32)> = r.resolution.iter().map(|b| (b.intercom, b.zendesk)).collect();
    assert_eq!(counts, vec![(0, 0), (0, 1), (0, 0), (0, 0), (1, 1), (0, 0)]);
}

#[test]
fn periods_daily_weekly_custom() {
    // Wednesday 2024-05-08.
    let p = Period::previous(PeriodKind::Daily, d("2024-05-08"));
    assert_eq!((p.from, p.to), (d("2024-05-07"), d("2024-05-07")));
    let w = Period::previous(PeriodKind::Weekly, d("2024-05-08"));
    assert_eq!((w.from, w.to), (d("2024-04-29"), d("2024-05-05")));
    let monday = Period::previous(PeriodKind::Weekly, d("2024-05-06"));
    assert_eq!((monday.from, monday.to), (d("2024-04-29"), d("2024-05-05")));
    assert_eq!(w.days().len(), 7);
    assert_eq!(w.end_ts() - w.start_ts(), 7 * 86_400);
    assert!(matches!(Period::custom(d("2024-05-02"), d("2024-05-01")), Err(PeriodError::Reversed { .. })));
    assert!(matches!(Period::custom(d("2023-01-01"), d("2024-05-01")), Err(PeriodError::TooLong { .. })));
}

#[test]
fn csv_quotes_and_defuses_formulas() {
    let csv = to_csv(&["a", "b"], &[vec!["x,y".into(), "=SUM(A1)".into()], vec!["say \"hi\"".into(), "".into()]]);
    assert_eq!(csv, "a,b\r\n\"x,y\",'=SUM(A1)\r\n\"say \"\"hi\"\"\",\r\n");
}

#[test]
fn sheet_rows_have_a_fixed_shape_for_a_period() {
    let period = Period::custom(d("2024-05-01"), d("2024-05-03")).unwrap();
    let rows = sheet_rows(&build_report(period, vec![ic("a", 5, at("2024-05-02", 1))], vec![]));
    assert_eq!(rows.len(), 1 + 3 * 3 + 3);
    assert!(rows.iter().all(|r| r.len() == DAILY_COLUMNS.len()));
    assert_eq!(rows[4][..5], ["2024-05-02", "intercom", "1", "1", "1.0000"].map(String::from));
}

#[test]
fn config_problems_are_named() {
    let mut c = ReportingConfig::default();
    assert_eq!(c.problems(), None);
    c.page_size = 0;
    assert_eq!(c.problems().unwrap().0, "reporting.page_size");
    c.page_size = 50;
    c.sheets = Some(SheetsOutput {
        spreadsheet_id: "abc".into(),
        ranges: [(PeriodKind::Daily, "Csat Daily".to_string())].into_iter().collect(),
    });
    assert_eq!(c.problems().unwrap().0, "reporting.sheets.ranges.daily");
}

#[test]
fn keys_partition_by_date() {
    let keys = partition_keys("/csat/", d("2024-05-01"));
    assert_eq!(keys[0], "csat/date=2024-05-01/ratings.csv");
    assert_eq!(keys[3], "csat/date=2024-05-01/daily.parquet");
    let p = Period::previous(PeriodKind::Weekly, d("2024-05-08"));
    assert_eq!(dashboard_key("csat", &p), "csat/dashboard/weekly/2024-04-29_2024-05-05.html");
}
