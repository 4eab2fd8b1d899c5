//! The self-contained HTML dashboard (pure: report in, HTML out). Inline SVG charts and CSS
//! only: no scripts, no fonts, no external requests; a Content-Security-Policy meta tag makes
//! the browser refuse anything else.

use std::fmt::Write as _;

use bridge_domain::csat::{Figures, Report, Scope};
use html_escape::encode_text;

const INTERCOM: &str = "#1f6feb";
const ZENDESK: &str = "#17494d";
const COMBINED: &str = "#d9822b";
const W: f64 = 640.0;
const H: f64 = 240.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 16.0;

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "n/a".into())
}

fn minutes(v: Option<f64>) -> String {
    match v {
        Some(m) if m >= 120.0 => format!("{:.1} h", m / 60.0),
        Some(m) => format!("{m:.0} min"),
        None => "n/a".into(),
    }
}

/// A series of a chart.
struct Series<'a> {
    name: &'a str,
    color: &'a str,
    values: Vec<Option<f64>>,
}

fn x_labels(svg: &mut String, labels: &[String], step_x: impl Fn(usize) -> f64) {
    let every = (labels.len() / 8).max(1);
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="xl">{}</text>"#,
            step_x(i),
            H - BOTTOM + 16.0,
            encode_text(label)
        );
    }
}

fn frame(svg: &mut String, title: &str, y_max: f64, y_fmt: &dyn Fn(f64) -> String) {
    let _ = write!(svg, r#"<svg viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#, encode_text(title));
    for i in 0..=4 {
        let v = y_max * f64::from(i) / 4.0;
        let y = H - BOTTOM - (H - BOTTOM - TOP) * f64::from(i) / 4.0;
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" class="grid"/><text x="{}" y="{:.1}" class="yl">{}</text>"#,
            W - 8.0,
            LEFT - 6.0,
            y + 4.0,
            y_fmt(v)
        );
    }
}

