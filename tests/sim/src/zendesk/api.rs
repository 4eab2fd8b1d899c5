//! The REST API under `/api/v2`: request dispatch over the state (synchronous, under the
//! state lock, so concurrent creates with one idempotency key serialize).

use axum::http::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::paging::{Query, export_page, page, param};
use super::state::{
    Actor, ApiError, IDEMPOTENCY_TTL, IdemRec, MergeComments, OrgInput, State, TagOp, TicketInput, UserInput,
};

/// A parsed API request.
#[derive(Debug)]
pub struct ApiRequest {
    /// Method.
    pub method: Method,
    /// Path segments after `/api/v2`, `.json` stripped from the last one.
    pub segments: Vec<String>,
    /// Query pairs.
    pub query: Query,
    /// JSON body, if any.
    pub body: Option<Value>,
    /// `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// Authenticated user.
    pub actor: Actor,
}

/// An API answer.
#[derive(Debug)]
pub struct ApiResponse {
    /// Status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

fn ok(body: Value) -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse { status: 200, body, headers: Vec::new() })
}

fn created(body: Value) -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse { status: 201, body, headers: Vec::new() })
}

fn id(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

fn root<T: DeserializeOwned>(body: &Option<Value>, key: &str) -> Result<T, ApiError> {
    let v = body.as_ref().and_then(|b| b.get(key)).cloned().ok_or_else(|| {
        ApiError::bad_request("InvalidParameter", &format!("The request must contain a `{key}` object"))
    })?;
    serde_json::from_value(v)
        .map_err(|_| ApiError::bad_request("InvalidParameter", &format!("`{key}` has an invalid value")))
}

fn ids_param(q: &Query) -> Result<Vec<u64>, ApiError> {
    let ids: Vec<u64> = param(q, "ids").unwrap_or_default().split(',').filter_map(|s| s.trim().parse().ok()).collect();
    if ids.len() > 100 {
        return Err(ApiError::bad_request("TooManyValues", "Too many values: at most 100 ids"));
    }
    Ok(ids)
}

fn tags_of(body: &Option<Value>, q: &Query) -> Vec<String> {
    if let Some(Value::Array(a)) = body.as_ref().and_then(|b| b.get("tags")) {
        return a.iter().filter_map(Value::as_str).map(str::to_string).collect();
    }
    param(q, "tags").map(|t| t.split(',').map(str::to_string).collect()).unwrap_or_default()
}

fn audit(st: &State, ticket_id: u64, actor: Actor) -> Value {
    let comment = st.tickets.get(&ticket_id).and_then(|t| t.comments.last());
    let events: Vec<Value> = comment
        // Only the event properties the OpenAPI `AuditObject` declares.
        .map(|c| vec![json!({ "id": c.id, "type": "Comment", "body": c.body })])
        .unwrap_or_default();
    json!({
        "id": comment.map_or(0, |c| c.audit_id),
        "ticket_id": ticket_id,
        "author_id": actor.user_id,
        "created_at": super::model::iso(st.now()),
        "via": { "channel": "api", "source": { "from": {}, "to": {}, "rel": null } },
        "metadata": { "system": {}, "custom": {} },
        "events": events,
    })
}

/// Answers one API request.
pub fn dispatch(st: &mut State, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let q = &req.query;
    let base = format!("{}/api/v2/{}", st.base, req.segments.join("/"));
    let m = &req.method;
    if let Some(answer) = super::setup::dispatch(st, req) {
        return answer;
    }
    match (m.clone(), segs.as_slice()) {
        (Method::GET, ["users", "me"]) => {
            let u = st.users.get(&req.actor.user_id).ok_or_else(ApiError::not_found)?;
            ok(json!({ "user": st.user_json(u) }))
        }
        (Method::GET, ["tickets"]) => {
            let ext = param(q, "external_id");
            let items: Vec<Value> = st
                .tickets
                .values()
                .filter(|t| ext.is_none_or(|e| t.external_id.as_deref() == Some(e)))
                .map(|t| st.ticket_json(t))
                .collect();
            ok(page(items, "tickets", q, &base)?)
        }
        (Method::POST, ["tickets"]) => create_ticket(st, req),
        (Method::GET, ["tickets", "show_many"]) => {
            let ids = ids_param(q)?;
            let items: Vec<Value> = ids.iter().filter_map(|i| st.tickets.get(i)).map(|t| st.ticket_json(t)).collect();
            ok(json!({ "tickets": items }))
        }
        (Method::GET, ["tickets", t]) => {
            let t = st.tickets.get(&id(t)?).ok_or_else(ApiError::not_found)?;
            let mut ticket = st.ticket_json(t);
            if param(q, "include").is_some_and(|i| i.split(',').any(|s| s.trim() == "slas")) {
                ticket["slas"] = super::sla::slas_json(&st.sla, t);
            }
            ok(json!({ "ticket": ticket }))
        }
        (Method::PUT, ["tickets", t]) => {
            let tid = id(t)?;
            let input: TicketInput = root(&req.body, "ticket")?;
            st.update_ticket(req.actor, tid, input)?;
            let t = st.tickets.get(&tid).ok_or_else(ApiError::not_found)?;
            ok(json!({ "ticket": st.ticket_json(t), "audit": audit(st, tid, req.actor) }))
        }
        (Method::GET, ["tickets", t, "comments"]) => {
            let t = st.tickets.get(&id(t)?).ok_or_else(ApiError::not_found)?;
            let mut items: Vec<Value> = t.comments.iter().map(super::model::CommentRec::to_json).collect();
            if param(q, "sort") == Some("-created_at") || param(q, "sort_order") == Some("desc") {
                items.reverse();
            }
            ok(page(items, "comments", q, &base)?)
        }
        (Method::GET, ["tickets", t, "tags"]) => {
            let t = st.tickets.get(&id(t)?).ok_or_else(ApiError::not_found)?;
            ok(json!({ "tags": t.tags }))
        }
        (Method::PUT | Method::POST | Method::DELETE, ["tickets", t, "tags"]) => {
            let op = match *m {
                Method::PUT => TagOp::Add,
                Method::POST => TagOp::Set,
                _ => TagOp::Remove,
            };
            let tags = st.change_tags(req.actor, id(t)?, op, &tags_of(&req.body, q))?;
            ok(json!({ "tags": tags }))
        }
        (Method::POST, ["tickets", t, "merge"]) => {
            let body = req.body.clone().unwrap_or(Value::Null);
            let ids: Vec<u64> = body
                .get("ids")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
            let flag = |k: &str| body.get(k).and_then(Value::as_bool).unwrap_or(false);
            let comments = MergeComments {
                target_comment: text("target_comment"),
                source_comment: text("source_comment"),
                target_public: flag("target_comment_is_public"),
                source_public: flag("source_comment_is_public"),
            };
            let job = st.merge(req.actor, id(t)?, &ids, comments)?;
            let status = st.job_json(&job, false).ok_or_else(ApiError::not_found)?;
            ok(json!({ "job_status": status }))
        }
        (Method::GET, ["tickets", t, "metrics"]) => {
            let now = st.now();
            let t = st.tickets.get(&id(t)?).ok_or_else(ApiError::not_found)?;
            // An object, as the live API answers (reference/zendesk.md §2.8); the OpenAPI file's
            // array is corrected by a bridge-fidelity spec patch.
            ok(json!({ "ticket_metric": t.metric_json(&st.base, now) }))
        }
        (Method::GET, ["ticket_metrics"]) => {
            let now = st.now();
            let items: Vec<Value> = st.tickets.values().map(|t| t.metric_json(&st.base, now)).collect();
            ok(page(items, "ticket_metrics", q, &base)?)
        }
        (Method::GET, ["ticket_metrics", mid]) => {
            let now = st.now();
            let t = st.tickets.get(&id(mid)?).ok_or_else(ApiError::not_found)?;
            ok(json!({ "ticket_metric": t.metric_json(&st.base, now) }))
        }
        (Method::GET, ["job_statuses", "show_many"]) => {
            // As the single-job endpoint, job by job (each answers `working` to its first poll);
            // ids Zendesk does not know are left out.
            let ids: Vec<&str> =
                param(q, "ids").unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
            if ids.len() > 100 {
                return Err(ApiError::bad_request("TooManyValues", "Too many values: at most 100 ids"));
            }
            let items: Vec<Value> = ids.iter().filter_map(|j| st.job_json(j, true)).collect();
            ok(json!({ "job_statuses": items }))
        }
        (Method::GET, ["job_statuses", j]) => {
            let status = st.job_json(j, true).ok_or_else(ApiError::not_found)?;
            ok(json!({ "job_status": status }))
        }
        (Method::GET, ["users"]) => {
            let items: Vec<Value> = st.users.values().map(|u| st.user_json(u)).collect();
            ok(page(items, "users", q, &base)?)
        }
        (Method::POST, ["users"]) => {
            let input: UserInput = root(&req.body, "user")?;
            let uid = st.create_user(req.actor, input)?;
            let u = st.users.get(&uid).ok_or_else(ApiError::not_found)?;
            created(json!({ "user": st.user_json(u) }))
        }
        (Method::GET, ["users", "search"]) => {
            let items: Vec<Value> = search_users(st, q).into_iter().collect();
            ok(page(items, "users", q, &base)?)
        }
        (Method::GET, ["users", "show_many"]) => {
            let ids = ids_param(q)?;
            let items: Vec<Value> = ids.iter().filter_map(|i| st.users.get(i)).map(|u| st.user_json(u)).collect();
            ok(json!({ "users": items }))
        }
        (Method::POST, ["users", "create_or_update"]) => {
            let input: UserInput = root(&req.body, "user")?;
            let (uid, was_created) = st.upsert_user(req.actor, input)?;
            let u = st.users.get(&uid).ok_or_else(ApiError::not_found)?;
            let body = json!({ "user": st.user_json(u) });
            if was_created { created(body) } else { ok(body) }
        }
        (Method::POST, ["users", "create_or_update_many"]) => {
            let inputs: Vec<Value> = root(&req.body, "users")?;
            if inputs.len() > 100 {
                return Err(ApiError::bad_request("TooManyValues", "Too many values: at most 100 users"));
            }
            let results = upsert_many(st, req.actor, inputs);
            let job = st.new_job("bulk_create_or_update_users", results);
            let status = st.job_json(&job, false).ok_or_else(ApiError::not_found)?;
            ok(json!({ "job_status": status }))
        }
        (Method::GET, ["users", u]) => {
            let u = st.users.get(&id(u)?).ok_or_else(ApiError::not_found)?;
            ok(json!({ "user": st.user_json(u) }))
        }
        (Method::DELETE, ["users", u]) => {
            // Soft delete: the record leaves the live users (simplified: no `deleted_users` list).
            let u = st.remove_user(id(u)?).ok_or_else(ApiError::not_found)?;
            let mut json = st.user_json(&u);
            json["active"] = json!(false);
            ok(json!({ "user": json }))
        }
        (Method::DELETE, ["deleted_users", u]) => {
            let uid = id(u)?;
            if st.users.contains_key(&uid) {
                return Err(ApiError::not_found());
            }
            ok(json!({ "deleted_user": { "id": uid, "active": false } }))
        }
        (Method::PUT, ["users", u]) => {
            let uid = id(u)?;
            let input: UserInput = root(&req.body, "user")?;
            st.update_user(req.actor, uid, input)?;
            let u = st.users.get(&uid).ok_or_else(ApiError::not_found)?;
            ok(json!({ "user": st.user_json(u) }))
        }
        (Method::GET, ["organizations", "search"]) => {
            let ext = param(q, "external_id");
            let name = param(q, "name");
            if ext.is_none() && name.is_none() {
                return Err(ApiError::bad_request("InvalidParameter", "external_id or name is required"));
            }
            let items: Vec<Value> = st
                .orgs
                .values()
                .filter(|o| ext.is_none_or(|e| o.external_id.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(e))))
                .filter(|o| name.is_none_or(|n| o.name.eq_ignore_ascii_case(n)))
                .map(|o| st.org_json(o))
                .collect();
            ok(page(items, "organizations", q, &base)?)
        }
        (Method::POST, ["organizations", "create_or_update"]) => {
            let input: OrgInput = root(&req.body, "organization")?;
            let (oid, was_created) = st.upsert_org(req.actor, input)?;
            let o = st.orgs.get(&oid).ok_or_else(ApiError::not_found)?;
            let body = json!({ "organization": st.org_json(o) });
            if was_created { created(body) } else { ok(body) }
        }
        (Method::GET, ["organizations", o]) => {
            let o = st.orgs.get(&id(o)?).ok_or_else(ApiError::not_found)?;
            ok(json!({ "organization": st.org_json(o) }))
        }
        (Method::GET, ["groups"]) => {
            let items: Vec<Value> = st.groups.values().map(|g| g.to_json(&st.base)).collect();
            ok(page(items, "groups", q, &base)?)
        }
        (Method::GET, [kind @ ("ticket_fields" | "user_fields" | "organization_fields")]) => {
            let defs = match *kind {
                "ticket_fields" => &st.ticket_fields,
                "user_fields" => &st.user_fields,
                _ => &st.org_fields,
            };
            let mut items: Vec<Value> = Vec::new();
            if *kind == "ticket_fields" {
                items.extend(system_ticket_fields(&st.base));
            }
            items.extend(defs.iter().map(|f| f.to_json(&st.base, kind)));
            ok(json!({ *kind: items, "next_page": null, "previous_page": null, "count": items.len() }))
        }
        (Method::GET, ["satisfaction_ratings"]) => {
            let items = ratings(st, q)?;
            ok(page(items, "satisfaction_ratings", q, &base)?)
        }
        (Method::GET, ["incremental", "tickets", "cursor"]) => {
            let mut rows: Vec<(i64, u64, Value)> =
                st.tickets.values().map(|t| (t.updated_at, t.id, st.ticket_json(t))).collect();
            rows.sort_by_key(|r| (r.0, r.1));
            ok(export_page(rows, "tickets", q, &base, st.now())?)
        }
        (Method::GET, ["incremental", "users", "cursor"]) => {
            let mut rows: Vec<(i64, u64, Value)> =
                st.users.values().map(|u| (u.updated_at, u.id, st.user_json(u))).collect();
            rows.sort_by_key(|r| (r.0, r.1));
            ok(export_page(rows, "users", q, &base, st.now())?)
        }
        _ => Err(ApiError { status: 404, body: json!({ "error": "InvalidEndpoint", "description": "Not found" }) }),
    }
}

