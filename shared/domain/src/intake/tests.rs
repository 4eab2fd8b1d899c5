#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use super::*;
use crate::config::Config;
use crate::ids::{AdminId, CompanyId, ContactId, TicketId, UserId};
use crate::model::{FieldValue, MessageChannel, SlaTarget, TicketPriority, TicketStatus, Timestamp};

const NOW: Timestamp = Timestamp(1_800_000_000);
const HOUR: i64 = 3600;

/// The routing table of the issue: plans, a segment, a health score, a monthly spend.
const CONFIG: &str = r#"
version: 1
intercom: { bot_admin_id: "9" }
routing:
  plan_tiers: [enterprise, pro, starter]
  max_attribute_age_hours: 720
  default: { group_id: 1, priority: normal }
  rules:
    - name: vip segment
      when: { segment: [VIP] }
      group_id: 50
      priority: urgent
      tags: [vip]
    - name: enterprise at risk
      when: { plan: [enterprise], health_score_below: 40 }
      group_id: 60
      priority: urgent
      assignee_id: 7
    - name: enterprise
      when: { plan: [Enterprise] }
      group_id: 10
      priority: high
    - name: pro big spender
      when: { plan: [pro], monthly_spend_at_least: 1000 }
      group_id: 20
      priority: high
    - name: pro
      when: { plan: [pro] }
      group_id: 20
    - name: starter
      when: { plan: [starter] }
      group_id: 30
      priority: low
acknowledgement:
  channels: [web, email]
  message_type: email
  subject_template: "Request #{ticket_id} received"
  body_template: "We got \"{subject}\" (#{ticket_id}). We reply {sla}."
  sla:
    plans: { enterprise: within 1 hour, pro: within 4 hours }
    default: within 2 business days
"#;

fn config() -> Config {
    Config::from_yaml(CONFIG).unwrap()
}

fn routing() -> RoutingConfig {
    config().routing.unwrap()
}

fn company(id: &str, plan: Option<&str>, spend: Option<f64>, health: Option<f64>, age_hours: i64) -> Company {
    let mut fields = BTreeMap::new();
    if let Some(h) = health {
        fields.insert("health_score".to_string(), FieldValue::Float(h));
    }
    Company {
        id: CompanyId::parse(id).unwrap(),
        name: Some(format!("Company {id}")),
        external_id: Some(format!("ext-{id}")),
        plan: plan.map(str::to_string),
        monthly_spend: spend,
        fields,
        tags: vec![],
        updated_at: Timestamp(NOW.0 - age_hours * HOUR),
    }
}

fn contact(role: &str) -> Contact {
    Contact {
        id: ContactId::parse("c1").unwrap(),
        name: Some("Ada".into()),
        email: Some("ada@example.com".into()),
        phone: None,
        external_id: Some("u-1".into()),
        role: role.into(),
        org_ids: vec![],
        fields: BTreeMap::new(),
        tags: vec![],
        updated_at: Timestamp(NOW.0 - HOUR),
    }
}

fn found(companies: Vec<Company>, segments: &[&str]) -> Lookup {
    Lookup::Found(Box::new(CustomerProfile {
        contact: contact("user"),
        found_by: FoundBy::ExternalId,
        segments: segments.iter().map(|s| s.to_string()).collect(),
        companies,
    }))
}

fn decide(lookup: &Lookup) -> RouteDecision {
    route(lookup, &routing(), NOW)
}

#[test]
fn each_plan_gets_its_route() {
    let table = [
        ("enterprise", Some("enterprise"), Some(10), Some("high")),
        ("pro", Some("pro"), Some(20), None),
        ("starter", Some("starter"), Some(30), Some("low")),
    ];
    for (plan, rule, group, priority) in table {
        let d = decide(&found(vec![company("a", Some(plan), Some(10.0), Some(80.0), 1)], &[]));
        assert_eq!(d.rule.as_deref(), rule, "{plan}");
        assert_eq!(d.action.group_id.map(|g| g.get()), group, "{plan}");
        assert_eq!(d.action.priority.map(|p| p.as_str()), priority, "{plan}");
        assert_eq!(d.flag, None, "{plan}");
        assert_eq!(d.plan.as_deref(), Some(plan));
        assert!(d.reason.contains(&format!("plan {plan}")), "{}", d.reason);
        assert!(d.reason.starts_with("Routed by rule"), "{}", d.reason);
    }
}

