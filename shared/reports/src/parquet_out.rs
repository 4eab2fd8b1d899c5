//! Parquet files of the report tables, written with the `parquet` crate's low-level column
//! writer (no arrow, no compression codecs: small to build, plain files every engine reads).

use std::sync::Arc;

use bridge_domain::csat::{DailyAggregate, RatingRow};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// A Parquet encoding failure.
#[derive(Debug, thiserror::Error)]
#[error("parquet: {0}")]
pub struct ParquetError(String);

impl From<parquet::errors::ParquetError> for ParquetError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        Self(e.to_string())
    }
}

/// One optional column.
enum Column {
    Text(Vec<Option<String>>),
    Float(Vec<Option<f64>>),
    Int(Vec<Option<i64>>),
}

fn levels<T: Clone>(values: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let defined = values.iter().flatten().cloned().collect();
    let levels = values.iter().map(|v| i16::from(v.is_some())).collect();
    (defined, levels)
}

fn write(schema: &str, columns: Vec<Column>, rows: usize) -> Result<Vec<u8>, ParquetError> {
    let schema = Arc::new(parse_message_type(schema)?);
    let props = Arc::new(WriterProperties::builder().set_created_by("intercom-zendesk-bridge".into()).build());
    let mut buf = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut buf, schema, props)?;
    if rows > 0 {
        let mut group = writer.next_row_group()?;
        let mut columns = columns.into_iter();
        while let Some(mut out) = group.next_column()? {
            let column = columns.next().ok_or_else(|| ParquetError("schema has more columns than data".into()))?;
            match column {
                Column::Text(v) => {
                    let (vals, defs) = levels(&v);
                    let vals: Vec<ByteArray> = vals.into_iter().map(|s| ByteArray::from(s.into_bytes())).collect();
                    out.typed::<ByteArrayType>().write_batch(&vals, Some(&defs), None)?;
                }
                Column::Float(v) => {
                    let (vals, defs) = levels(&v);
                    out.typed::<DoubleType>().write_batch(&vals, Some(&defs), None)?;
                }
                Column::Int(v) => {
                    let (vals, defs) = levels(&v);
                    out.typed::<Int64Type>().write_batch(&vals, Some(&defs), None)?;
                }
            }
            out.close()?;
        }
        group.close()?;
    }
    writer.close()?;
    Ok(buf)
}

const RATINGS_SCHEMA: &str = "message csat_rating {
  OPTIONAL BYTE_ARRAY date (UTF8);
  OPTIONAL BYTE_ARRAY source (UTF8);
  OPTIONAL BYTE_ARRAY rating_id (UTF8);
  OPTIONAL BYTE_ARRAY record_id (UTF8);
  OPTIONAL BYTE_ARRAY raw_score (UTF8);
  OPTIONAL DOUBLE score;
  OPTIONAL BYTE_ARRAY answer (UTF8);
  OPTIONAL INT64 comment_length;
  OPTIONAL BYTE_ARRAY team (UTF8);
  OPTIONAL BYTE_ARRAY agent (UTF8);
  OPTIONAL INT64 rated_at (TIMESTAMP(MILLIS,true));
}";

const DAILY_SCHEMA: &str = "message csat_daily {
  OPTIONAL BYTE_ARRAY date (UTF8);
  OPTIONAL BYTE_ARRAY scope (UTF8);
  OPTIONAL INT64 rated;
  OPTIONAL INT64 positive;
  OPTIONAL DOUBLE csat;
  OPTIONAL INT64 unanswered;
  OPTIONAL DOUBLE response_rate;
  OPTIONAL INT64 created;
  OPTIONAL INT64 resolved;
  OPTIONAL DOUBLE median_first_reply_minutes;
  OPTIONAL DOUBLE median_resolution_minutes;
}";

/// The ratings table (columns as [`bridge_domain::csat::RATING_COLUMNS`]).
pub fn ratings_parquet(rows: &[&RatingRow]) -> Result<Vec<u8>, ParquetError> {
    let text = |f: &dyn Fn(&RatingRow) -> Option<String>| Column::Text(rows.iter().map(|r| f(r)).collect());
    let columns = vec![
        text(&|r| r.day().map(|d| d.to_string())),
        text(&|r| Some(r.source.as_str().to_string())),
        text(&|r| Some(r.rating_id.to_string())),
        text(&|r| Some(r.record_id.to_string())),
        text(&|r| Some(r.raw_score.clone())),
        Column::Float(rows.iter().map(|r| r.score).collect()),
        text(&|r| Some(r.answer.as_str().to_string())),
        Column::Int(rows.iter().map(|r| Some(i64::from(r.comment_length))).collect()),
        text(&|r| r.team.clone()),
        text(&|r| r.agent.clone()),
        Column::Int(rows.iter().map(|r| Some(r.rated_at * 1000)).collect()),
    ];
    write(RATINGS_SCHEMA, columns, rows.len())
}

/// The daily table (columns as [`bridge_domain::csat::DAILY_COLUMNS`]).
pub fn daily_parquet(rows: &[&DailyAggregate]) -> Result<Vec<u8>, ParquetError> {
    let int = |f: &dyn Fn(&DailyAggregate) -> u32| Column::Int(rows.iter().map(|a| Some(i64::from(f(a)))).collect());
    let float = |f: &dyn Fn(&DailyAggregate) -> Option<f64>| Column::Float(rows.iter().map(|a| f(a)).collect());
    let columns = vec![
        Column::Text(rows.iter().map(|a| Some(a.day.to_string())).collect()),
        Column::Text(rows.iter().map(|a| Some(a.scope.as_str().to_string())).collect()),
        int(&|a| a.figures.rated),
        int(&|a| a.figures.positive),
        float(&|a| a.figures.csat()),
        int(&|a| a.figures.unanswered),
        float(&|a| a.figures.response_rate()),
        int(&|a| a.figures.created),
        int(&|a| a.figures.resolved),
        float(&|a| a.figures.median_first_reply_minutes),
        float(&|a| a.figures.median_resolution_minutes),
    ];
    write(DAILY_SCHEMA, columns, rows.len())
}
