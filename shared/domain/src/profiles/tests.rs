#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn mapping(yaml: &str) -> ProfilesConfig {
    let c: ProfilesConfig = serde_norway::from_str(yaml).unwrap();
    c.validate().unwrap();
    c
}

const CONFIG: &str = r#"
contacts:
  fields:
    - { intercom: name, zendesk: name }
    - { intercom: phone, zendesk: phone }
    - { intercom: custom_attributes.plan, zendesk: user_fields.plan, type: dropdown, options: [free, pro, enterprise] }
    - { intercom: custom_attributes.seats, zendesk: user_fields.seats, type: number }
    - { intercom: custom_attributes.vip, zendesk: user_fields.vip, type: boolean }
    - { intercom: custom_attributes.renewal, zendesk: user_fields.renewal, type: date }
    - { intercom: custom_attributes.tier, zendesk: user_fields.tier, direction: intercom_to_zendesk }
    - { intercom: custom_attributes.csm, zendesk: user_fields.csm, direction: zendesk_to_intercom }
    - { intercom: custom_attributes.region, zendesk: user_fields.region, owner: zendesk }
    - { intercom: custom_attributes.notes, zendesk: user_fields.notes, nulls: clear }
conflicts: { skew_seconds: 5 }
"#;

fn person(side: Vendor, id: &str, updated: i64, values: &[(&str, FieldValue)]) -> Profile {
    Profile {
        side,
        kind: Kind::Person,
        id: id.into(),
        values: values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        orgs: vec![],
        role: None,
        updated_at: Timestamp(updated),
    }
}

fn t(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}

fn base(pairs: &[(&str, FieldValue)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), value_key(v))).collect()
}

#[test]
fn casts_each_type() {
    let opts = vec!["free".to_string(), "pro".to_string(), "enterprise_plus".to_string()];
    let table: Vec<(FieldType, FieldValue, Result<FieldValue, CastError>)> = vec![
        (FieldType::String, FieldValue::Int(42), Ok(t("42"))),
        (FieldType::String, FieldValue::Bool(true), Ok(t("true"))),
        (FieldType::String, t("  "), Ok(FieldValue::Null)),
        (FieldType::Number, t("12"), Ok(FieldValue::Int(12))),
        (FieldType::Number, t("12.5"), Ok(FieldValue::Float(12.5))),
        (FieldType::Number, FieldValue::Float(3.0), Ok(FieldValue::Int(3))),
        (FieldType::Number, t("many"), Err(CastError::NotNumber)),
        (FieldType::Number, FieldValue::Bool(true), Err(CastError::NotNumber)),
        (FieldType::Boolean, t("Yes"), Ok(FieldValue::Bool(true))),
        (FieldType::Boolean, FieldValue::Int(0), Ok(FieldValue::Bool(false))),
        (FieldType::Boolean, t("maybe"), Err(CastError::NotBoolean)),
        (FieldType::Date, FieldValue::Int(1_767_225_600), Ok(t("2026-01-01"))),
        (FieldType::Date, t("2026-01-01T10:00:00Z"), Ok(t("2026-01-01"))),
        (FieldType::Date, t("01/02/2026"), Err(CastError::NotDate)),
        (FieldType::Dropdown, t("Pro"), Ok(t("pro"))),
        (FieldType::Dropdown, t("Enterprise Plus"), Ok(t("enterprise_plus"))),
        (FieldType::Dropdown, t("gold"), Err(CastError::NotAnOption)),
        (FieldType::Dropdown, FieldValue::Null, Ok(FieldValue::Null)),
    ];
    for (ty, raw, want) in table {
        assert_eq!(canonical(ty, &opts, &raw), want, "{ty:?} {raw:?}");
    }
    assert_eq!(to_side(FieldType::Date, Vendor::Intercom, &t("2026-01-01")), FieldValue::Int(1_767_225_600));
    assert_eq!(to_side(FieldType::Date, Vendor::Zendesk, &t("2026-01-01")), t("2026-01-01"));
}

#[test]
fn one_side_changed_flows_each_way_with_casts() {
    let c = mapping(CONFIG);
    let b = base(&[("name", t("Ada")), ("custom_attributes.seats", FieldValue::Int(5))]);
    // Intercom changed the name; Zendesk changed seats (as text) — both flow, each to the other.
    let ic =
        person(Vendor::Intercom, "c1", 100, &[("name", t("Ada L")), ("custom_attributes.seats", FieldValue::Int(5))]);
    let zd = person(Vendor::Zendesk, "9", 200, &[("name", t("Ada")), ("user_fields.seats", t("7"))]);
    let p = plan(&c.contacts, &c.conflicts, &ic, &zd, &b, Timestamp(300));
    assert_eq!(p.zendesk.values.get("name"), Some(&t("Ada L")));
    assert_eq!(p.intercom.values.get("custom_attributes.seats"), Some(&FieldValue::Int(7)));
    let rules: Vec<(String, Rule, Option<Vendor>)> =
        p.audit.iter().map(|a| (a.field.clone(), a.rule, a.winner)).collect();
    assert!(rules.contains(&("name".into(), Rule::OneSideChanged, Some(Vendor::Intercom))));
    assert!(rules.contains(&("custom_attributes.seats".into(), Rule::OneSideChanged, Some(Vendor::Zendesk))));
    assert_eq!(p.baseline.get("name"), Some(&value_key(&t("Ada L"))));
}

