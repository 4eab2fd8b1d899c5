//! The search query language (`POST /contacts/search`, `POST /conversations/search`).
//!
//! Documents are flattened to `field -> value` maps. Contact date fields compare by calendar
//! day (UTC workspace) and accept only `=`, `<`, `>` as 2.16 does; conversation `>`/`<` are
//! inclusive as Intercom's conversation search docs say.

use std::collections::BTreeMap;

use serde_json::Value;

use super::state::{Contact, Conversation, State};

/// What is being searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// Contacts.
    Contacts,
    /// Conversations.
    Conversations,
}

const CONTACT_DATES: &[&str] =
    &["created_at", "updated_at", "signed_up_at", "last_seen_at", "last_contacted_at", "last_replied_at"];

/// A flattened document.
pub type Doc = BTreeMap<String, Value>;

/// The searchable fields of a contact.
pub fn contact_doc(c: &Contact) -> Doc {
    let mut d = Doc::new();
    d.insert("id".into(), Value::from(c.id.clone()));
    d.insert("role".into(), Value::from(c.role.clone()));
    d.insert("email".into(), c.email.clone().map(Value::from).unwrap_or(Value::Null));
    d.insert("external_id".into(), c.external_id.clone().map(Value::from).unwrap_or(Value::Null));
    d.insert("name".into(), c.name.clone().map(Value::from).unwrap_or(Value::Null));
    d.insert("phone".into(), c.phone.clone().map(Value::from).unwrap_or(Value::Null));
    d.insert("created_at".into(), Value::from(c.created_at));
    d.insert("updated_at".into(), Value::from(c.updated_at));
    d.insert("signed_up_at".into(), c.signed_up_at.map(Value::from).unwrap_or(Value::Null));
    d.insert("last_seen_at".into(), c.last_seen_at.map(Value::from).unwrap_or(Value::Null));
    d.insert("tag_id".into(), Value::from(c.tag_ids.clone()));
    d.insert("company_id".into(), Value::from(c.company_ids.clone()));
    for (k, v) in &c.custom_attributes {
        d.insert(format!("custom_attributes.{k}"), v.clone());
    }
    d
}

/// The searchable fields of a conversation.
pub fn conversation_doc(st: &State, c: &Conversation) -> Doc {
    let mut d = Doc::new();
    let num = |s: &Option<String>| {
        s.as_deref().and_then(|x| x.parse::<i64>().ok()).map(Value::from).unwrap_or(Value::from(0))
    };
    d.insert("id".into(), Value::from(c.id.clone()));
    d.insert("created_at".into(), Value::from(c.created_at));
    d.insert("updated_at".into(), Value::from(c.updated_at));
    d.insert("state".into(), Value::from(c.state.clone()));
    d.insert("open".into(), Value::from(c.state != "closed"));
    d.insert("read".into(), Value::from(c.read));
    d.insert("priority".into(), Value::from(c.priority.clone()));
    d.insert("admin_assignee_id".into(), num(&c.admin_assignee_id));
    d.insert("team_assignee_id".into(), num(&c.team_assignee_id));
    d.insert("tag_ids".into(), Value::from(c.tags.iter().map(|t| t.id.clone()).collect::<Vec<_>>()));
    d.insert("contact_ids".into(), Value::from(c.contact_ids.clone()));
    d.insert("waiting_since".into(), c.waiting_since.map(Value::from).unwrap_or(Value::Null));
    d.insert("snoozed_until".into(), c.snoozed_until.map(Value::from).unwrap_or(Value::Null));
    d.insert("source.id".into(), Value::from(c.source.id.clone()));
    d.insert("source.type".into(), Value::from(c.source.kind.clone()));
    d.insert("source.delivered_as".into(), Value::from(c.source.delivered_as.clone()));
    d.insert("source.body".into(), Value::from(c.source.body.clone()));
    d.insert("source.subject".into(), Value::from(c.source.subject.clone()));
    let author_email =
        st.contacts.get(&c.source.author.id).and_then(|p| p.email.clone()).or(c.source.author.email.clone());
    d.insert("source.author.email".into(), author_email.map(Value::from).unwrap_or(Value::Null));
    if let Some(r) = &c.rating {
        d.insert("conversation_rating.score".into(), Value::from(r.rating));
        d.insert("conversation_rating.rating".into(), Value::from(r.rating));
        d.insert("conversation_rating.remark".into(), r.remark.clone().map(Value::from).unwrap_or(Value::Null));
        d.insert("conversation_rating.requested_at".into(), Value::from(r.created_at));
        d.insert("conversation_rating.replied_at".into(), Value::from(r.updated_at));
        d.insert("conversation_rating.contact_id".into(), Value::from(r.contact_id.clone()));
        d.insert("conversation_rating.admin_id".into(), r.teammate_id.clone().map(Value::from).unwrap_or(Value::Null));
    }
    for (k, v) in &c.custom_attributes {
        d.insert(format!("custom_attributes.{k}"), v.clone());
    }
    d
}

