//! Corrections to the official OpenAPI files where they are known to be wrong.
//!
//! Each patch is small, names the schema it touches and cites why. A patch that no longer
//! applies (the spec was updated) makes [`crate::Spec::load`] fail, so stale patches cannot
//! silently loosen the check.

use bridge_sim::common::Vendor;
use serde_json::{Value, json};

/// One documented correction of an official spec.
#[derive(Debug, Clone, Copy)]
pub struct SpecPatch {
    /// Which vendor's spec it applies to.
    pub vendor: Vendor,
    /// Short identifier, used in error messages.
    pub name: &'static str,
    /// Why the official spec is wrong, with the source.
    pub reason: &'static str,
    apply: fn(&mut Value) -> Result<(), String>,
}

/// Every patch applied when loading the specs.
pub const PATCHES: &[SpecPatch] = &[
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "create_message_request.message_type accepts `inapp`",
        reason: "The enum says `in_app`, but every example in the same file (`message_type: inapp`, \
                 e.g. the `POST /messages` examples and the `message` schema's enum) and Intercom's \
                 own SDK send `inapp` (reference/intercom.md, \"Notes from driving Intercom's \
                 official Python SDK\"). `inapp` is added; `in_app` stays.",
        apply: message_type_inapp,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "conversation/ticket assignee ids: nullable; team (and ticket) ids also strings",
        reason: "`team_assignee_id`/`admin_assignee_id` are typed integer, non-null, on \
                 `conversation`, `conversation_list_item` and `ticket`, but the file's own \
                 conversation examples show null (`admin_assignee_id:`/`team_assignee_id:` with \
                 no value); `team_assignee_id` is a string in `create_ticket_request.assignment` \
                 and in the SDK; ticket assignee ids come back as strings (\"0\") \
                 (reference/intercom.md: Conversation, IDs, SDK notes). So: all six nullable; \
                 `team_assignee_id` integer-or-string; ticket `admin_assignee_id` too; \
                 conversation `admin_assignee_id` stays integer.",
        apply: assignee_ids,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "create_message_request.from.id is integer or string",
        reason: "Typed integer, but every `POST /messages` request example in the file sends the \
                 admin id as a string (`id: '991267816'`), and admin ids are strings in the \
                 `admin` object itself (reference/intercom.md, IDs).",
        apply: message_from_id,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "{conversation_id} path parameters are strings",
        reason: "The spec types the `conversation_id` path parameter as integer, while \
                 conversation ids are opaque strings everywhere else (the `conversation.id` \
                 property is a string; ids exceed 2^32) — reference/intercom.md, IDs.",
        apply: conversation_id_param,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "conversation has `topics` and `ticket`",
        reason: "Every full conversation example in the file (GET /conversations/{id}, list, search, \
                 redact, …) carries `topics: {}` and `ticket: null`, which the `conversation` \
                 schema does not declare. Added as a free-form object and a nullable `ticket`.",
        apply: conversation_topics_ticket,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "contact sub-objects carry the fields the examples show",
        reason: "The contact examples (GET/POST/PUT /contacts…) show `type: list` on `tags`, \
                 `notes`, `companies` and `social_profiles`, and `continent_code`/`country_code` in \
                 `location`; the `contact_*` schemas do not declare them.",
        apply: contact_sub_objects,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "conversation_statistics times and durations are null until the event happens",
        reason: "`conversation_statistics` types every `*_at` timestamp and every duration \
                 (`time_to_*`, `median_time_to_reply`, `handling_time`, …) as a non-null integer, \
                 but they have no value before the event: \"Values are null until the event \
                 happens\" (reference/intercom.md §9, CSAT and reporting). Those integer \
                 properties become nullable (those the spec already marks nullable are left \
                 alone); the `count_*` counters stay non-null integers.",
        apply: statistics_nullable,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "contact_attached_companies lists the companies under `data`",
        reason: "The schema names the array `companies`, but the operation's own example \
                 (`GET /contacts/{contact_id}/companies`, `successful`) and the docs samples \
                 answer `data`, and a client reading `companies` gets nothing \
                 (reference/intercom.md, \"Notes from driving Intercom's official Python SDK\"). \
                 The property is renamed `companies` -> `data` (same item schema).",
        apply: contact_companies_data,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "company_list is page-numbered: `pages.next` is a URL",
        reason: "`company_list` (`GET /companies`, `POST /companies/list`) reuses `cursor_pages`, \
                 whose `next` is a `{starting_after}` object, but these lists are page-numbered: \
                 \"`GET /companies`, `POST /companies/list`, contact companies, notes use \
                 `page`/`per_page`; there `pages.next` can be a full URL string or null\" \
                 (reference/intercom.md §5). The contact-companies list already uses \
                 `pages_link` (next: uri, nullable) for the same style; `company_list.pages` \
                 now refers to `pages_link` too.",
        apply: company_list_pages_link,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "message has `owner` (admin messages)",
        reason: "The `POST /messages` 200 example `admin message created` in the same file \
                 returns `owner: {type: admin, id, name, email, away_mode_enabled, \
                 away_mode_reassign}`, and the reference lists `owner` in the response \
                 (reference/intercom.md §3, Proactive message); the `message` schema does not \
                 declare it. Added as an `admin` object.",
        apply: message_owner,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "search_request (conversation search) takes `sort`",
        reason: "`POST /conversations/search` sorts its results with `sort: {field, order}` as \
                 contact search does (reference/intercom.md §3 and §4: body `{query, pagination, \
                 sort?}`; Intercom's \"Pagination & Sorting (Search)\" guide; \
                 intercom/Intercom-OpenAPI#114: \"`sort` parameter is available but not \
                 documented\" for searchConversations), but `search_request` declares only \
                 `query` and `pagination`. The file's own `contact_search_request.sort` \
                 definition is added to it.",
        apply: search_request_sort,
    },
    // ==================================================================== Zendesk
    // Zendesk section (maintained with tests/fidelity/tests/zendesk_tour.rs); functions at the
    // end of this file, prefixed `zd_`.
    SpecPatch {
        vendor: Vendor::Zendesk,
        name: "Zendesk: /tickets/{id}/metrics and /ticket_metrics/{id} answer `ticket_metric` as an object",
        reason: "`TicketMetricsByTicketMetricIdResponse` declares `ticket_metric` as an array (and \
                 its one example, copied from the docs, shows a one-element array), but the live \
                 API answers one `ticket_metric` object (reference/zendesk.md §2.8, singular \
                 `ticket_metric`; Zenpy's `tickets.metrics(ticket=…)` and `ticket_metrics(id)` \
                 return a single `TicketMetric`; our client accepts both). The property now \
                 refers to `TicketMetricObject`; the two spec examples of these operations fail \
                 the example self-check as a consequence, on purpose.",
        apply: zd_ticket_metric_object,
    },
    SpecPatch {
        vendor: Vendor::Zendesk,
        name: "Zendesk: ticket metric milestones are null until they happen",
        reason: "`TicketMetricObject` types the milestone timestamps and `TicketMetricTimeObject` \
                 the `{calendar, business}` minutes as non-null, but they are \"nulls until the \
                 milestone happens\" (reference/zendesk.md §2.8). `assigned_at`, \
                 `assignee_updated_at`, `initially_assigned_at`, `latest_comment_added_at`, \
                 `solved_at` and both minute counters become nullable.",
        apply: zd_ticket_metric_nullable,
    },
    SpecPatch {
        vendor: Vendor::Zendesk,
        name: "Zendesk: list responses carry the pagination envelope",
        reason: "Cursor pages answer `{<items>, meta: {has_more, after_cursor, before_cursor}, \
                 links: {next, prev}}` and offset pages `{<items>, next_page, previous_page, \
                 count}` (reference/zendesk.md §6.3; omitting `page[size]` gives offset \
                 pagination), but these list responses declare only the items. The spec's own \
                 `CursorPaginationMeta` (`meta`, `links`) and `OffsetPaginationObject` \
                 (`count`, `next_page`, `previous_page`) definitions are added to them.",
        apply: zd_pagination_envelope,
    },
    SpecPatch {
        vendor: Vendor::Zendesk,
        name: "Zendesk: POST /tickets answers {ticket, audit}",
        reason: "The 201 of `POST /api/v2/tickets` refers to `TicketResponse` (`ticket` only), \
                 but create answers `201 {ticket, audit}` (reference/zendesk.md §3.1), the same \
                 envelope as update, whose `TicketUpdateResponse` declares both. The 201 now \
                 refers to `TicketUpdateResponse`.",
        apply: zd_create_ticket_audit,
    },
    SpecPatch {
        vendor: Vendor::Zendesk,
        name: "Zendesk: PUT /tickets/{id}/tags takes {tags}",
        reason: "`PUT /api/v2/tickets/{ticket_id}/tags` (add tags) documents no request body, \
                 but the tags to add are sent as `{\"tags\": […]}` (reference/zendesk.md §3.4, \
                 \"PUT … {\\\"tags\\\":[…]} | add\"). A required `{tags: [string]}` body is \
                 declared.",
        apply: zd_add_tags_body,
    },
    SpecPatch {
        vendor: Vendor::Zendesk,
        name: "Zendesk: POST /organizations/create_or_update takes {organization}",
        reason: "The operation documents no request body, but it takes \
                 `{\"organization\":{…}}` (reference/zendesk.md §5), the body of \
                 `POST /api/v2/organizations`. It now refers to that operation's \
                 `CreateOrganizationRequest`.",
        apply: zd_org_upsert_body,
    },
    SpecPatch {
        vendor: Vendor::Zendesk,
        name: "Zendesk: end-user `photo`, `shared_phone_number`, `phone`, `organization_id` are nullable",
        reason: "`UserForEndUser` types them non-null while `UserForAdmin` in the same file marks \
                 all four nullable, and the file's own user examples show `photo: null` (17 \
                 times), `shared_phone_number: null` (23), `phone: null` (23) and \
                 `organization_id: null` (11); a user without a phone or an organization has \
                 null there. All four become nullable in `UserForEndUser`.",
        apply: zd_end_user_nullable,
    },
    SpecPatch {
        vendor: Vendor::Zendesk,
        name: "Zendesk: a follow-up's via.source.from names the closed ticket",
        reason: "A follow-up ticket carries `via.source.rel = \"follow_up\"` with `from` describing \
                 the closed parent, `{ticket_id, subject}` (reference/zendesk.md §2.1, from the \
                 Via object reference the `ViaObject` description links to); `ViaObject` declares \
                 only `address`, `id`, `name`, `title` there. `ticket_id` (integer) and \
                 `subject` (string) are added.",
        apply: zd_followup_via_from,
    },
    SpecPatch {
        vendor: Vendor::Zendesk,
        name: "Zendesk: the `slas` sideload on a ticket",
        reason: "`GET /tickets/{id}` declares the `include` parameter (`TicketsInclude`, linking \
                 the Sideloading section of the Tickets reference), and the `slas` sideload adds \
                 `ticket.slas.policy_metrics[]` (`breach_at`, `stage`, `metric`, and the target \
                 as `days`/`hours`/`minutes`), the same metric objects as the SLA policy schemas \
                 of the file; `TicketObject` does not declare it. `slas` is added.",
        apply: zd_ticket_slas,
    },
    // ================================================================ end Zendesk
];