#[test]
fn dates_and_booleans_convert_to_each_sides_form() {
    let c = mapping(CONFIG);
    let ic = person(
        Vendor::Intercom,
        "c1",
        100,
        &[
            ("custom_attributes.renewal", FieldValue::Int(1_767_225_600)),
            ("custom_attributes.vip", FieldValue::Bool(true)),
        ],
    );
    let zd = person(Vendor::Zendesk, "9", 50, &[]);
    let p = plan(&c.contacts, &c.conflicts, &ic, &zd, &BTreeMap::new(), Timestamp(300));
    assert_eq!(p.zendesk.values.get("user_fields.renewal"), Some(&t("2026-01-01")));
    assert_eq!(p.zendesk.values.get("user_fields.vip"), Some(&FieldValue::Bool(true)));
    assert!(p.audit.iter().all(|a| a.rule == Rule::Fill));
    // And back: a Zendesk date lands on Intercom as Unix seconds.
    let ic = person(Vendor::Intercom, "c1", 100, &[]);
    let zd = person(Vendor::Zendesk, "9", 50, &[("user_fields.renewal", t("2026-01-01"))]);
    let p = plan(&c.contacts, &c.conflicts, &ic, &zd, &BTreeMap::new(), Timestamp(300));
    assert_eq!(p.intercom.values.get("custom_attributes.renewal"), Some(&FieldValue::Int(1_767_225_600)));
}

#[test]
fn dropdown_value_outside_the_options_is_not_written_and_is_audited() {
    let c = mapping(CONFIG);
    let ic = person(Vendor::Intercom, "c1", 100, &[("custom_attributes.plan", t("gold"))]);
    let zd = person(Vendor::Zendesk, "9", 50, &[("user_fields.plan", t("pro"))]);
    let p = plan(&c.contacts, &c.conflicts, &ic, &zd, &BTreeMap::new(), Timestamp(300));
    assert!(p.zendesk.values.is_empty() && p.intercom.values.is_empty());
    assert_eq!(p.audit[0].rule, Rule::CastFailed);
    assert_eq!(p.audit[0].intercom, t("gold"));
}

#[test]
fn direction_restricts_flow() {
    let c = mapping(CONFIG);
    let b = base(&[("custom_attributes.tier", t("a")), ("custom_attributes.csm", t("x"))]);
    // Zendesk changed tier (IC->ZD only): Intercom's value is restored on Zendesk.
    // Intercom changed csm (ZD->IC only): Zendesk's value is restored on Intercom.
    let ic =
        person(Vendor::Intercom, "c1", 100, &[("custom_attributes.tier", t("a")), ("custom_attributes.csm", t("y"))]);
    let zd = person(Vendor::Zendesk, "9", 200, &[("user_fields.tier", t("b")), ("user_fields.csm", t("x"))]);
    let p = plan(&c.contacts, &c.conflicts, &ic, &zd, &b, Timestamp(300));
    assert_eq!(p.zendesk.values.get("user_fields.tier"), Some(&t("a")));
    assert_eq!(p.intercom.values.get("custom_attributes.csm"), Some(&t("x")));
    assert!(p.audit.iter().all(|a| a.rule == Rule::Direction));
}