#[test]
fn company_attributes_refine_the_plan() {
    let at_risk = decide(&found(vec![company("a", Some("enterprise"), None, Some(25.0), 1)], &[]));
    assert_eq!(at_risk.rule.as_deref(), Some("enterprise at risk"));
    assert_eq!(at_risk.action.assignee_id.map(|u| u.get()), Some(7));
    let big = decide(&found(vec![company("a", Some("pro"), Some(5000.0), None, 1)], &[]));
    assert_eq!(big.rule.as_deref(), Some("pro big spender"));
    assert_eq!(big.action.priority, Some(TicketPriority::High));
}

#[test]
fn segment_match_wins_first() {
    let d = decide(&found(vec![company("a", Some("starter"), None, None, 1)], &["Newsletter", "vip"]));
    assert_eq!(d.rule.as_deref(), Some("vip segment"));
    assert_eq!(d.action.tags, vec!["vip"]);
    assert_eq!(d.action.priority, Some(TicketPriority::Urgent));
    assert!(d.reason.contains("segments Newsletter, vip"), "{}", d.reason);
}

#[test]
fn contact_in_several_companies_is_routed_on_the_highest_tier() {
    let companies = vec![
        company("z-starter", Some("starter"), Some(9000.0), Some(90.0), 1),
        company("b-enterprise", Some("enterprise"), Some(100.0), Some(90.0), 1),
        company("a-pro", Some("pro"), Some(5000.0), Some(90.0), 1),
    ];
    let d = decide(&found(companies.clone(), &[]));
    assert_eq!(d.rule.as_deref(), Some("enterprise"));
    assert_eq!(d.company.as_ref().map(|c| c.as_str()), Some("b-enterprise"));
    assert!(d.reason.contains("chosen by plan tier from 3 companies"), "{}", d.reason);
    // Order of the list does not matter.
    let mut reversed = companies;
    reversed.reverse();
    assert_eq!(decide(&found(reversed, &[])).company, d.company);
}

#[test]
fn same_tier_ties_go_to_spend_then_id() {
    let tiers = vec!["enterprise".to_string(), "pro".to_string()];
    let a = company("a", Some("pro"), Some(10.0), None, 1);
    let b = company("b", Some("pro"), Some(20.0), None, 1);
    let c = company("c", Some("pro"), Some(20.0), None, 1);
    let unknown = company("0", Some("legacy"), Some(99999.0), None, 1);
    let all = [a, c, b, unknown];
    assert_eq!(primary_company(&all, &tiers).unwrap().id.as_str(), "b");
}

#[test]
fn missing_contact_gets_the_flagged_default() {
    let d = decide(&Lookup::NotFound);
    assert_eq!(d.flag, Some(RouteFlag::ContactNotFound));
    assert_eq!(d.action.group_id.map(|g| g.get()), Some(1));
    assert!(d.action.tags.contains(&"routing_unverified".to_string()));
    assert!(d.reason.starts_with("Default route, flagged"), "{}", d.reason);
    let amb = decide(&Lookup::Ambiguous(2));
    assert_eq!(amb.flag.as_ref().map(RouteFlag::code), Some("ambiguous_contact"));
}

#[test]
fn stale_attribute_gets_the_flagged_default() {
    // The enterprise company was last updated 40 days ago (limit 30).
    let d = decide(&found(vec![company("a", Some("enterprise"), None, Some(90.0), 40 * 24)], &[]));
    assert!(matches!(&d.flag, Some(RouteFlag::Stale { attribute, .. }) if attribute == "plan"), "{:?}", d.flag);
    assert_eq!(d.rule, None);
    assert_eq!(d.action.group_id.map(|g| g.get()), Some(1));
    assert!(d.action.tags.contains(&"routing_unverified".to_string()));
    assert!(d.reason.contains("hours old"), "{}", d.reason);
    assert_eq!(d.plan, None, "a stale plan is not used for the SLA either");
}

#[test]
fn missing_attribute_gets_the_flagged_default_unless_another_condition_fails_first() {
    // No plan anywhere: the first plan rule cannot be evaluated.
    let d = decide(&found(vec![company("a", None, None, None, 1)], &[]));
    assert!(matches!(&d.flag, Some(RouteFlag::Missing { attribute, .. }) if attribute == "plan"), "{:?}", d.flag);
    // Enterprise without a health score: "at risk" cannot be told, so no guessing.
    let d = decide(&found(vec![company("a", Some("enterprise"), None, None, 1)], &[]));
    assert!(
        matches!(&d.flag, Some(RouteFlag::Missing { attribute, rule }) if attribute == "health_score" && rule == "enterprise at risk"),
        "{:?}",
        d.flag
    );
    // Pro without a health score: the at-risk rule fails on the plan, so the score is not needed.
    let d = decide(&found(vec![company("a", Some("pro"), Some(10.0), None, 1)], &[]));
    assert_eq!(d.flag, None);
    assert_eq!(d.rule.as_deref(), Some("pro"));
}