fn add_property(doc: &mut Value, schema: &str, name: &str, definition: Value) -> Result<(), String> {
    let ptr = format!("/components/schemas/{schema}/properties");
    let props = doc.pointer_mut(&ptr).and_then(Value::as_object_mut).ok_or_else(|| format!("{ptr} is missing"))?;
    if props.contains_key(name) {
        return Err(format!("{ptr} now declares `{name}`: drop this patch"));
    }
    props.insert(name.into(), definition);
    Ok(())
}

fn conversation_topics_ticket(doc: &mut Value) -> Result<(), String> {
    add_property(doc, "conversation", "topics", json!({ "type": "object", "additionalProperties": true }))?;
    add_property(doc, "conversation", "ticket", json!({ "$ref": "#/components/schemas/ticket", "nullable": true }))
}

fn contact_sub_objects(doc: &mut Value) -> Result<(), String> {
    for schema in ["contact_tags", "contact_notes", "contact_companies", "contact_social_profiles"] {
        add_property(doc, schema, "type", json!({ "type": "string", "enum": ["list"] }))?;
    }
    for name in ["continent_code", "country_code"] {
        add_property(doc, "contact_location", name, json!({ "type": "string", "nullable": true }))?;
    }
    Ok(())
}

fn statistics_nullable(doc: &mut Value) -> Result<(), String> {
    let ptr = "/components/schemas/conversation_statistics/properties";
    let props = doc.pointer_mut(ptr).and_then(Value::as_object_mut).ok_or_else(|| format!("{ptr} is missing"))?;
    let mut changed = 0usize;
    for (name, node) in props.iter_mut() {
        let timed = name.ends_with("_at")
            || name.starts_with("time_to_")
            || name == "median_time_to_reply"
            || name.ends_with("handling_time");
        if !timed {
            continue;
        }
        let node = node.as_object_mut().ok_or_else(|| format!("{ptr}/{name} is not an object"))?;
        if node.get("type") != Some(&json!("integer")) {
            return Err(format!("{ptr}/{name} is no longer typed integer"));
        }
        if node.get("nullable") == Some(&json!(true)) {
            continue; // already nullable in the spec (e.g. `handling_time`)
        }
        node.insert("nullable".into(), json!(true));
        changed += 1;
    }
    if changed == 0 {
        return Err(format!("no timestamp or duration property under {ptr}"));
    }
    Ok(())
}

