//! The transcript builder over arbitrary conversations: never panics, and always states what
//! it holds (the completeness line).
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use arbitrary::Arbitrary;
use bridge_domain::Config;
use bridge_domain::escalation::{follow_up_for, part_html, transcript_html};
use bridge_domain::ids::{AdminId, ConversationId, PartId};
use bridge_domain::model::{
    Attachment, Author, AuthorRole, Conversation, ConversationPriority, ConversationState, Part, PartKind, Timestamp,
};
use libfuzzer_sys::fuzz_target;

/// Job 1's defaults append teammates' replies and notes too, so every follow-up kind is reached.
const ESCALATION: &str = "version: 1\nintercom: { bot_admin_id: '1' }\nescalation:\n  rules:\n    - { name: tagged, when: { tag_added: escalate } }\n";

static CONFIG: LazyLock<Config> =
    LazyLock::new(|| Config::from_yaml(ESCALATION).expect("the fuzz target's own configuration"));

#[derive(Debug, Arbitrary)]
struct FuzzPart {
    id: String,
    kind: u8,
    other_kind: String,
    role: u8,
    author_id: Option<String>,
    name: Option<String>,
    body: Option<String>,
    created_at: i64,
    attachments: Vec<(String, String)>,
    app_package_code: Option<String>,
}

#[derive(Debug, Arbitrary)]
struct FuzzConversation {
    id: String,
    title: Option<String>,
    created_at: i64,
    parts: Vec<FuzzPart>,
    parts_total: usize,
    bot: String,
    rule: String,
}

fn kind(k: u8, other: String) -> PartKind {
    match k % 7 {
        0 => PartKind::Opening,
        1 => PartKind::Comment,
        2 => PartKind::Note,
        3 => PartKind::Assignment,
        4 => PartKind::Close,
        5 => PartKind::Open,
        _ => PartKind::Other(other),
    }
}

fn role(r: u8) -> AuthorRole {
    match r % 5 {
        0 => AuthorRole::Admin,
        1 => AuthorRole::User,
        2 => AuthorRole::Lead,
        3 => AuthorRole::Bot,
        _ => AuthorRole::Team,
    }
}

fuzz_target!(|input: FuzzConversation| {
    let (Ok(id), Ok(bot)) = (ConversationId::parse(input.id), AdminId::parse(input.bot)) else {
        return;
    };
    let mut parts = Vec::with_capacity(input.parts.len());
    for p in input.parts {
        let Ok(part_id) = PartId::parse(p.id) else { return };
        parts.push(Part {
            id: part_id,
            kind: kind(p.kind, p.other_kind),
            author: Author { role: role(p.role), id: p.author_id, name: p.name, email: None },
            body: p.body,
            created_at: Timestamp(p.created_at),
            attachments: p
                .attachments
                .into_iter()
                .map(|(name, url)| Attachment { name, url, content_type: None, size: None })
                .collect(),
            app_package_code: p.app_package_code,
        });
    }
    let conversation = Conversation {
        id,
        title: input.title,
        created_at: Timestamp(input.created_at),
        updated_at: Timestamp(input.created_at),
        waiting_since: None,
        state: ConversationState::Open,
        priority: ConversationPriority::None,
        admin_assignee: None,
        team_assignee: None,
        contacts: Vec::new(),
        tags: Vec::new(),
        attributes: BTreeMap::new(),
        parts,
        parts_total: input.parts_total,
    };
    let html = transcript_html(&conversation, &bot, &input.rule, None);
    assert!(html.contains("conversation parts retrieved"), "completeness line always present");
    let esc = CONFIG.escalation.as_ref().expect("an escalation section");
    for p in &conversation.parts {
        let _ = part_html(p, None);
        let _ = part_html(p, Some(None));
        let _ = follow_up_for(p, &bot, esc);
    }
});