fn create_ticket(st: &mut State, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let now = st.now();
    let fingerprint = req.body.clone().unwrap_or(Value::Null);
    if let Some(key) = &req.idempotency_key {
        st.idempotency.retain(|_, r| now - r.at < IDEMPOTENCY_TTL);
        if let Some(rec) = st.idempotency.get(key) {
            if rec.fingerprint != fingerprint {
                return Err(ApiError::bad_request(
                    "IdempotentRequestError",
                    "Request parameters don't match the given idempotency key",
                ));
            }
            return Ok(ApiResponse {
                status: 201,
                body: rec.body.clone(),
                headers: vec![("x-idempotency-lookup".into(), "hit".into())],
            });
        }
    }
    let input: TicketInput = root(&req.body, "ticket")?;
    let tid = st.create_ticket(req.actor, input, "api")?;
    let t = st.tickets.get(&tid).ok_or_else(ApiError::not_found)?;
    let body = json!({ "ticket": st.ticket_json(t), "audit": audit(st, tid, req.actor) });
    let mut headers = vec![(
        "zendesk-ratelimit-ticket-request-create-by-user-and-ip".to_string(),
        "total=300; remaining=299; resets=60".to_string(),
    )];
    if let Some(key) = &req.idempotency_key {
        st.idempotency.insert(key.clone(), IdemRec { fingerprint, body: body.clone(), at: now });
        headers.push(("x-idempotency-lookup".into(), "miss".into()));
    }
    Ok(ApiResponse { status: 201, body, headers })
}