fn contact_companies_data(doc: &mut Value) -> Result<(), String> {
    let ptr = "/components/schemas/contact_attached_companies/properties";
    let props = doc.pointer_mut(ptr).and_then(Value::as_object_mut).ok_or_else(|| format!("{ptr} is missing"))?;
    if props.contains_key("data") {
        return Err(format!("{ptr} now declares `data`: drop this patch"));
    }
    let companies = props.remove("companies").ok_or_else(|| format!("{ptr} no longer declares `companies`"))?;
    props.insert("data".into(), companies);
    Ok(())
}

fn company_list_pages_link(doc: &mut Value) -> Result<(), String> {
    if doc.pointer("/components/schemas/pages_link/properties/next/type") != Some(&json!("string")) {
        return Err("`pages_link.next` is no longer a string".into());
    }
    let ptr = "/components/schemas/company_list/properties/pages";
    let node = doc.pointer_mut(ptr).ok_or_else(|| format!("{ptr} is missing"))?;
    if node != &json!({ "$ref": "#/components/schemas/cursor_pages" }) {
        return Err(format!("{ptr} no longer refers to `cursor_pages`"));
    }
    *node = json!({ "$ref": "#/components/schemas/pages_link" });
    Ok(())
}

fn search_request_sort(doc: &mut Value) -> Result<(), String> {
    let ptr = "/components/schemas/contact_search_request/properties/sort";
    let sort = doc.pointer(ptr).cloned().ok_or_else(|| format!("{ptr} is missing"))?;
    add_property(doc, "search_request", "sort", sort)
}

