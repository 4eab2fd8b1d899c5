use super::*;

#[test]
fn assignment_bodies_cover_team_admin_and_unassign() {
    let me = AdminId::parse("1").unwrap();
    let team = TeamId::parse("7").unwrap();
    let b = assignment_bodies(&me, None, Some(&team));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["type"], "team");
    assert_eq!(b[0]["assignee_id"], "7");
    let b = assignment_bodies(&me, None, None);
    assert_eq!(b[0]["assignee_id"], "0");
}

#[test]
fn contact_write_skips_absent_fields() {
    let mut w = ContactWrite { email: Some("a@example.com".into()), ..Default::default() };
    w.custom_attributes.insert("plan".into(), FieldValue::Text("pro".into()));
    let v = contact_json(&w).unwrap();
    assert_eq!(v, json!({"email": "a@example.com", "custom_attributes": {"plan": "pro"}}));
}
