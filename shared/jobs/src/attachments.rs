//! Files carried across by jobs 1 and 3: a conversation part's files uploaded to Zendesk for
//! the ticket comment, a ticket comment's files downloaded for the Intercom reply. What is left
//! out (too large, too many, gone at the source, refused) is named, never dropped silently; a
//! transient failure is returned so the message is retried (uploads are unattached until a
//! comment names them, so uploading again on a retry leaves nothing visible).
//!
//! Logs carry ids and counts only: file names and contents may be personal data.

use bridge_domain::attachments::{self, FileReport, Offered, SkipReason, Skipped};
use bridge_domain::escalation::{self, PartFiles};
use bridge_domain::ids::AdminId;
use bridge_domain::model::{Conversation, Download, FileData, Part, TicketComment, UploadToken};
use bridge_domain::ports::{Helpdesk, Messenger, PortError, Store};

use crate::Ports;

/// A part's files as uploaded to Zendesk: the tokens for the comment and what became of each.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Carried {
    /// Upload tokens, for the comment's `uploads`.
    pub tokens: Vec<UploadToken>,
    /// The names attached and the files skipped.
    pub report: FileReport,
}

/// Job 1: uploads the files of one part; `None` when `escalation.attachments.upload` is off
/// (the comment then links to Intercom's URLs).
pub(crate) async fn part_to_zendesk<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    part: &Part,
) -> Result<Option<Carried>, PortError> {
    let Some(cfg) = p.config.escalation.as_ref().map(|e| &e.attachments) else {
        return Ok(None);
    };
    if !cfg.upload {
        return Ok(None);
    }
    if part.attachments.is_empty() {
        return Ok(Some(Carried::default()));
    }
    let limits = cfg.limits();
    let offered: Vec<Offered<'_>> =
        part.attachments.iter().map(|a| Offered { name: a.name.as_str(), size: a.size }).collect();
    let (fetch, mut skipped) = attachments::select(&offered, limits);
    let mut carried = Carried::default();
    for i in fetch {
        let Some(a) = part.attachments.get(i) else { continue };
        let skip = |reason| Skipped { name: a.name.clone(), reason };
        match p.intercom.fetch_part_file(a, limits.max_bytes).await {
            Ok(Download::File(file)) => match p.zendesk.upload_file(file).await {
                Ok(token) => {
                    carried.tokens.push(token);
                    carried.report.attached.push(a.name.clone());
                }
                Err(e) if e.is_retryable() => return Err(e),
                Err(e) => {
                    tracing::warn!(part_id = %part.id, error = %e, "zendesk refused an upload; the file is named as not attached");
                    skipped.push(skip(SkipReason::Refused));
                }
            },
            Ok(Download::TooLarge { size }) => {
                skipped.push(skip(SkipReason::TooLarge { size, limit: limits.max_bytes }))
            }
            Err(e) if e.is_retryable() => return Err(e),
            Err(e) => {
                tracing::warn!(part_id = %part.id, error = %e, "an attachment could not be downloaded; it is named as not attached");
                skipped.push(skip(SkipReason::Unavailable));
            }
        }
    }
    if !skipped.is_empty() || !carried.tokens.is_empty() {
        tracing::info!(
            part_id = %part.id,
            attached = carried.tokens.len(),
            skipped = skipped.len(),
            "attachments carried to zendesk"
        );
    }
    carried.report.skipped = skipped;
    Ok(Some(carried))
}

/// Job 1, the transcript: the files of every part the transcript holds, with all the tokens;
/// `None` when uploads are off.
pub(crate) async fn conversation_to_zendesk<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    conversation: &Conversation,
    bot: &AdminId,
) -> Result<Option<(PartFiles, Vec<UploadToken>)>, PortError> {
    let mut files = PartFiles::new();
    let mut tokens = Vec::new();
    for part in conversation.parts.iter().filter(|part| escalation::is_transcript_part(part, bot)) {
        if part.attachments.is_empty() {
            continue;
        }
        let Some(carried) = part_to_zendesk(p, part).await? else {
            return Ok(None);
        };
        tokens.extend(carried.tokens);
        files.insert(part.id.clone(), carried.report);
    }
    match p.config.escalation.as_ref().is_some_and(|e| e.attachments.upload) {
        true => Ok(Some((files, tokens))),
        false => Ok(None),
    }
}

/// Job 3: downloads a comment's files for the Intercom reply, within
/// `ticket_status.attachments`; returns the files and those named as not attached.
pub(crate) async fn comment_to_intercom<Z: Helpdesk>(
    zendesk: &Z,
    cfg: &attachments::ToIntercomAttachments,
    comment: &TicketComment,
) -> Result<(Vec<FileData>, Vec<Skipped>), PortError> {
    let list = &comment.attachments;
    if list.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    if !cfg.upload {
        let off = list.iter().map(|a| Skipped { name: a.file_name.clone(), reason: SkipReason::Off }).collect();
        return Ok((Vec::new(), off));
    }
    let limits = cfg.limits();
    let offered: Vec<Offered<'_>> = list.iter().map(|a| Offered { name: a.file_name.as_str(), size: a.size }).collect();
    let (fetch, mut skipped) = attachments::select(&offered, limits);
    let mut files = Vec::with_capacity(fetch.len());
    let mut kept: u64 = 0;
    for i in fetch {
        let Some(a) = list.get(i) else { continue };
        match zendesk.fetch_comment_file(a, limits.max_bytes).await {
            Ok(Download::File(file)) if !attachments::fits(kept, file.bytes.len() as u64, limits) => skipped
                .push(Skipped { name: a.file_name.clone(), reason: SkipReason::OverTotal { limit: limits.max_total } }),
            Ok(Download::File(file)) => {
                kept += file.bytes.len() as u64;
                files.push(file);
            }
            Ok(Download::TooLarge { size }) => skipped.push(Skipped {
                name: a.file_name.clone(),
                reason: SkipReason::TooLarge { size, limit: limits.max_bytes },
            }),
            Err(e) if e.is_retryable() => return Err(e),
            Err(e) => {
                tracing::warn!(attachment_id = a.id.map(|i| i.get()), error = %e, "a comment's file could not be downloaded; it is named as not attached");
                skipped.push(Skipped { name: a.file_name.clone(), reason: SkipReason::Unavailable });
            }
        }
    }
    tracing::info!(
        comment_id = ?comment.id,
        attached = files.len(),
        skipped = skipped.len(),
        "attachments carried to intercom"
    );
    Ok((files, skipped))
}

#[cfg(test)]
mod tests;
