//! Attachments carried between the two sides: the limits a job applies (configured per
//! direction), which files of a message are fetched and which are named as not attached, and the
//! line that names them.
//!
//! Files travel as real attachments: an Intercom part's files are uploaded to Zendesk and put on
//! the ticket comment (job 1); a Zendesk public comment's files are sent with the admin reply
//! (job 3). A file that cannot travel (over the size limit, over the count limit, gone at the
//! source) is never dropped silently: the comment or reply names it ("Not attached: report.zip
//! (62 MB, over the 20 MB limit)"). The adapters do the downloads and uploads; these rules decide.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::text::escape_html;

/// One megabyte as the limits count it (2^20 bytes).
pub const MB: u64 = 1024 * 1024;

/// Zendesk's upload limit per file, in MB.
pub const ZENDESK_MAX_FILE_MB: u32 = 50;
/// Intercom's limit of files per reply (`attachment_files`).
pub const INTERCOM_MAX_FILES: u32 = 10;
/// The largest per-file limit accepted for files sent to Intercom (they travel base64-encoded in
/// one JSON request, held in memory).
pub const INTERCOM_MAX_FILE_MB: u32 = 25;
/// The largest per-reply total accepted for files sent to Intercom, in MB.
pub const INTERCOM_MAX_TOTAL_MB: u32 = 50;

fn yes() -> bool {
    true
}

fn twenty() -> u32 {
    20
}

fn ten() -> u32 {
    10
}

/// `escalation.attachments`: Intercom files uploaded to the Zendesk ticket (job 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToZendeskAttachments {
    /// Upload the files (default). Off: the transcript and comments link to Intercom's URLs, as
    /// before (they expire).
    #[serde(default = "yes")]
    pub upload: bool,
    /// Largest file uploaded, in MB (1-50; default 20). Larger files are named as not attached.
    #[serde(default = "twenty")]
    pub max_file_mb: u32,
}

impl Default for ToZendeskAttachments {
    fn default() -> Self {
        Self { upload: true, max_file_mb: twenty() }
    }
}

impl ToZendeskAttachments {
    /// The limits to apply (no count limit: Zendesk takes any number of uploads per comment).
    pub fn limits(&self) -> Limits {
        Limits { max_bytes: u64::from(self.max_file_mb) * MB, max_files: usize::MAX, max_total: u64::MAX }
    }

    /// Checks the section; `at` is its path.
    pub fn validate(&self, at: &str) -> Result<(), ConfigError> {
        if !(1..=ZENDESK_MAX_FILE_MB).contains(&self.max_file_mb) {
            return Err(ConfigError::new(
                format!("{at}.max_file_mb"),
                format!("must be 1 to {ZENDESK_MAX_FILE_MB} (Zendesk's upload limit is {ZENDESK_MAX_FILE_MB} MB)"),
            ));
        }
        Ok(())
    }
}

/// `ticket_status.attachments`: Zendesk comment files sent with the Intercom reply (job 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToIntercomAttachments {
    /// Send the files (default). Off: they are named in the reply as not attached.
    #[serde(default = "yes")]
    pub upload: bool,
    /// Largest file sent, in MB (1-25; default 10).
    #[serde(default = "ten")]
    pub max_file_mb: u32,
    /// Most files per reply (1-10, Intercom's limit; default 10).
    #[serde(default = "ten")]
    pub max_files: u32,
    /// Most megabytes of files per reply, all together (1-50; default 20). The files travel
    /// base64-encoded in one JSON request built in memory, about 2.5 times their size, and the
    /// `ticket-status` function has 128 MB: the default keeps a reply well inside that.
    #[serde(default = "twenty")]
    pub max_total_mb: u32,
}

impl Default for ToIntercomAttachments {
    fn default() -> Self {
        Self { upload: true, max_file_mb: ten(), max_files: ten(), max_total_mb: twenty() }
    }
}

impl ToIntercomAttachments {
    /// The limits to apply.
    pub fn limits(&self) -> Limits {
        Limits {
            max_bytes: u64::from(self.max_file_mb) * MB,
            max_files: usize::try_from(self.max_files).unwrap_or(usize::MAX),
            max_total: u64::from(self.max_total_mb) * MB,
        }
    }

    /// Checks the section; `at` is its path.
    pub fn validate(&self, at: &str) -> Result<(), ConfigError> {
        if !(1..=INTERCOM_MAX_FILE_MB).contains(&self.max_file_mb) {
            return Err(ConfigError::new(format!("{at}.max_file_mb"), format!("must be 1 to {INTERCOM_MAX_FILE_MB}")));
        }
        if !(1..=INTERCOM_MAX_TOTAL_MB).contains(&self.max_total_mb) {
            return Err(ConfigError::new(
                format!("{at}.max_total_mb"),
                format!("must be 1 to {INTERCOM_MAX_TOTAL_MB}"),
            ));
        }
        if !(1..=INTERCOM_MAX_FILES).contains(&self.max_files) {
            return Err(ConfigError::new(
                format!("{at}.max_files"),
                format!(
                    "must be 1 to {INTERCOM_MAX_FILES} (Intercom takes at most {INTERCOM_MAX_FILES} files per reply)"
                ),
            ));
        }
        Ok(())
    }
}