fn legend(out: &mut String, series: &[Series<'_>]) {
    out.push_str(r#"<div class="legend">"#);
    for s in series {
        let _ = write!(out, r#"<span><i style="background:{}"></i>{}</span>"#, s.color, encode_text(s.name));
    }
    out.push_str("</div>");
}

fn line_chart(
    title: &str,
    labels: &[String],
    series: &[Series<'_>],
    y_max: f64,
    y_fmt: &dyn Fn(f64) -> String,
) -> String {
    let mut svg = String::new();
    frame(&mut svg, title, y_max, y_fmt);
    let n = labels.len().max(1);
    let step = (W - LEFT - 40.0) / (n.max(2) - 1) as f64;
    let x = |i: usize| if n == 1 { LEFT + (W - LEFT) / 2.0 } else { LEFT + 8.0 + step * i as f64 };
    let y = |v: f64| H - BOTTOM - (H - BOTTOM - TOP) * (v / y_max).clamp(0.0, 1.0);
    for s in series {
        // Gaps (days without data) split the line.
        let mut path = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(path, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, x(i), y(*v));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            // The combined line is dashed so the per-source lines under it stay visible.
            let dash = if s.name == "Combined" { r#" stroke-dasharray="6 4""# } else { "" };
            let _ = write!(
                svg,
                r#"<path d="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
                path.trim_end(),
                s.color
            );
        }
        for (i, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"><title>{} {}: {}</title></circle>"#,
                    x(i),
                    y(*v),
                    s.color,
                    encode_text(s.name),
                    encode_text(&labels[i]),
                    y_fmt(*v)
                );
            }
        }
    }
    x_labels(&mut svg, labels, x);
    svg.push_str("</svg>");
    let mut out = format!(r#"<section class="chart"><h2>{}</h2>"#, encode_text(title));
    legend(&mut out, series);
    out.push_str(&svg);
    out.push_str("</section>");
    out
}

fn bar_chart(title: &str, labels: &[String], series: &[Series<'_>]) -> String {
    let max = series.iter().flat_map(|s| s.values.iter().flatten()).fold(0.0_f64, |a, b| a.max(*b));
    // A multiple of 4, so the five grid labels are whole numbers.
    let y_max = if max <= 0.0 { 4.0 } else { (max * 1.1 / 4.0).ceil() * 4.0 };
    let mut svg = String::new();
    frame(&mut svg, title, y_max, &|v| format!("{v:.0}"));
    let n = labels.len().max(1) as f64;
    let group = (W - LEFT - 16.0) / n;
    let bar = (group * 0.8) / series.len().max(1) as f64;
    let x0 = |i: usize| LEFT + 8.0 + group * i as f64;
    for (si, s) in series.iter().enumerate() {
        for (i, v) in s.values.iter().enumerate() {
            let v = v.unwrap_or(0.0);
            let h = (H - BOTTOM - TOP) * (v / y_max);
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} {}: {v}</title></rect>"#,
                x0(i) + group * 0.1 + bar * si as f64,
                H - BOTTOM - h,
                bar.max(1.0),
                h,
                s.color,
                encode_text(s.name),
                encode_text(&labels[i])
            );
        }
    }
    x_labels(&mut svg, labels, |i| x0(i) + group / 2.0);
    svg.push_str("</svg>");
    let mut out = format!(r#"<section class="chart"><h2>{}</h2>"#, encode_text(title));
    legend(&mut out, series);
    out.push_str(&svg);
    out.push_str("</section>");
    out
}

fn card(label: &str, value: &str, note: &str) -> String {
    format!(
        r#"<div class="card"><div class="label">{}</div><div class="value">{}</div><div class="note">{}</div></div>"#,
        encode_text(label),
        encode_text(value),
        encode_text(note)
    )
}

fn by_day(report: &Report, scope: Scope, f: impl Fn(&Figures) -> Option<f64>) -> Vec<Option<f64>> {
    report.period.days().iter().map(|d| report.day(*d, scope).and_then(&f)).collect()
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1b1f24;background:#f6f8fa}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:15px;margin:0 0 6px}.sub{color:#57606a;margin-bottom:16px}\
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:16px}.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;min-width:140px}\
.label{font-size:12px;color:#57606a}.value{font-size:24px;font-weight:600}.note{font-size:11px;color:#57606a}\
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}\
.chart{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px}svg{width:100%;height:auto}\
.grid{stroke:#eaeef2}.yl{font-size:10px;fill:#57606a;text-anchor:end}.xl{font-size:10px;fill:#57606a;text-anchor:middle}\
.legend{font-size:12px;margin-bottom:4px}.legend span{margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}\
table{border-collapse:collapse;background:#fff;margin-top:16px;font-size:12px}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:right}th{background:#eaeef2}";

/// Renders the dashboard of a report.
pub fn render(report: &Report, title: &str) -> String {
    let labels: Vec<String> = report.period.days().iter().map(|d| d.format("%m-%d").to_string()).collect();
    let total = |s| report.total(s).cloned();
    let combined = total(Scope::Combined);
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1><div class="sub">{} to {} (UTC) · Intercom and Zendesk</div><div class="cards">"#,
        report.period.from,
        report.period.to,
        t = encode_text(title),
    );
    let f = |o: &Option<Figures>, g: &dyn Fn(&Figures) -> String| o.as_ref().map(g).unwrap_or_else(|| "n/a".into());
    html.push_str(&card(
        "CSAT (combined)",
        &f(&combined, &|x| pct(x.csat())),
        &f(&combined, &|x| format!("{} of {} rated positive", x.positive, x.rated)),
    ));
    for (scope, name) in [(Scope::Intercom, "CSAT Intercom"), (Scope::Zendesk, "CSAT Zendesk")] {
        let t = total(scope);
        html.push_str(&card(name, &f(&t, &|x| pct(x.csat())), &f(&t, &|x| format!("{} ratings", x.rated))));
    }
    html.push_str(&card(
        "Response rate",
        &f(&combined, &|x| pct(x.response_rate())),
        &f(&combined, &|x| format!("{} surveys unanswered (Zendesk)", x.unanswered)),
    ));
    html.push_str(&card(
        "Volume",
        &f(&combined, &|x| x.created.to_string()),
        &f(&combined, &|x| format!("{} resolved", x.resolved)),
    ));
    html.push_str(&card(
        "Median resolution",
        &f(&combined, &|x| minutes(x.median_resolution_minutes)),
        &f(&combined, &|x| format!("first reply {}", minutes(x.median_first_reply_minutes))),
    ));
    html.push_str(r#"</div><div class="grid2">"#);
    let three = |g: &dyn Fn(&Figures) -> Option<f64>| {
        vec![
            Series { name: "Intercom", color: INTERCOM, values: by_day(report, Scope::Intercom, g) },
            Series { name: "Zendesk", color: ZENDESK, values: by_day(report, Scope::Zendesk, g) },
            Series { name: "Combined", color: COMBINED, values: by_day(report, Scope::Combined, g) },
        ]
    };
    html.push_str(&line_chart("CSAT over time", &labels, &three(&|x| x.csat()), 1.0, &|v| {
        format!("{:.0}%", v * 100.0)
    }));
    let volume = vec![
        Series {
            name: "Intercom",
            color: INTERCOM,
            values: by_day(report, Scope::Intercom, |x| Some(f64::from(x.created))),
        },
        Series {
            name: "Zendesk",
            color: ZENDESK,
            values: by_day(report, Scope::Zendesk, |x| Some(f64::from(x.created))),
        },
    ];
    html.push_str(&bar_chart("Volume (created per day)", &labels, &volume));
    let buckets: Vec<String> = report.resolution.iter().map(|b| b.label.clone()).collect();
    let distribution = vec![
        Series {
            name: "Intercom",
            color: INTERCOM,
            values: report.resolution.iter().map(|b| Some(f64::from(b.intercom))).collect(),
        },
        Series {
            name: "Zendesk",
            color: ZENDESK,
            values: report.resolution.iter().map(|b| Some(f64::from(b.zendesk))).collect(),
        },
    ];
    html.push_str(&bar_chart("Resolution time distribution", &buckets, &distribution));
    let response =
        vec![Series { name: "Zendesk", color: ZENDESK, values: by_day(report, Scope::Zendesk, |x| x.response_rate()) }];
    html.push_str(&line_chart("Survey response rate", &labels, &response, 1.0, &|v| format!("{:.0}%", v * 100.0)));
    html.push_str("</div><table><thead><tr><th>Day</th><th>Rated</th><th>CSAT</th><th>Response rate</th><th>Created</th><th>Resolved</th><th>Median first reply</th><th>Median resolution</th></tr></thead><tbody>");
    for day in report.period.days() {
        if let Some(x) = report.day(day, Scope::Combined) {
            let _ = write!(
                html,
                "<tr><td>{day}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                x.rated,
                pct(x.csat()),
                pct(x.response_rate()),
                x.created,
                x.resolved,
                minutes(x.median_first_reply_minutes),
                minutes(x.median_resolution_minutes)
            );
        }
    }
    html.push_str("</tbody></table></body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use bridge_domain::csat::{IntercomRatingInput, Period, RatingRow, build_report};
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn self_contained_with_four_charts_and_escaped_title() {
        let day = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let period = Period::custom(day, day + chrono::Duration::days(2)).unwrap();
        let ts = period.start_ts() + 3600;
        let rating = RatingRow::from_intercom(&IntercomRatingInput {
            conversation_id: "1",
            rating: 5,
            remark: None,
            rated_at: ts,
            team: None,
            agent: None,
        })
        .unwrap();
        let html = render(&build_report(period, vec![rating], vec![]), "CSAT <Acme>");
        assert!(html.contains("CSAT &lt;Acme&gt;"));
        assert_eq!(html.matches("<svg").count(), 4);
        assert!(!html.contains("<script"));
        assert!(!html.contains("http://") && !html.contains("https://"), "no external resources");
        assert!(html.contains("100.0%"));
    }
}