fn message_owner(doc: &mut Value) -> Result<(), String> {
    add_property(doc, "message", "owner", json!({ "$ref": "#/components/schemas/admin" }))
}

fn message_type_inapp(doc: &mut Value) -> Result<(), String> {
    let ptr = "/components/schemas/create_message_request/properties/message_type/enum";
    let values = doc.pointer_mut(ptr).and_then(Value::as_array_mut).ok_or_else(|| format!("{ptr} is not an array"))?;
    if !values.iter().any(|v| v == "in_app") {
        return Err(format!("{ptr} no longer contains `in_app`"));
    }
    if !values.iter().any(|v| v == "inapp") {
        values.push(json!("inapp"));
    }
    Ok(())
}

fn message_from_id(doc: &mut Value) -> Result<(), String> {
    let ptr = "/components/schemas/create_message_request/properties/from/properties/id";
    let node = doc.pointer_mut(ptr).and_then(Value::as_object_mut).ok_or_else(|| format!("{ptr} is missing"))?;
    if node.get("type") != Some(&json!("integer")) {
        return Err(format!("{ptr} is no longer typed integer"));
    }
    node.insert("type".into(), json!(["integer", "string"]));
    Ok(())
}

fn assignee_ids(doc: &mut Value) -> Result<(), String> {
    let either = json!(["integer", "string"]);
    let integer = json!("integer");
    let targets = [
        ("conversation", "team_assignee_id", &either),
        ("conversation", "admin_assignee_id", &integer),
        ("conversation_list_item", "team_assignee_id", &either),
        ("conversation_list_item", "admin_assignee_id", &integer),
        ("ticket", "team_assignee_id", &either),
        ("ticket", "admin_assignee_id", &either),
    ];
    for (schema, prop, new_type) in targets {
        let ptr = format!("/components/schemas/{schema}/properties/{prop}");
        let node = doc.pointer_mut(&ptr).and_then(Value::as_object_mut).ok_or_else(|| format!("{ptr} is missing"))?;
        if node.get("type") != Some(&json!("integer")) {
            return Err(format!("{ptr} is no longer typed integer"));
        }
        node.insert("type".into(), new_type.clone());
        node.insert("nullable".into(), json!(true));
    }
    Ok(())
}