/// The limits of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file, in bytes.
    pub max_bytes: u64,
    /// Most files per message.
    pub max_files: usize,
    /// Most bytes of files per message, all together.
    pub max_total: u64,
}

/// Why a file was not attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Larger than the limit (size as declared by the source or as counted while downloading).
    TooLarge {
        /// The file's size in bytes (at least this much when counted while downloading).
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// Past the most files a message may carry.
    TooMany {
        /// The limit.
        limit: usize,
    },
    /// The files before it already fill the message's total.
    OverTotal {
        /// The total limit in bytes.
        limit: u64,
    },
    /// The source refused it or no longer has it (expired link, deleted, no access).
    Unavailable,
    /// The destination refused it.
    Refused,
    /// Carrying files is switched off in the configuration.
    Off,
}

/// A file named as not attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file name.
    pub name: String,
    /// Why.
    pub reason: SkipReason,
}

/// A file offered by a message: its name and size as the source declares it (if it does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offered<'a> {
    /// File name.
    pub name: &'a str,
    /// Declared size in bytes.
    pub size: Option<u64>,
}

/// Splits a message's files into those to fetch (their indexes, in order) and those skipped
/// before any download: declared too large, past the count limit, or over the message's total
/// with the declared sizes of the files before it (counting only files that would be fetched).
/// A file without a declared size is checked against the total once downloaded ([`fits`]).
pub fn select(files: &[Offered<'_>], limits: Limits) -> (Vec<usize>, Vec<Skipped>) {
    let mut fetch = Vec::new();
    let mut skipped = Vec::new();
    let mut total: u64 = 0;
    for (i, f) in files.iter().enumerate() {
        let reason = match f.size {
            Some(size) if size > limits.max_bytes => Some(SkipReason::TooLarge { size, limit: limits.max_bytes }),
            _ if fetch.len() >= limits.max_files => Some(SkipReason::TooMany { limit: limits.max_files }),
            Some(size) if total.saturating_add(size) > limits.max_total => {
                Some(SkipReason::OverTotal { limit: limits.max_total })
            }
            _ => None,
        };
        match reason {
            Some(reason) => skipped.push(Skipped { name: f.name.to_string(), reason }),
            None => {
                total = total.saturating_add(f.size.unwrap_or(0));
                fetch.push(i);
            }
        }
    }
    (fetch, skipped)
}

/// Whether a downloaded file of `size` bytes still fits the message's total, `so_far` bytes
/// being already kept.
pub fn fits(so_far: u64, size: u64, limits: Limits) -> bool {
    so_far.saturating_add(size) <= limits.max_total
}

/// A downloaded file's media type: the one its source declared, else the response's
/// `Content-Type`, else `application/octet-stream`.
pub fn content_type(declared: Option<&str>, header: Option<String>) -> String {
    declared
        .filter(|t| !t.trim().is_empty())
        .map(str::to_string)
        .or(header)
        .unwrap_or_else(|| "application/octet-stream".into())
}

/// A size for people: `812 bytes`, `3 KB`, `4.5 MB`, `62 MB`.
pub fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    if bytes < MB {
        return format!("{} KB", bytes.div_ceil(1024));
    }
    let tenths = (bytes * 10).div_ceil(MB);
    if tenths < 100 && !tenths.is_multiple_of(10) {
        format!("{}.{} MB", tenths / 10, tenths % 10)
    } else {
        format!("{} MB", bytes.div_ceil(MB))
    }
}

/// Why, in words: `62 MB, over the 20 MB limit`.
pub fn reason_text(reason: &SkipReason) -> String {
    match reason {
        SkipReason::TooLarge { size, limit } => format!("{}, over the {} limit", human_size(*size), human_size(*limit)),
        SkipReason::TooMany { limit } => format!("over the limit of {limit} files per message"),
        SkipReason::OverTotal { limit } => format!("over the {} per message", human_size(*limit)),
        SkipReason::Unavailable => "could not be downloaded".into(),
        SkipReason::Refused => "refused by the destination".into(),
        SkipReason::Off => "attachments are not carried over".into(),
    }
}

/// The plain-text line naming skipped files, e.g. `Not attached: report.zip (62 MB, over the 20
/// MB limit)`; `None` when nothing was skipped.
pub fn not_attached_text(skipped: &[Skipped]) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    let list: Vec<String> = skipped.iter().map(|s| format!("{} ({})", s.name, reason_text(&s.reason))).collect();
    Some(format!("Not attached: {}", list.join("; ")))
}

/// [`not_attached_text`] as an HTML paragraph (empty when nothing was skipped).
pub fn not_attached_html(skipped: &[Skipped]) -> String {
    not_attached_text(skipped).map(|t| format!("<p><em>{}</em></p>\n", escape_html(&t))).unwrap_or_default()
}