fn search_users(st: &State, q: &Query) -> Vec<Value> {
    if let Some(ext) = param(q, "external_id") {
        return st.user_by_external_id(ext).map(|u| st.user_json(u)).into_iter().collect();
    }
    let query = param(q, "query").unwrap_or_default().trim().to_lowercase();
    let query = query.strip_prefix("email:").unwrap_or(&query).trim_matches('"').to_string();
    if query.is_empty() {
        return Vec::new();
    }
    st.users
        .values()
        .filter(|u| {
            if query.contains('@') {
                u.email.as_deref() == Some(query.as_str()) || u.secondary_emails.contains(&query)
            } else {
                u.name.to_lowercase().contains(&query)
                    || u.external_id.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(&query))
            }
        })
        .map(|u| st.user_json(u))
        .collect()
}

fn upsert_many(st: &mut State, actor: Actor, inputs: Vec<Value>) -> Vec<Value> {
    inputs
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let input: Result<UserInput, _> = serde_json::from_value(raw);
            let (email, ext) = input.as_ref().map(|i| (i.email.clone(), i.external_id.clone())).unwrap_or_default();
            match input
                .map_err(|_| ApiError::bad_request("InvalidValue", "invalid user"))
                .and_then(|i| st.upsert_user(actor, i))
            {
                // The OpenAPI `JobStatusResultObject` is a oneOf: a created row is
                // `{id, index}` (`CreateResourceResult`), an updated one
                // `{id, action, status, success}` (`UpdateResourceResult`); one row must not
                // match both.
                Ok((uid, true)) => json!({
                    "index": index,
                    "id": uid,
                    "status": "Created",
                    "email": email,
                    "external_id": ext,
                }),
                Ok((uid, false)) => json!({
                    "id": uid,
                    "action": "update",
                    "status": "Updated",
                    "success": true,
                    "email": email,
                    "external_id": ext,
                }),
                Err(e) => json!({
                    "index": index,
                    "action": "create_or_update",
                    "success": false,
                    "error": e.body.get("error").cloned().unwrap_or(Value::Null),
                    "details": e.body.get("details").map(Value::to_string).unwrap_or_default(),
                }),
            }
        })
        .collect()
}