#[test]
fn conflicts_owner_newest_and_tie() {
    let c = mapping(CONFIG);
    let b = base(&[("custom_attributes.region", t("eu")), ("name", t("Ada"))]);
    let both = |ic_at: i64, zd_at: i64| {
        let ic = person(Vendor::Intercom, "c1", ic_at, &[("custom_attributes.region", t("us")), ("name", t("Ada I"))]);
        let zd = person(Vendor::Zendesk, "9", zd_at, &[("user_fields.region", t("apac")), ("name", t("Ada Z"))]);
        plan(&c.contacts, &c.conflicts, &ic, &zd, &b, Timestamp(1000))
    };
    // Intercom is newer: name goes to Zendesk; region is owned by Zendesk regardless.
    let p = both(500, 100);
    assert_eq!(p.zendesk.values.get("name"), Some(&t("Ada I")));
    assert_eq!(p.intercom.values.get("custom_attributes.region"), Some(&t("apac")));
    let name = p.audit.iter().find(|a| a.field == "name").unwrap();
    assert_eq!((name.rule, name.winner), (Rule::NewestWins, Some(Vendor::Intercom)));
    assert_eq!((name.intercom.clone(), name.zendesk.clone()), (t("Ada I"), t("Ada Z")));
    let region = p.audit.iter().find(|a| a.field == "custom_attributes.region").unwrap();
    assert_eq!((region.rule, region.winner), (Rule::Owner, Some(Vendor::Zendesk)));
    // Zendesk is newer.
    let p = both(100, 500);
    assert_eq!(p.intercom.values.get("name"), Some(&t("Ada Z")));
    // Within the skew: the tie breaker (Intercom by default) wins.
    let p = both(100, 104);
    let name = p.audit.iter().find(|a| a.field == "name").unwrap();
    assert_eq!((name.rule, name.winner), (Rule::Tie, Some(Vendor::Intercom)));
}

#[test]
fn null_handling_skip_and_clear() {
    let c = mapping(CONFIG);
    let b = base(&[("phone", t("+1")), ("custom_attributes.notes", t("hi"))]);
    let ic = person(Vendor::Intercom, "c1", 100, &[]);
    let zd = person(Vendor::Zendesk, "9", 50, &[("phone", t("+1")), ("user_fields.notes", t("hi"))]);
    let p = plan(&c.contacts, &c.conflicts, &ic, &zd, &b, Timestamp(300));
    // phone (skip): the cleared Intercom phone does not clear Zendesk.
    assert!(!p.zendesk.values.contains_key("phone"));
    assert!(p.audit.iter().any(|a| a.field == "phone" && a.rule == Rule::NullSkipped));
    // notes (clear): the clear is propagated.
    assert_eq!(p.zendesk.values.get("user_fields.notes"), Some(&FieldValue::Null));
}

#[test]
fn equal_values_only_refresh_the_baseline() {
    let c = mapping(CONFIG);
    let ic = person(Vendor::Intercom, "c1", 100, &[("custom_attributes.seats", t("3"))]);
    let zd = person(Vendor::Zendesk, "9", 50, &[("user_fields.seats", FieldValue::Int(3))]);
    let p = plan(&c.contacts, &c.conflicts, &ic, &zd, &BTreeMap::new(), Timestamp(300));
    assert!(p.audit.is_empty() && p.zendesk.values.is_empty() && p.intercom.values.is_empty());
    assert_eq!(p.baseline.get("custom_attributes.seats"), Some(&"n:3".to_string()));
}

#[test]
fn matching_order_and_ambiguity() {
    let src = person(Vendor::Intercom, "c1", 0, &[("email", t(" Ada@Example.com ")), ("external_id", t("u-1"))]);
    let zd = |id: &str, email: &str, ext: Option<&str>| {
        let mut v = vec![("email", t(email))];
        if let Some(e) = ext {
            v.push(("external_id", t(e)));
        }
        person(Vendor::Zendesk, id, 0, &v)
    };
    let stored =
        Candidates { stored: Some("5".into()), by_email: vec![zd("6", "ada@example.com", None)], ..Default::default() };
    assert_eq!(match_peer(&src, &stored), PeerMatch::Found { id: "5".into(), by: MatchedBy::StoredId });
    let ext = Candidates {
        by_external_id: vec![zd("7", "other@example.com", Some("u-1"))],
        by_email: vec![zd("6", "ada@example.com", None)],
        ..Default::default()
    };
    assert_eq!(match_peer(&src, &ext), PeerMatch::Found { id: "7".into(), by: MatchedBy::ExternalId });
    let email = Candidates { by_email: vec![zd("6", "ADA@example.com", None)], ..Default::default() };
    assert_eq!(match_peer(&src, &email), PeerMatch::Found { id: "6".into(), by: MatchedBy::Email });
    let two = Candidates {
        by_email: vec![zd("6", "ada@example.com", None), zd("8", "ada@example.com", None)],
        ..Default::default()
    };
    assert_eq!(
        match_peer(&src, &two),
        PeerMatch::Ambiguous { by: MatchedBy::Email, ids: vec!["6".into(), "8".into()] }
    );
    let two_ext = Candidates {
        by_external_id: vec![zd("6", "a@x", Some("u-1")), zd("8", "b@x", Some("u-1"))],
        ..Default::default()
    };
    assert!(matches!(match_peer(&src, &two_ext), PeerMatch::Ambiguous { by: MatchedBy::ExternalId, .. }));
    assert_eq!(match_peer(&src, &Candidates::default()), PeerMatch::None);
}

