#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bridge_domain::attachments::{MB, SkipReason, ToIntercomAttachments};
use bridge_domain::ids::PartId;
use bridge_domain::model::*;

use super::*;
use crate::fakes::TestPorts;

const CONFIG: &str = r#"
version: 1
intercom: { bot_admin_id: "9" }
escalation:
  rules:
    - { name: tagged, when: { tag_added: escalate } }
  attachments: { max_file_mb: 1 }
"#;

fn file(name: &str, size: Option<u64>) -> Attachment {
    Attachment { name: name.into(), url: format!("https://cdn.example/{name}"), content_type: None, size }
}

fn part_with(files: Vec<Attachment>) -> Part {
    Part {
        id: PartId::parse("p1").unwrap(),
        kind: PartKind::Comment,
        author: Author { role: AuthorRole::User, id: Some("c1".into()), name: None, email: None },
        body: Some("see attached".into()),
        created_at: Timestamp(1),
        attachments: files,
        app_package_code: None,
    }
}

#[tokio::test]
async fn a_parts_files_are_uploaded_and_the_rest_named() {
    let p = TestPorts::new(CONFIG);
    p.intercom.files.lock().unwrap().insert("https://cdn.example/shot.png".into(), b"png!".to_vec());
    p.intercom.files.lock().unwrap().insert("https://cdn.example/big.bin".into(), vec![0; 2 * MB as usize]);
    let part = part_with(vec![
        file("shot.png", Some(4)),
        file("report.zip", Some(62 * MB)),
        file("gone.pdf", None),
        file("big.bin", None),
    ]);
    let carried = part_to_zendesk(&p.ports(), &part).await.unwrap().unwrap();
    assert_eq!(carried.tokens.len(), 1);
    assert_eq!(carried.report.attached, vec!["shot.png".to_string()]);
    let uploaded = p.zendesk.uploads.lock().unwrap().clone();
    assert_eq!(uploaded[carried.tokens[0].as_str()].bytes, b"png!");
    let reasons: Vec<(&str, &SkipReason)> =
        carried.report.skipped.iter().map(|s| (s.name.as_str(), &s.reason)).collect();
    assert_eq!(
        reasons,
        vec![
            ("report.zip", &SkipReason::TooLarge { size: 62 * MB, limit: MB }),
            ("gone.pdf", &SkipReason::Unavailable),
            ("big.bin", &SkipReason::TooLarge { size: 2 * MB, limit: MB }),
        ]
    );
    assert_eq!(p.zendesk.uploads.lock().unwrap().len(), 1, "nothing skipped was uploaded");
}

#[tokio::test]
async fn uploads_off_keep_the_links() {
    let p = TestPorts::new(&CONFIG.replace("{ max_file_mb: 1 }", "{ upload: false }"));
    let part = part_with(vec![file("shot.png", Some(4))]);
    assert_eq!(part_to_zendesk(&p.ports(), &part).await.unwrap(), None);
    assert!(p.zendesk.uploads.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_comments_files_are_fetched_within_the_count_and_size_limits() {
    let p = TestPorts::new(CONFIG);
    let attachment = |id: u64, name: &str, size: u64| TicketAttachment {
        id: bridge_domain::ids::AttachmentId::new(id).ok(),
        file_name: name.into(),
        content_url: format!("https://acme.zendesk.com/attachments/{id}"),
        content_type: Some("text/plain".into()),
        size: Some(size),
        inline: false,
    };
    for id in 1..=3 {
        p.zendesk.files.lock().unwrap().insert(format!("https://acme.zendesk.com/attachments/{id}"), vec![b'x'; 3]);
    }
    let comment = TicketComment {
        id: None,
        html_body: "<p>logs</p>".into(),
        public: true,
        author_id: None,
        created_at: None,
        uploads: Vec::new(),
        attachments: vec![attachment(1, "a.txt", 3), attachment(2, "huge.iso", 11 * MB), attachment(3, "c.txt", 3)],
    };
    let cfg = ToIntercomAttachments { max_files: 1, ..Default::default() };
    let (files, skipped) = comment_to_intercom(&p.zendesk, &cfg, &comment).await.unwrap();
    assert_eq!(files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), vec!["a.txt"]);
    assert_eq!(
        bridge_domain::attachments::not_attached_text(&skipped).unwrap(),
        "Not attached: huge.iso (11 MB, over the 10 MB limit); c.txt (over the limit of 1 files per message)"
    );
    // A total of 1 MB: the second small file no longer fits once the first is downloaded.
    for id in 4..=5 {
        p.zendesk
            .files
            .lock()
            .unwrap()
            .insert(format!("https://acme.zendesk.com/attachments/{id}"), vec![b'y'; 600 * 1024]);
    }
    let mut unsized_files = comment.clone();
    unsized_files.attachments = vec![attachment(4, "d.log", 0), attachment(5, "e.log", 0)];
    for a in &mut unsized_files.attachments {
        a.size = None;
    }
    let tight = ToIntercomAttachments { max_total_mb: 1, ..Default::default() };
    let (files, skipped) = comment_to_intercom(&p.zendesk, &tight, &unsized_files).await.unwrap();
    assert_eq!(files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), vec!["d.log"]);
    assert_eq!(
        bridge_domain::attachments::not_attached_text(&skipped).unwrap(),
        "Not attached: e.log (over the 1 MB per message)"
    );

    let off = ToIntercomAttachments { upload: false, ..Default::default() };
    let (files, skipped) = comment_to_intercom(&p.zendesk, &off, &comment).await.unwrap();
    assert!(files.is_empty());
    assert_eq!(skipped.len(), 3);
}
