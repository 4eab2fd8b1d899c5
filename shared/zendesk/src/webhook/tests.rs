//! Tests of signatures and payload parsing.

use super::*;
use chrono::TimeZone;

const SECRET: &[u8] = b"dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap()
}

/// The expected signature computed independently of `sign`.
fn reference_signature(secret: &[u8], ts: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap();
    mac.update(ts.as_bytes());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[test]
fn accepts_a_valid_signature() {
    let ts = "2021-03-25T05:09:27Z";
    let body = br#"{"type":"zen:event-type:ticket.created"}"#;
    let sig = reference_signature(SECRET, ts, body);
    assert_eq!(sign(SECRET, ts, body), sig);
    let now = at("2021-03-25T05:10:00Z");
    assert_eq!(verify_signature(SECRET, Some(ts), body, Some(&sig), now, DEFAULT_MAX_AGE), Ok(()));
}

#[test]
fn secret_is_not_base64_decoded() {
    let ts = "2021-03-25T05:09:27Z";
    let body = b"{}";
    let decoded = base64::engine::general_purpose::STANDARD.decode(SECRET).unwrap();
    let wrong = reference_signature(&decoded, ts, body);
    let now = at("2021-03-25T05:09:30Z");
    assert_eq!(
        verify_signature(SECRET, Some(ts), body, Some(&wrong), now, DEFAULT_MAX_AGE),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn refuses_tampered_body_stale_and_future() {
    let ts = "2021-03-25T05:09:27Z";
    let sig = reference_signature(SECRET, ts, b"{\"a\":1}");
    let ok_now = at("2021-03-25T05:09:30Z");
    assert_eq!(
        verify_signature(SECRET, Some(ts), b"{\"a\":2}", Some(&sig), ok_now, DEFAULT_MAX_AGE),
        Err(SignatureError::Mismatch)
    );
    let late = Utc.with_ymd_and_hms(2021, 3, 25, 5, 15, 0).unwrap();
    assert!(matches!(
        verify_signature(SECRET, Some(ts), b"{\"a\":1}", Some(&sig), late, DEFAULT_MAX_AGE),
        Err(SignatureError::Stale { .. })
    ));
    let early = at("2021-03-25T05:00:00Z");
    assert!(matches!(
        verify_signature(SECRET, Some(ts), b"{\"a\":1}", Some(&sig), early, DEFAULT_MAX_AGE),
        Err(SignatureError::FromTheFuture { .. })
    ));
}

#[test]
fn missing_and_malformed_are_distinct() {
    let now = at("2021-03-25T05:09:30Z");
    let ts = Some("2021-03-25T05:09:27Z");
    assert_eq!(verify_signature(SECRET, ts, b"", None, now, DEFAULT_MAX_AGE), Err(SignatureError::MissingSignature));
    assert_eq!(
        verify_signature(SECRET, None, b"", Some("abc="), now, DEFAULT_MAX_AGE),
        Err(SignatureError::MissingTimestamp)
    );
    assert_eq!(
        verify_signature(SECRET, Some("yesterday"), b"", Some("abc="), now, DEFAULT_MAX_AGE),
        Err(SignatureError::MalformedTimestamp)
    );
    assert_eq!(
        verify_signature(SECRET, ts, b"", Some("!!!"), now, DEFAULT_MAX_AGE),
        Err(SignatureError::MalformedSignature)
    );
    assert_eq!(
        verify_signature(SECRET, ts, b"", Some("YWJj"), now, DEFAULT_MAX_AGE),
        Err(SignatureError::MalformedSignature)
    );
}

#[test]
fn parses_event_subscribed_status_change() {
    let body = br#"{"type":"zen:event-type:ticket.status_changed","account_id":22129848,"id":"c0ffee","time":"2025-01-08T16:45:20.98Z","zendesk_event_version":"2022-11-06","subject":"zen:ticket:5158","detail":{"actor_id":"8447388090494","assignee_id":"0","id":"5158","status":"SOLVED","priority":"HIGH","tags":["a","b"],"via":{"channel":"web_service"},"requester_id":"42","external_id":"intercom:conv:1"},"event":{"current":"SOLVED","previous":"OPEN","meta":{"sequence":{"id":"seq1","position":1}}}}"#;
    let ZendeskEvent::Subscribed(e) = parse_event(body).unwrap() else { panic!("kind") };
    assert_eq!(e.name(), "ticket.status_changed");
    assert_eq!(e.subject, Subject::Ticket(TicketId::new(5158).unwrap()));
    assert_eq!(e.actor_id, UserId::new(8_447_388_090_494).ok());
    assert_eq!(e.account_id.as_deref(), Some("22129848"));
    assert_eq!(e.sequence_id.as_deref(), Some("seq1"));
    assert_eq!(
        e.change,
        Change::StatusChanged { previous: Some(TicketStatus::Open), current: Some(TicketStatus::Solved) }
    );
    let t = e.ticket.unwrap();
    assert_eq!(t.status, Some(TicketStatus::Solved));
    assert_eq!(t.priority, Some(TicketPriority::High));
    assert_eq!(t.assignee_id, None);
    assert_eq!(t.requester_id, UserId::new(42).ok());
    assert_eq!(t.via_channel.as_deref(), Some("web_service"));
}

#[test]
fn parses_comment_tags_merge_and_user_events() {
    let comment = br#"{"type":"zen:event-type:ticket.comment_added","id":"1","subject":"zen:ticket:9","detail":{"id":"9","actor_id":"5"},"event":{"comment":{"id":"77","body":"Hi","is_public":true,"author":{"id":"5","is_staff":true,"name":"Agent"}}}}"#;
    let ZendeskEvent::Subscribed(e) = parse_event(comment).unwrap() else { panic!("kind") };
    let Change::CommentAdded(c) = &e.change else { panic!("change") };
    assert!(c.is_public);
    assert_eq!(c.author_id, UserId::new(5).ok());
    assert_eq!(c.body.as_deref(), Some("Hi"));

    let tags = br#"{"type":"zen:event-type:ticket.tags_changed","id":"2","subject":"zen:ticket:9","detail":{"id":"9"},"event":{"tags_added":["x"],"tags_removed":["y"]}}"#;
    let ZendeskEvent::Subscribed(e) = parse_event(tags).unwrap() else { panic!("kind") };
    assert_eq!(e.change, Change::TagsChanged { added: vec!["x".into()], removed: vec!["y".into()] });

    let merged = br#"{"type":"zen:event-type:ticket.merged","id":"3","subject":"zen:ticket:9","detail":{"id":"9"},"event":{"target_ticket_id":"12"}}"#;
    let ZendeskEvent::Subscribed(e) = parse_event(merged).unwrap() else { panic!("kind") };
    assert_eq!(e.change, Change::Merged { target: TicketId::new(12).ok() });

    let user = br#"{"type":"zen:event-type:user.custom_field_changed","id":"4","subject":"zen:user:31","detail":{"id":"31","email":"a@b.c","organization_id":"0","role":"END_USER"},"event":{"field":{"id":"1","key":"plan","title":"Plan"},"current":"pro","previous":"free"}}"#;
    let ZendeskEvent::Subscribed(e) = parse_event(user).unwrap() else { panic!("kind") };
    assert_eq!(e.subject, Subject::User(UserId::new(31).unwrap()));
    let u = e.user.clone().unwrap();
    assert_eq!(u.organization_id, None);
    assert!(matches!(&e.change, Change::FieldChanged { field: Some(f), .. } if f == "plan"));
}

#[test]
fn parses_trigger_template_defensively() {
    let body = br#"{"kind":"ticket_trigger","ticket_id":"5158","status":"Open","external_id":"{{ticket.external_id}}","updated_by":"42","via":"Web Service","tags":"intercom  vip plan_pro","latest_public_comment":""}"#;
    let ZendeskEvent::Trigger(t) = parse_event(body).unwrap() else { panic!("kind") };
    assert_eq!(t.ticket_id, TicketId::new(5158).unwrap());
    assert_eq!(t.status, Some(TicketStatus::Open));
    assert_eq!(t.external_id, None);
    assert_eq!(t.updated_by, UserId::new(42).ok());
    assert_eq!(t.tags, vec!["intercom", "vip", "plan_pro"]);
    assert_eq!(t.latest_public_comment, None);
    let numeric = br#"{"ticket_id":12,"status":"ON-HOLD"}"#;
    let ZendeskEvent::Trigger(t) = parse_event(numeric).unwrap() else { panic!("kind") };
    assert_eq!(t.status, Some(TicketStatus::Hold));
}

#[test]
fn rejects_garbage_without_panicking() {
    for body in [
        &b""[..],
        b"null",
        b"[]",
        b"{",
        b"{}",
        br#"{"ticket_id":"abc"}"#,
        br#"{"ticket_id":"{{ticket.id}}"}"#,
        br#"{"type":"zen:event-type:ticket.created"}"#,
        &[0xff, 0xfe][..],
    ] {
        assert!(parse_event(body).is_err(), "{:?}", String::from_utf8_lossy(body));
    }
    // A well-formed envelope with hostile detail still parses.
    let odd = br#"{"type":"zen:event-type:ticket.status_changed","id":"x","subject":"zen:ticket:-1","detail":{"id":[1],"tags":5},"event":{"current":{"x":1}}}"#;
    assert!(parse_event(odd).is_ok());
}

#[test]
fn a_teams_own_trigger_body_is_read_for_its_ticket_id_under_the_usual_keys() {
    let cases = [
        (r#"{"ticket_id":"41"}"#, 41),
        (r#"{"ticketId":42,"note":"for another tool"}"#, 42),
        (r#"{"ticketID":"43"}"#, 43),
        (r#"{"ticket":{"id":44,"status":"Open"}}"#, 44),
        (r#"{"id":"45","subject":"x"}"#, 45),
        // Our own key wins over a bare id.
        (r#"{"id":"1","ticket_id":"46"}"#, 46),
    ];
    for (body, id) in cases {
        match parse_event(body.as_bytes()) {
            Ok(ZendeskEvent::Trigger(t)) => assert_eq!(t.ticket_id.get(), id, "{body}"),
            other => panic!("{body}: {other:?}"),
        }
    }
    assert_eq!(parse_event(br#"{"hello":"world"}"#), Err(ParseError::UnknownShape));
    assert_eq!(parse_event(br#"{"ticket":{"id":"{{ticket.id}}"}}"#), Err(ParseError::UnknownShape), "unrendered");
    assert_eq!(parse_event(br#"{"ticketId":"abc"}"#), Err(ParseError::InvalidId("ticketId")));
}