/// What became of the files of one message: the names attached, and those skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Names of the files attached.
    pub attached: Vec<String>,
    /// Files named as not attached.
    pub skipped: Vec<Skipped>,
}

impl FileReport {
    /// HTML listing the attached files by name and naming the skipped ones.
    pub fn html(&self) -> String {
        let mut html = String::new();
        if !self.attached.is_empty() {
            let names: Vec<String> = self.attached.iter().map(|n| escape_html(n)).collect();
            html.push_str(&format!("<p>Attached: {}</p>\n", names.join(", ")));
        }
        html.push_str(&not_attached_html(&self.skipped));
        html
    }
}

/// A file name safe to send as an upload's `filename` and an attachment's name: path separators
/// and control characters replaced, at most 255 characters, never empty.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String =
        name.chars().map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c }).take(255).collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." { "attachment".to_string() } else { trimmed.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(812), "812 bytes");
        assert_eq!(human_size(3000), "3 KB");
        assert_eq!(human_size(4 * MB + MB / 2), "4.5 MB");
        assert_eq!(human_size(62 * MB), "62 MB");
        assert_eq!(human_size(20 * MB), "20 MB");
    }

    #[test]
    fn files_past_the_message_total_are_named_by_declared_size_and_once_downloaded() {
        let limits = Limits { max_bytes: 10 * MB, max_files: 10, max_total: 20 * MB };
        let files = [
            Offered { name: "a.pdf", size: Some(9 * MB) },
            Offered { name: "b.pdf", size: Some(9 * MB) },
            Offered { name: "c.pdf", size: Some(9 * MB) },
            Offered { name: "d.txt", size: Some(MB) },
            Offered { name: "e.bin", size: None },
        ];
        let (fetch, skipped) = select(&files, limits);
        assert_eq!(fetch, vec![0, 1, 3, 4], "c.pdf would pass 20 MB; the small one after it still fits");
        assert_eq!(
            not_attached_text(&skipped).unwrap(),
            "Not attached: c.pdf (over the 20 MB per message)",
            "named with the total"
        );
        // e.bin declared no size: it is checked once downloaded, against what was kept.
        assert!(fits(19 * MB, MB, limits));
        assert!(!fits(19 * MB, MB + 1, limits));
    }

    #[test]
    fn files_over_the_size_or_count_limit_are_named_not_fetched() {
        let files = [
            Offered { name: "a.png", size: Some(10) },
            Offered { name: "report.zip", size: Some(62 * MB) },
            Offered { name: "b.txt", size: None },
            Offered { name: "c.txt", size: Some(5) },
        ];
        let (fetch, skipped) = select(&files, Limits { max_bytes: 20 * MB, max_files: 2, max_total: u64::MAX });
        assert_eq!(fetch, vec![0, 2]);
        assert_eq!(skipped.len(), 2);
        assert_eq!(
            not_attached_text(&skipped).unwrap(),
            "Not attached: report.zip (62 MB, over the 20 MB limit); c.txt (over the limit of 2 files per message)"
        );
        let (all, none) = select(&files, Limits { max_bytes: 100 * MB, max_files: usize::MAX, max_total: u64::MAX });
        assert_eq!((all.len(), none.len()), (4, 0));
        assert_eq!(not_attached_text(&none), None);
        assert_eq!(not_attached_html(&none), "");
    }

    #[test]
    fn the_report_escapes_names() {
        let r = FileReport {
            attached: vec!["<b>.png".into()],
            skipped: vec![Skipped { name: "x&y.pdf".into(), reason: SkipReason::Unavailable }],
        };
        let html = r.html();
        assert!(html.contains("Attached: &lt;b&gt;.png"), "{html}");
        assert!(html.contains("Not attached: x&amp;y.pdf (could not be downloaded)"), "{html}");
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(safe_file_name("../etc/passwd"), ".._etc_passwd");
        assert_eq!(safe_file_name("  "), "attachment");
        assert_eq!(safe_file_name("a\nb.txt"), "a_b.txt");
        assert_eq!(safe_file_name(&"x".repeat(300)).len(), 255);
    }

    #[test]
    fn limits_are_checked() {
        let z = ToZendeskAttachments { max_file_mb: 51, ..Default::default() };
        assert_eq!(z.validate("escalation.attachments").unwrap_err().field, "escalation.attachments.max_file_mb");
        assert!(ToZendeskAttachments::default().validate("e").is_ok());
        let i = ToIntercomAttachments { max_files: 11, ..Default::default() };
        assert_eq!(i.validate("t").unwrap_err().field, "t.max_files");
        let total = ToIntercomAttachments { max_total_mb: 51, ..Default::default() };
        assert_eq!(total.validate("t").unwrap_err().field, "t.max_total_mb");
        assert_eq!(
            ToIntercomAttachments::default().limits(),
            Limits { max_bytes: 10 * MB, max_files: 10, max_total: 20 * MB }
        );
        assert_eq!(ToZendeskAttachments::default().limits().max_bytes, 20 * MB);
    }
}