fn conversation_id_param(doc: &mut Value) -> Result<(), String> {
    let mut changed = 0usize;
    let paths = doc.get_mut("paths").and_then(Value::as_object_mut).ok_or("no `paths`")?;
    for (template, item) in paths.iter_mut() {
        if !template.contains("{conversation_id}") {
            continue;
        }
        let Some(item) = item.as_object_mut() else { continue };
        for op in item.values_mut() {
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else { continue };
            for param in params {
                let is_target = param.get("name") == Some(&json!("conversation_id"))
                    && param.get("in") == Some(&json!("path"))
                    && param.pointer("/schema/type") == Some(&json!("integer"));
                if let (true, Some(schema)) = (is_target, param.get_mut("schema").and_then(Value::as_object_mut)) {
                    schema.insert("type".into(), json!("string"));
                    changed += 1;
                }
            }
        }
    }
    if changed == 0 {
        return Err("no integer `conversation_id` path parameter found".into());
    }
    Ok(())
}

/// Applies every patch for `vendor` to the parsed document.
pub(crate) fn apply(vendor: Vendor, doc: &mut Value) -> Result<(), (&'static str, String)> {
    for patch in PATCHES.iter().filter(|p| p.vendor == vendor) {
        (patch.apply)(doc).map_err(|e| (patch.name, e))?;
    }
    Ok(())
}

// ============================================================================ Zendesk patches
// (see the Zendesk section of `PATCHES`)

fn zd_schema_props<'a>(doc: &'a mut Value, schema: &str) -> Result<&'a mut serde_json::Map<String, Value>, String> {
    let ptr = format!("/components/schemas/{schema}/properties");
    doc.pointer_mut(&ptr).and_then(Value::as_object_mut).ok_or_else(|| format!("{ptr} is missing"))
}

fn zd_make_nullable(doc: &mut Value, schema: &str, names: &[&str]) -> Result<(), String> {
    let props = zd_schema_props(doc, schema)?;
    for name in names {
        let node =
            props.get_mut(*name).and_then(Value::as_object_mut).ok_or_else(|| format!("{schema}.{name} is missing"))?;
        if node.get("nullable") == Some(&json!(true)) {
            return Err(format!("{schema}.{name} is already nullable: drop it from this patch"));
        }
        node.insert("nullable".into(), json!(true));
    }
    Ok(())
}

fn zd_ticket_metric_object(doc: &mut Value) -> Result<(), String> {
    let props = zd_schema_props(doc, "TicketMetricsByTicketMetricIdResponse")?;
    let node = props.get_mut("ticket_metric").ok_or("`ticket_metric` is missing")?;
    if node.get("type") != Some(&json!("array")) {
        return Err("`ticket_metric` is no longer an array".into());
    }
    *node = json!({ "$ref": "#/components/schemas/TicketMetricObject" });
    Ok(())
}

fn zd_ticket_metric_nullable(doc: &mut Value) -> Result<(), String> {
    zd_make_nullable(
        doc,
        "TicketMetricObject",
        &["assigned_at", "assignee_updated_at", "initially_assigned_at", "latest_comment_added_at", "solved_at"],
    )?;
    zd_make_nullable(doc, "TicketMetricTimeObject", &["business", "calendar"])
}

fn zd_pagination_envelope(doc: &mut Value) -> Result<(), String> {
    let cursor = doc
        .pointer("/components/schemas/CursorPaginationMeta/properties")
        .cloned()
        .ok_or("`CursorPaginationMeta` is missing")?;
    let offset = doc
        .pointer("/components/schemas/OffsetPaginationObject/properties")
        .cloned()
        .ok_or("`OffsetPaginationObject` is missing")?;
    let envelope =
        [("meta", &cursor), ("links", &cursor), ("count", &offset), ("next_page", &offset), ("previous_page", &offset)];
    for schema in [
        "GroupsResponse",
        "SatisfactionRatingsResponse",
        "TicketCommentsResponse",
        "TicketFieldsResponse",
        "TicketMetricsResponse",
        "TicketsResponse",
        "UsersResponse",
    ] {
        for (name, source) in envelope {
            let definition = source.get(name).cloned().ok_or_else(|| format!("pagination `{name}` is missing"))?;
            add_property(doc, schema, name, definition)?;
        }
    }
    Ok(())
}