/// Evaluates `query` on `doc`. `Err` carries a message for a 400 `parameter_invalid`.
pub fn matches(model: Model, query: &Value, doc: &Doc) -> Result<bool, String> {
    eval(model, query, doc, 0)
}

fn eval(model: Model, q: &Value, doc: &Doc, depth: usize) -> Result<bool, String> {
    let op = q.get("operator").and_then(Value::as_str).ok_or("query operator missing")?;
    match op {
        "AND" | "OR" => {
            if depth >= 2 {
                return Err("queries may nest at most two levels".into());
            }
            let subs = q.get("value").and_then(Value::as_array).ok_or("AND/OR value must be a list")?;
            if subs.len() > 15 {
                return Err("at most 15 filters per group".into());
            }
            let mut results = Vec::with_capacity(subs.len());
            for s in subs {
                results.push(eval(model, s, doc, depth + 1)?);
            }
            Ok(if op == "AND" { results.iter().all(|b| *b) } else { results.iter().any(|b| *b) })
        }
        _ => filter(model, op, q, doc),
    }
}

fn as_num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    if a.is_null() || b.is_null() {
        return a.is_null() && b.is_null();
    }
    match (as_num(a), as_num(b)) {
        (Some(x), Some(y)) if !(a.is_string() && b.is_string()) => x == y,
        _ => as_text(a) == as_text(b),
    }
}

fn day(v: &Value) -> Option<i64> {
    as_num(v).map(|s| (s as i64).div_euclid(86_400))
}