fn ratings(st: &State, q: &Query) -> Result<Vec<Value>, ApiError> {
    let score = param(q, "score").unwrap_or("");
    let num = |k: &str| -> Result<Option<i64>, ApiError> {
        param(q, k)
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::bad_request("InvalidValue", "start_time/end_time must be Unix timestamps"))
            })
            .transpose()
    };
    let (start, end) = (num("start_time")?, num("end_time")?);
    let matches = |s: &str, c: bool| -> bool {
        let received = s == "good" || s == "bad";
        match score {
            "" => true,
            "offered" | "unoffered" => s == score,
            "received" => received,
            "received_with_comment" => received && c,
            "received_without_comment" => received && !c,
            "good" | "bad" => s == score,
            "good_with_comment" => s == "good" && c,
            "good_without_comment" => s == "good" && !c,
            "bad_with_comment" => s == "bad" && c,
            "bad_without_comment" => s == "bad" && !c,
            _ => false,
        }
    };
    if !score.is_empty()
        && ![
            "offered",
            "unoffered",
            "received",
            "received_with_comment",
            "received_without_comment",
            "good",
            "bad",
            "good_with_comment",
            "good_without_comment",
            "bad_with_comment",
            "bad_without_comment",
        ]
        .contains(&score)
    {
        return Err(ApiError::bad_request("InvalidValue", "score is not a valid filter"));
    }
    Ok(st
        .ratings
        .values()
        .filter(|r| matches(&r.score, r.comment.is_some()))
        .filter(|r| start.is_none_or(|s| r.created_at >= s) && end.is_none_or(|e| r.created_at <= e))
        .map(|r| r.to_json(&st.base))
        .collect())
}

fn system_ticket_fields(base: &str) -> Vec<Value> {
    [
        (1u64, "subject", "Subject"),
        (2, "description", "Description"),
        (3, "status", "Status"),
        (4, "tickettype", "Type"),
        (5, "priority", "Priority"),
        (6, "group", "Group"),
        (7, "assignee", "Assignee"),
    ]
    .iter()
    .map(|(id, ty, title)| {
        json!({
            "id": id,
            "url": format!("{base}/api/v2/ticket_fields/{id}.json"),
            "type": ty,
            "title": title,
            "raw_title": title,
            "description": "",
            "raw_description": "",
            "position": id,
            "active": true,
            "required": false,
            "removable": false,
            "visible_in_portal": true,
            "editable_in_portal": false,
            "regexp_for_validation": null,
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
        })
    })
    .collect()
}