fn zd_create_ticket_audit(doc: &mut Value) -> Result<(), String> {
    let ptr = "/paths/~1api~1v2~1tickets/post/responses/201/content/application~1json/schema";
    let node = doc.pointer_mut(ptr).ok_or_else(|| format!("{ptr} is missing"))?;
    if node != &json!({ "$ref": "#/components/schemas/TicketResponse" }) {
        return Err(format!("{ptr} no longer refers to `TicketResponse`"));
    }
    *node = json!({ "$ref": "#/components/schemas/TicketUpdateResponse" });
    Ok(())
}

fn zd_set_request_body(doc: &mut Value, path: &str, method: &str, schema: Value) -> Result<(), String> {
    let ptr = format!("/paths/{}/{method}", path.replace('~', "~0").replace('/', "~1"));
    let op = doc.pointer_mut(&ptr).and_then(Value::as_object_mut).ok_or_else(|| format!("{ptr} is missing"))?;
    if op.contains_key("requestBody") {
        return Err(format!("{ptr} now documents a request body: drop this patch"));
    }
    op.insert(
        "requestBody".into(),
        json!({ "required": true, "content": { "application/json": { "schema": schema } } }),
    );
    Ok(())
}

fn zd_add_tags_body(doc: &mut Value) -> Result<(), String> {
    let schema = json!({
        "type": "object",
        "required": ["tags"],
        "properties": { "tags": { "type": "array", "items": { "type": "string" } } },
    });
    zd_set_request_body(doc, "/api/v2/tickets/{ticket_id}/tags", "put", schema)
}

fn zd_org_upsert_body(doc: &mut Value) -> Result<(), String> {
    let create = "/paths/~1api~1v2~1organizations/post/requestBody/content/application~1json/schema";
    let schema = doc.pointer(create).cloned().ok_or_else(|| format!("{create} is missing"))?;
    if schema != json!({ "$ref": "#/components/schemas/CreateOrganizationRequest" }) {
        return Err(format!("{create} no longer refers to `CreateOrganizationRequest`"));
    }
    zd_set_request_body(doc, "/api/v2/organizations/create_or_update", "post", schema)
}

fn zd_end_user_nullable(doc: &mut Value) -> Result<(), String> {
    let names = ["photo", "shared_phone_number", "phone", "organization_id"];
    for name in names {
        if doc.pointer(&format!("/components/schemas/UserForAdmin/properties/{name}/nullable")) != Some(&json!(true)) {
            return Err(format!("`UserForAdmin.{name}` is no longer nullable"));
        }
    }
    zd_make_nullable(doc, "UserForEndUser", &names)
}

fn zd_followup_via_from(doc: &mut Value) -> Result<(), String> {
    let ptr = "/components/schemas/ViaObject/properties/source/properties/from/properties";
    let props = doc.pointer_mut(ptr).and_then(Value::as_object_mut).ok_or_else(|| format!("{ptr} is missing"))?;
    for (name, definition) in [("ticket_id", json!({ "type": "integer" })), ("subject", json!({ "type": "string" }))] {
        if props.contains_key(name) {
            return Err(format!("{ptr} now declares `{name}`: drop this patch"));
        }
        props.insert(name.into(), definition);
    }
    Ok(())
}
fn zd_ticket_slas(doc: &mut Value) -> Result<(), String> {
    let metric = json!({ "type": "object", "properties": {
        "breach_at": { "type": "string", "format": "date-time", "nullable": true },
        "stage": { "type": "string" },
        "metric": { "type": "string" },
        "days": { "type": "integer" },
        "hours": { "type": "integer" },
        "minutes": { "type": "integer" }
    }});
    let slas = json!({ "type": "object", "properties": { "policy_metrics": { "type": "array", "items": metric } } });
    add_property(doc, "TicketObject", "slas", slas)
}
// ======================================================================== end Zendesk patches