#[test]
fn no_rule_matching_gets_the_default_unflagged() {
    let d = decide(&found(vec![company("a", Some("legacy"), Some(1.0), Some(99.0), 1)], &[]));
    assert_eq!(d.rule, None);
    assert_eq!(d.flag, None);
    assert_eq!(d.action, routing().default);
    assert!(d.reason.starts_with("No routing rule matched"), "{}", d.reason);
}

#[test]
fn contact_without_company_uses_the_contact_plan_attribute() {
    let mut c = contact("user");
    c.fields.insert("plan".into(), FieldValue::Text("starter".into()));
    let lookup = Lookup::Found(Box::new(CustomerProfile {
        contact: c,
        found_by: FoundBy::Email,
        segments: vec![],
        companies: vec![],
    }));
    let d = decide(&lookup);
    assert_eq!(d.rule.as_deref(), Some("starter"));
    assert!(d.reason.contains("found by email"), "{}", d.reason);
}

#[test]
fn route_note_carries_reason_and_marker() {
    let d = decide(&Lookup::NotFound);
    let t = TicketId::new(77).unwrap();
    let html = route_note_html(&d, t);
    assert!(html.contains("[bridge-routing:77]"));
    assert!(html.contains("flagged for review"));
}

fn ticket(channel: &str, external_id: Option<&str>) -> Ticket {
    Ticket {
        id: TicketId::new(501).unwrap(),
        subject: Some("Printer <on> fire".into()),
        status: TicketStatus::New,
        priority: None,
        requester_id: None,
        assignee_id: None,
        group_id: None,
        organization_id: None,
        tags: vec![],
        external_id: external_id.map(str::to_string),
        via_channel: Some(channel.into()),
        followup_source_id: None,
        custom_fields: BTreeMap::new(),
        created_at: Timestamp(NOW.0),
        updated_at: Timestamp(NOW.0),
    }
}

fn ack(t: &Ticket, lookup: &Lookup, plan: Option<&str>, sla: Option<&SlaTarget>) -> AckDecision {
    let c = config();
    let origin = bridge_origin(t, &c.zendesk, false, None, None);
    let facts = AckFacts { ticket: t, bridge_origin: origin, lookup, plan, sla };
    acknowledgement(facts, c.acknowledgement.as_ref().unwrap(), &AdminId::parse("9").unwrap())
}

#[test]
fn web_form_ticket_of_a_known_user_is_acknowledged_with_the_plan_sla() {
    let lookup = found(vec![], &[]);
    let AckDecision::Send(m) = ack(&ticket("web", None), &lookup, Some("Enterprise"), None) else {
        panic!("should send");
    };
    assert_eq!(m.to.as_str(), "c1");
    assert_eq!(m.from.as_str(), "9");
    assert_eq!(m.channel, MessageChannel::Email);
    assert_eq!(m.subject.as_deref(), Some("Request #501 received"));
    assert!(m.body.contains("#501") && m.body.contains("within 1 hour"), "{}", m.body);
    assert!(m.body.contains("Printer &lt;on&gt; fire"), "subject escaped: {}", m.body);
    // Unknown plan: the default text.
    let AckDecision::Send(m) = ack(&ticket("email", None), &lookup, None, None) else { panic!() };
    assert!(m.body.contains("within 2 business days"), "{}", m.body);
}

#[test]
fn zendesk_sla_policy_target_wins_over_the_plan_text() {
    let sla = SlaTarget {
        metric: "first_reply_time".into(),
        breach_at: Some(Timestamp(NOW.0 + 2 * HOUR)),
        target_minutes: Some(120),
    };
    let AckDecision::Send(m) = ack(&ticket("web", None), &found(vec![], &[]), Some("pro"), Some(&sla)) else {
        panic!()
    };
    assert!(m.body.contains("within 2 hours (by "), "{}", m.body);
    assert!(!m.body.contains("4 hours"));
}