fn filter(model: Model, op: &str, q: &Value, doc: &Doc) -> Result<bool, String> {
    let field = q.get("field").and_then(Value::as_str).ok_or("filter field missing")?;
    let target = q.get("value").cloned().unwrap_or(Value::Null);
    let actual = doc.get(field).cloned().unwrap_or(Value::Null);
    let is_date = model == Model::Contacts && CONTACT_DATES.contains(&field);
    if is_date {
        return date_filter(op, &actual, &target, field);
    }
    let inclusive = model == Model::Conversations;
    let values: Vec<Value> = match &actual {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let any = |f: &dyn Fn(&Value) -> bool| values.iter().any(f);
    let num_cmp = |f: &dyn Fn(f64, f64) -> bool| {
        let t = as_num(&target);
        values.iter().any(|v| matches!((as_num(v), t), (Some(a), Some(b)) if f(a, b)))
    };
    let text = |f: &dyn Fn(&str, &str) -> bool| {
        let t = as_text(&target).unwrap_or_default();
        values.iter().any(|v| as_text(v).is_some_and(|a| f(&a, &t)))
    };
    let list = || target.as_array().cloned().ok_or_else(|| format!("{op} needs a list value"));
    Ok(match op {
        "=" => any(&|v| equal(v, &target)),
        "!=" => !any(&|v| equal(v, &target)),
        "IN" => {
            let l = list()?;
            any(&|v| l.iter().any(|t| equal(v, t)))
        }
        "NIN" => {
            let l = list()?;
            !any(&|v| l.iter().any(|t| equal(v, t)))
        }
        ">" if inclusive => num_cmp(&|a, b| a >= b),
        "<" if inclusive => num_cmp(&|a, b| a <= b),
        ">" => num_cmp(&|a, b| a > b),
        "<" => num_cmp(&|a, b| a < b),
        ">=" => num_cmp(&|a, b| a >= b),
        "<=" => num_cmp(&|a, b| a <= b),
        "~" => text(&|a, t| a.contains(t)),
        "!~" => !text(&|a, t| a.contains(t)),
        "^" => text(&|a, t| a.starts_with(t)),
        "$" => text(&|a, t| a.ends_with(t)),
        other => return Err(format!("unsupported operator {other}")),
    })
}

fn date_filter(op: &str, actual: &Value, target: &Value, field: &str) -> Result<bool, String> {
    let t = day(target).ok_or_else(|| format!("{field} needs a timestamp value"))?;
    let Some(a) = day(actual) else {
        return Ok(false);
    };
    match op {
        "=" => Ok(a == t),
        ">" => Ok(a > t),
        "<" => Ok(a < t),
        other => Err(format!("operator {other} is not supported on date field {field}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Doc {
        let c = Contact {
            id: "c1".into(),
            role: "user".into(),
            email: Some("Ann@Example.com".into()),
            updated_at: 1_700_000_000,
            tag_ids: vec!["5".into()],
            ..Default::default()
        };
        contact_doc(&c)
    }

    #[test]
    fn operators_and_groups() {
        let d = doc();
        let m = |q: Value| matches(Model::Contacts, &q, &d).unwrap();
        assert!(m(json!({"field": "email", "operator": "=", "value": "ann@example.com"})));
        assert!(m(json!({"field": "email", "operator": "~", "value": "example"})));
        assert!(m(json!({"field": "tag_id", "operator": "=", "value": "5"})));
        assert!(m(json!({"field": "role", "operator": "IN", "value": ["lead", "user"]})));
        assert!(!m(json!({"operator": "AND", "value": [
            {"field": "role", "operator": "=", "value": "user"}, {"field": "email", "operator": "!=", "value": "ann@example.com"}]})));
        assert!(m(json!({"operator": "OR", "value": [
            {"field": "role", "operator": "=", "value": "lead"}, {"field": "email", "operator": "$", "value": ".com"}]})));
    }

    #[test]
    fn conversation_time_ranges_are_inclusive_and_skip_nulls() {
        let st = State::default();
        let conv = |waiting_since: Option<i64>| Conversation {
            id: "1".into(),
            state: "open".into(),
            updated_at: 500,
            waiting_since,
            ..Default::default()
        };
        let window = json!({"operator": "AND", "value": [
            {"field": "state", "operator": "=", "value": "open"},
            {"field": "waiting_since", "operator": ">", "value": 100},
            {"field": "waiting_since", "operator": "<", "value": 200}]});
        let m = |c: &Conversation| matches(Model::Conversations, &window, &conversation_doc(&st, c)).unwrap();
        assert!(m(&conv(Some(100))) && m(&conv(Some(150))) && m(&conv(Some(200))));
        assert!(!m(&conv(Some(99))) && !m(&conv(Some(201))) && !m(&conv(None)));
    }

    #[test]
    fn contact_dates_truncate_to_the_day() {
        let d = doc();
        // Later the same day: `>` an earlier time of the same day does not match.
        let same_day_earlier = 1_700_000_000 - 60;
        assert!(
            !matches(Model::Contacts, &json!({"field": "updated_at", "operator": ">", "value": same_day_earlier}), &d)
                .unwrap()
        );
        assert!(
            matches(Model::Contacts, &json!({"field": "updated_at", "operator": "=", "value": same_day_earlier}), &d)
                .unwrap()
        );
        assert!(matches(Model::Contacts, &json!({"field": "updated_at", "operator": ">=", "value": 1}), &d).is_err());
    }
}
