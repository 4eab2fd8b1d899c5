use super::*;
use serde_json::json;

#[test]
fn pages_next_in_every_shape() {
    let p: Pages = serde_json::from_value(json!({"per_page": "5", "next": {"starting_after": "abc"}})).unwrap();
    assert_eq!(p.per_page, Some(5));
    assert_eq!(p.next_cursor().as_deref(), Some("abc"));
    let p: Pages = serde_json::from_value(json!({"next": null})).unwrap();
    assert_eq!(p.next_cursor(), None);
    let p: Pages = serde_json::from_value(json!({"next": {}})).unwrap();
    assert_eq!(p.next_cursor(), None);
    assert!(!p.has_next_page());
    let p: Pages =
        serde_json::from_value(json!({"page": 1, "next": "https://api.intercom.io/companies?page=2"})).unwrap();
    assert_eq!(p.next_cursor(), None);
    assert!(p.has_next_page());
    let p: Pages = serde_json::from_value(json!({"page": 2, "total_pages": 3})).unwrap();
    assert!(p.has_next_page());
}

#[test]
fn conversation_tolerates_odd_shapes() {
    let c: Conversation = serde_json::from_value(json!({
        "id": 215472621202693_u64, "admin_assignee_id": 0, "team_assignee_id": "5017691",
        "created_at": "1700000000", "tags": null, "source": {"author": null}, "unknown": [1],
        "custom_attributes": null, "conversation_parts": {"conversation_parts": [], "total_count": "3"}
    }))
    .unwrap();
    assert_eq!(c.id, "215472621202693");
    assert_eq!(c.admin_assignee_id, None);
    assert_eq!(c.team_assignee_id.as_deref(), Some("5017691"));
    assert_eq!(c.created_at, Some(1_700_000_000));
    assert_eq!(c.conversation_parts.and_then(|p| p.total_count), Some(3));
}

#[test]
fn plan_as_object_or_string() {
    let c: Company =
        serde_json::from_value(json!({"id": "1", "plan": {"type": "plan", "id": "9", "name": "Pro"}})).unwrap();
    assert_eq!(c.plan_name().as_deref(), Some("Pro"));
    let c: Company = serde_json::from_value(json!({"id": "1", "plan": "Basic"})).unwrap();
    assert_eq!(c.plan_name().as_deref(), Some("Basic"));
    let c: Company = serde_json::from_value(json!({"id": "1", "plan": {}})).unwrap();
    assert_eq!(c.plan_name(), None);
}