#[test]
fn no_acknowledgement_for_other_channels_unknown_people_leads_and_escalations() {
    let known = found(vec![], &[]);
    assert!(matches!(ack(&ticket("api", None), &known, None, None), AckDecision::Skip(_)));
    assert!(matches!(ack(&ticket("web_service", None), &known, None, None), AckDecision::Skip(_)));
    assert!(matches!(ack(&ticket("web", None), &Lookup::NotFound, None, None), AckDecision::Skip(_)));
    assert!(matches!(ack(&ticket("web", None), &Lookup::Ambiguous(3), None, None), AckDecision::Skip(_)));
    let escalation = ticket("web", Some("intercom-conversation-42"));
    let AckDecision::Skip(why) = ack(&escalation, &known, None, None) else { panic!() };
    assert!(why.contains("created by the bridge"), "{why}");
    let lead = Lookup::Found(Box::new(CustomerProfile {
        contact: contact("lead"),
        found_by: FoundBy::Email,
        segments: vec![],
        companies: vec![],
    }));
    assert!(matches!(ack(&ticket("web", None), &lead, None, None), AckDecision::Skip(_)));
    let mut c = config();
    c.acknowledgement.as_mut().unwrap().allow_leads = true;
    let t = ticket("web", None);
    let facts = AckFacts { ticket: &t, bridge_origin: None, lookup: &lead, plan: None, sla: None };
    assert!(matches!(
        acknowledgement(facts, c.acknowledgement.as_ref().unwrap(), &AdminId::parse("9").unwrap()),
        AckDecision::Send(_)
    ));
}

#[test]
fn bridge_origin_checks_link_and_own_user() {
    let c = config();
    let t = ticket("web", None);
    let own = UserId::new(5).ok();
    assert!(bridge_origin(&t, &c.zendesk, true, None, own).is_some());
    assert!(bridge_origin(&t, &c.zendesk, false, own, own).is_some());
    assert!(bridge_origin(&t, &c.zendesk, false, UserId::new(6).ok(), own).is_none());
    assert!(bridge_origin(&t, &c.zendesk, false, None, own).is_none());
}

#[test]
fn channels_are_normalised_across_payload_spellings() {
    assert_eq!(normalize_channel("Web form"), "web");
    assert_eq!(normalize_channel("web_form"), "web");
    assert_eq!(normalize_channel("Mail"), "email");
    assert_eq!(normalize_channel("Web Service"), "api");
    assert_eq!(describe_minutes(90), "1 hour 30 minutes");
    assert_eq!(describe_minutes(1440), "1 day");
}

#[test]
fn config_errors_name_the_field() {
    let bad = CONFIG.replace("when: { segment: [VIP] }", "when: {}");
    let e = Config::from_yaml(&bad).unwrap_err();
    assert_eq!(e.field, "routing.rules[0].when");
    let bad = CONFIG.replace("channels: [web, email]", "channels: []");
    assert_eq!(Config::from_yaml(&bad).unwrap_err().field, "acknowledgement.channels");
    let bad = CONFIG.replace("plan_tiers: [enterprise, pro, starter]", "plan_tiers: [pro, Pro]");
    assert_eq!(Config::from_yaml(&bad).unwrap_err().field, "routing.plan_tiers[1]");
    let bad = CONFIG.replace("health_score_below: 40", "health_below: 40");
    let e = Config::from_yaml(&bad).unwrap_err();
    assert!(e.message.contains("health_below"), "{e}");
    assert!(e.line.is_some());
    let custom = CONFIG.replace("  plan_tiers:", "  reason_to: custom_field\n  reason_field_id: 360001\n  plan_tiers:");
    let r = Config::from_yaml(&custom).unwrap().routing.unwrap();
    assert_eq!((r.reason_to, r.reason_field_id), (ReasonTarget::CustomField, Some(360001)));
    let no_field = CONFIG.replace("  plan_tiers:", "  reason_to: custom_field\n  plan_tiers:");
    assert_eq!(Config::from_yaml(&no_field).unwrap_err().field, "routing.reason_field_id");
}

#[test]
fn the_intake_config_examples_are_valid() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/config/");
    for name in ["route-new-tickets-by-intercom-segment.yaml", "acknowledge-web-form-tickets-in-intercom.yaml"] {
        let text = std::fs::read_to_string(format!("{root}{name}")).unwrap();
        let c = Config::from_yaml(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(c.routing.is_some() || c.acknowledgement.is_some(), "{name}");
    }
}