#[test]
fn validation_names_the_field_path() {
    let bad = [
        ("contacts: { fields: [ { intercom: nickname, zendesk: name } ] }", "profiles.contacts.fields[0].intercom"),
        (
            "contacts: { fields: [ { intercom: name, zendesk: organization_fields.x } ] }",
            "profiles.contacts.fields[0].zendesk",
        ),
        (
            "contacts: { fields: [ { intercom: custom_attributes.p, zendesk: user_fields.p, type: dropdown } ] }",
            "profiles.contacts.fields[0].options",
        ),
        (
            "contacts: { fields: [ { intercom: name, zendesk: name, direction: intercom_to_zendesk, owner: zendesk } ] }",
            "profiles.contacts.fields[0].owner",
        ),
        (
            "companies: { fields: [ { intercom: plan, zendesk: user_fields.plan } ] }",
            "profiles.companies.fields[0].zendesk",
        ),
    ];
    for (yaml, path) in bad {
        let c: ProfilesConfig = serde_norway::from_str(yaml).unwrap();
        assert_eq!(c.validate().unwrap_err().field, path, "{yaml}");
    }
}

#[test]
fn loop_fingerprint_is_side_aware_and_cast_aware() {
    let c = mapping(CONFIG);
    let a = person(Vendor::Zendesk, "9", 0, &[("user_fields.seats", t("3")), ("name", t("Ada"))]);
    let b = person(Vendor::Zendesk, "9", 99, &[("user_fields.seats", FieldValue::Int(3)), ("name", t("Ada"))]);
    assert_eq!(mapped_fingerprint(&c.contacts, &a), mapped_fingerprint(&c.contacts, &b));
    let d = person(Vendor::Zendesk, "9", 0, &[("user_fields.seats", FieldValue::Int(4)), ("name", t("Ada"))]);
    assert_ne!(mapped_fingerprint(&c.contacts, &a), mapped_fingerprint(&c.contacts, &d));
}

#[test]
fn drift_reports_unmapped_missing_type_and_options() {
    let c = mapping(CONFIG);
    let cat = |path: &str, ty: &str, opts: &[&str]| CatalogField {
        path: path.into(),
        data_type: ty.into(),
        options: opts.iter().map(|s| s.to_string()).collect(),
    };
    let zd = vec![
        cat("user_fields.plan", "dropdown", &["free", "pro"]),
        cat("user_fields.seats", "checkbox", &[]),
        cat("user_fields.vip", "checkbox", &[]),
        cat("user_fields.renewal", "date", &[]),
        cat("user_fields.tier", "text", &[]),
        cat("user_fields.csm", "text", &[]),
        cat("user_fields.region", "text", &[]),
        cat("user_fields.notes", "textarea", &[]),
        cat("user_fields.intercom_contact_id", "text", &[]),
        cat("user_fields.shoe_size", "integer", &[]),
    ];
    let found = drift(&c, Vendor::Zendesk, Kind::Person, &zd);
    assert!(found.contains(&DriftFinding::Unmapped {
        side: Vendor::Zendesk,
        kind: Kind::Person,
        path: "user_fields.shoe_size".into()
    }));
    assert!(found.iter().any(|f| matches!(f, DriftFinding::TypeChanged { path, .. } if path == "user_fields.seats")));
    assert!(found.iter().any(
        |f| matches!(f, DriftFinding::OptionsChanged { missing, .. } if missing == &vec!["enterprise".to_string()])
    ));
    assert_eq!(found.len(), 3, "{found:?}");
    // Intercom: everything mapped is missing from an empty catalog.
    let found = drift(&c, Vendor::Intercom, Kind::Person, &[]);
    assert_eq!(found.iter().filter(|f| matches!(f, DriftFinding::Missing { .. })).count(), 8);
    assert!(found.iter().all(DriftFinding::is_error));
}

#[test]
fn entities_and_keys() {
    let of = |e: &str| Kind::of_entity(&e.parse().unwrap());
    assert_eq!(of("user:12"), Some((Vendor::Zendesk, Kind::Person, "12".to_string())));
    assert_eq!(of("company:ab"), Some((Vendor::Intercom, Kind::Org, "ab".to_string())));
    assert_eq!(of("ticket:1"), None);
    let mut s = PairState::default();
    let rec = AuditRecord {
        field: "x".into(),
        intercom: FieldValue::Null,
        zendesk: FieldValue::Null,
        rule: Rule::Tie,
        winner: None,
        at: Timestamp(0),
    };
    s.push_audit(std::iter::repeat_n(rec, AUDIT_KEPT + 5));
    assert_eq!(s.audit.len(), AUDIT_KEPT);
}

#[test]
fn the_example_config_parses() {
    let text = include_str!("../../../../infra/config/keep-profiles-in-sync.yaml");
    let c = crate::Config::from_yaml(text).unwrap();
    assert_eq!(c.profiles.unwrap().contacts.fields.len(), 7);
}
