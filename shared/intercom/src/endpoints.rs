//! Endpoint methods of [`IntercomClient`], grouped by resource. They return the tolerant
//! [`wire`] types; the [`Messenger`](bridge_domain::ports::Messenger) implementation converts
//! them into the domain model.

use std::collections::BTreeMap;

use bridge_domain::ids::{AdminId, CompanyId, ContactId, ConversationId, TagId, TeamId};
use bridge_domain::model::{ConversationChange, FieldValue, MessageChannel, OutboundMessage};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::client::{ApiRequest, IntercomClient, Page, collect_pages};
use crate::convert::field_json;
use crate::error::IntercomError;
use crate::query::{Query, Sort};
use crate::wire::{self, ConversationList, DataList};

/// Largest page Intercom serves.
const MAX_PER_PAGE: u32 = 150;
/// Safety cap on pages collected by the `*_all` helpers.
const MAX_PAGES: usize = 200;

/// Admin reply kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// Visible to the customer.
    Comment,
    /// Internal note.
    Note,
}

/// Which schema `GET /data_attributes` lists (2.16 refuses `conversation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeModel {
    /// Contact attributes.
    Contact,
    /// Company attributes.
    Company,
}

/// Fields written on contact create/update (absent fields are left alone).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContactWrite {
    /// `user` or `lead`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Customer's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Custom attributes (must exist in the workspace schema).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_attributes: BTreeMap<String, FieldValue>,
}

/// Fields of the company upsert (`POST /companies`, keyed by `company_id`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CompanyWrite {
    /// Customer's company id (immutable once created).
    pub company_id: String,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Plan name (a string on write).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Monthly spend (Intercom truncates to an integer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_spend: Option<f64>,
    /// Size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Website.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Industry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    /// Custom attributes.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_attributes: BTreeMap<String, FieldValue>,
}

/// `PUT /conversations/{id}` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateConversation {
    /// Mark read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<bool>,
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Conversation attributes to set (must exist).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_attributes: BTreeMap<String, FieldValue>,
}

/// `POST /conversations/attributes` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewConversationAttribute {
    /// Name.
    pub name: String,
    /// `string|integer|list|decimal|boolean|datetime`.
    pub data_type: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn cursor_page<T>(items: Vec<T>, pages: Option<wire::Pages>, total_count: Option<u64>) -> Page<T> {
    Page { items, next: pages.and_then(|p| p.next_cursor()), total_count }
}

fn search_body(query: &Query, sort: Option<&Sort>, per_page: u32, starting_after: Option<String>) -> Value {
    let mut pagination = json!({"per_page": per_page.clamp(1, MAX_PER_PAGE)});
    if let Some(cursor) = starting_after {
        pagination["starting_after"] = Value::String(cursor);
    }
    let mut body = json!({"query": query.to_json(), "pagination": pagination});
    if let Some(sort) = sort {
        body["sort"] = sort.to_json();
    }
    body
}

fn attributes_json(map: &BTreeMap<String, FieldValue>) -> Map<String, Value> {
    map.iter().map(|(k, v)| (k.clone(), field_json(v))).collect()
}

/// `{type:"list", data}` or `{type:"tag.list"|…, <key>: [...]}` without pagination.
fn unwrap_list<T: serde::de::DeserializeOwned>(v: Value, key: &str, what: &str) -> Result<Vec<T>, IntercomError> {
    let items = v.get(key).or_else(|| v.get("data")).cloned().unwrap_or(Value::Array(Vec::new()));
    let items = match items {
        Value::Array(items) => items,
        _ => {
            return Err(IntercomError::Decode { what: what.to_string(), reason: format!("`{key}` is not a list") });
        }
    };
    // Tolerant: skip entries that do not decode rather than failing the whole list.
    Ok(items.into_iter().filter_map(|i| serde_json::from_value(i).ok()).collect())
}

/// Conversations.
impl IntercomClient {
    /// `GET /conversations/{id}`: the conversation with its parts (at most the 500 most recent;
    /// `conversation_parts.total_count` is the true count). `plaintext` asks for
    /// `display_as=plaintext` bodies.
    pub async fn retrieve_conversation(
        &self,
        id: &ConversationId,
        plaintext: bool,
    ) -> Result<wire::Conversation, IntercomError> {
        let mut req = ApiRequest::get(&["conversations", id.as_str()], format!("conversation {id}"));
        if plaintext {
            req = req.query("display_as", "plaintext");
        }
        self.call(req).await
    }

    /// `GET /conversations`: one page, newest first.
    pub async fn list_conversations(
        &self,
        per_page: u32,
        starting_after: Option<String>,
    ) -> Result<Page<wire::Conversation>, IntercomError> {
        let mut req =
            ApiRequest::get(&["conversations"], "conversation list").query("per_page", per_page.clamp(1, MAX_PER_PAGE));
        if let Some(cursor) = starting_after {
            req = req.query("starting_after", cursor);
        }
        let list: ConversationList = self.call(req).await?;
        Ok(cursor_page(list.conversations, list.pages, list.total_count))
    }

    /// Every conversation (all pages, up to the safety cap).
    pub async fn list_all_conversations(&self) -> Result<Vec<wire::Conversation>, IntercomError> {
        collect_pages("conversation list", MAX_PAGES, |c| self.list_conversations(MAX_PER_PAGE, c)).await
    }

    /// `POST /conversations/search`: one page.
    pub async fn search_conversations(
        &self,
        query: &Query,
        per_page: u32,
        starting_after: Option<String>,
    ) -> Result<Page<wire::Conversation>, IntercomError> {
        self.search_conversations_sorted(query, None, per_page, starting_after).await
    }

    /// `POST /conversations/search` with a `sort`: one page.
    pub async fn search_conversations_sorted(
        &self,
        query: &Query,
        sort: Option<&Sort>,
        per_page: u32,
        starting_after: Option<String>,
    ) -> Result<Page<wire::Conversation>, IntercomError> {
        let req = ApiRequest::new(Method::POST, &["conversations", "search"], "conversation search")
            .body(search_body(query, sort, per_page, starting_after))
            .idempotent();
        let list: ConversationList = self.call(req).await?;
        Ok(cursor_page(list.conversations, list.pages, list.total_count))
    }

    /// Every matching conversation (all pages, up to the safety cap).
    pub async fn search_all_conversations(&self, query: &Query) -> Result<Vec<wire::Conversation>, IntercomError> {
        collect_pages("conversation search", MAX_PAGES, |c| self.search_conversations(query, MAX_PER_PAGE, c)).await
    }

    /// `POST /conversations/{id}/reply` as an admin (comment or note). Not deduplicated by
    /// Intercom: an ambiguous failure is returned, not retried.
    pub async fn reply_as_admin(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        kind: ReplyKind,
        body: &str,
    ) -> Result<wire::Conversation, IntercomError> {
        self.reply_with_files(id, admin, kind, body, &[]).await
    }

    /// `POST /conversations/{id}/reply` as the contact.
    pub async fn reply_as_contact(
        &self,
        id: &ConversationId,
        contact: &ContactId,
        body: &str,
    ) -> Result<wire::Conversation, IntercomError> {
        let req = ApiRequest::new(Method::POST, &["conversations", id.as_str(), "reply"], format!("conversation {id}"))
            .body(
                json!({"message_type": "comment", "type": "user", "intercom_user_id": contact.as_str(), "body": body}),
            );
        self.call(req).await
    }

    /// `POST /conversations/{id}/parts`: close, open, snooze or assign. An assignment to both
    /// an admin and a team takes two calls; `Assign` with neither unassigns the admin.
    pub async fn manage_conversation(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        change: &ConversationChange,
    ) -> Result<wire::Conversation, IntercomError> {
        let bodies: Vec<Value> = match change {
            ConversationChange::Close { body } => {
                let mut b = json!({"message_type": "close", "type": "admin", "admin_id": admin.as_str()});
                if let Some(text) = body {
                    b["body"] = Value::String(text.clone());
                }
                vec![b]
            }
            ConversationChange::Open => {
                vec![json!({"message_type": "open", "admin_id": admin.as_str()})]
            }
            ConversationChange::Snooze { until } => {
                vec![json!({"message_type": "snoozed", "admin_id": admin.as_str(), "snoozed_until": until.0})]
            }
            ConversationChange::Assign { admin: to_admin, team } => {
                assignment_bodies(admin, to_admin.as_ref(), team.as_ref())
            }
        };
        let mut last = None;
        for body in bodies {
            let req =
                ApiRequest::new(Method::POST, &["conversations", id.as_str(), "parts"], format!("conversation {id}"))
                    .body(body)
                    .idempotent();
            last = Some(self.call(req).await?);
        }
        last.ok_or_else(|| IntercomError::Decode { what: format!("conversation {id}"), reason: "no change".into() })
    }

    /// `PUT /conversations/{id}`.
    pub async fn update_conversation(
        &self,
        id: &ConversationId,
        update: &UpdateConversation,
    ) -> Result<wire::Conversation, IntercomError> {
        let mut body = json!({});
        if let Some(read) = update.read {
            body["read"] = Value::Bool(read);
        }
        if let Some(title) = &update.title {
            body["title"] = Value::String(title.clone());
        }
        if !update.custom_attributes.is_empty() {
            body["custom_attributes"] = Value::Object(attributes_json(&update.custom_attributes));
        }
        let req =
            ApiRequest::new(Method::PUT, &["conversations", id.as_str()], format!("conversation {id}")).body(body);
        self.call(req).await
    }

    /// `POST /conversations/{id}/tags`.
    pub async fn add_conversation_tag(
        &self,
        id: &ConversationId,
        tag: &TagId,
        admin: &AdminId,
    ) -> Result<wire::Tag, IntercomError> {
        let req = ApiRequest::new(Method::POST, &["conversations", id.as_str(), "tags"], format!("conversation {id}"))
            .body(json!({"id": tag.as_str(), "admin_id": admin.as_str()}))
            .idempotent();
        self.call(req).await
    }

    /// `DELETE /conversations/{id}/tags/{tag_id}` (with an `admin_id` body).
    pub async fn remove_conversation_tag(
        &self,
        id: &ConversationId,
        tag: &TagId,
        admin: &AdminId,
    ) -> Result<wire::Tag, IntercomError> {
        let req = ApiRequest::new(
            Method::DELETE,
            &["conversations", id.as_str(), "tags", tag.as_str()],
            format!("tag {tag} on conversation {id}"),
        )
        .body(json!({"admin_id": admin.as_str()}));
        self.call(req).await
    }

    /// `GET /conversations/attributes` (2.16).
    pub async fn list_conversation_attributes(&self) -> Result<Vec<wire::ConversationAttribute>, IntercomError> {
        let v: Value = self.call(ApiRequest::get(&["conversations", "attributes"], "conversation attributes")).await?;
        unwrap_list(v, "data", "conversation attributes")
    }

    /// `POST /conversations/attributes` (2.16).
    pub async fn create_conversation_attribute(
        &self,
        attribute: &NewConversationAttribute,
    ) -> Result<wire::ConversationAttribute, IntercomError> {
        let body = serde_json::to_value(attribute)
            .map_err(|e| IntercomError::InvalidRequest(format!("conversation attribute: {e}")))?;
        self.call(ApiRequest::new(Method::POST, &["conversations", "attributes"], "conversation attribute").body(body))
            .await
    }
}

fn assignment_bodies(admin: &AdminId, to_admin: Option<&AdminId>, team: Option<&TeamId>) -> Vec<Value> {
    let body = |kind: &str, assignee: &str| json!({"message_type": "assignment", "type": kind, "admin_id": admin.as_str(), "assignee_id": assignee});
    let mut bodies = Vec::new();
    if let Some(team) = team {
        bodies.push(body("team", team.as_str()));
    }
    if let Some(to) = to_admin {
        bodies.push(body("admin", to.as_str()));
    }
    if bodies.is_empty() {
        bodies.push(body("admin", "0"));
    }
    bodies
}

/// Contacts.
impl IntercomClient {
    /// `GET /contacts/{id}`; a merged contact is [`IntercomError::Merged`].
    pub async fn retrieve_contact(&self, id: &ContactId) -> Result<wire::Contact, IntercomError> {
        self.call(ApiRequest::get(&["contacts", id.as_str()], format!("contact {id}"))).await
    }

    /// `GET /contacts/find_by_external_id/{external_id}` (users only); `None` on 404.
    pub async fn find_contact_by_external_id(&self, external_id: &str) -> Result<Option<wire::Contact>, IntercomError> {
        let req = ApiRequest::get(&["contacts", "find_by_external_id", external_id], "contact by external id");
        match self.call(req).await {
            Ok(c) => Ok(Some(c)),
            Err(IntercomError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /contacts/search`: one page.
    pub async fn search_contacts(
        &self,
        query: &Query,
        per_page: u32,
        starting_after: Option<String>,
    ) -> Result<Page<wire::Contact>, IntercomError> {
        let req = ApiRequest::new(Method::POST, &["contacts", "search"], "contact search")
            .body(search_body(query, None, per_page, starting_after))
            .idempotent();
        let list: DataList<wire::Contact> = self.call(req).await?;
        Ok(cursor_page(list.data, list.pages, list.total_count))
    }

    /// Every matching contact (all pages, up to the safety cap). Contact date filters are
    /// truncated to the day by Intercom (2.16): query from the previous day and de-duplicate.
    pub async fn search_all_contacts(&self, query: &Query) -> Result<Vec<wire::Contact>, IntercomError> {
        collect_pages("contact search", MAX_PAGES, |c| self.search_contacts(query, MAX_PER_PAGE, c)).await
    }

    /// `POST /contacts`. A duplicate answers [`IntercomError::Conflict`] with the existing id.
    pub async fn create_contact(&self, contact: &ContactWrite) -> Result<wire::Contact, IntercomError> {
        let body = contact_json(contact)?;
        self.call(ApiRequest::new(Method::POST, &["contacts"], "contact create").body(body)).await
    }

    /// `PUT /contacts/{id}`.
    pub async fn update_contact(&self, id: &ContactId, contact: &ContactWrite) -> Result<wire::Contact, IntercomError> {
        let body = contact_json(contact)?;
        self.call(ApiRequest::new(Method::PUT, &["contacts", id.as_str()], format!("contact {id}")).body(body)).await
    }

    /// `POST /contacts/{id}/companies` with Intercom's company id.
    pub async fn attach_company(
        &self,
        contact: &ContactId,
        company: &CompanyId,
    ) -> Result<wire::Company, IntercomError> {
        let req =
            ApiRequest::new(Method::POST, &["contacts", contact.as_str(), "companies"], format!("company {company}"))
                .body(json!({"id": company.as_str()}))
                .idempotent();
        self.call(req).await
    }

    /// `GET /contacts/{id}/companies`, every page (the list is under `data`).
    pub async fn list_contact_companies(&self, id: &ContactId) -> Result<Vec<wire::Company>, IntercomError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let req = ApiRequest::get(&["contacts", id.as_str(), "companies"], format!("contact {id}"))
                .query("page", page)
                .query("per_page", 50);
            let list: DataList<wire::Company> = self.call(req).await?;
            let done = list.data.is_empty() || !list.pages.as_ref().is_some_and(wire::Pages::has_next_page);
            out.extend(list.data);
            if done {
                break;
            }
        }
        Ok(out)
    }

    /// `GET /contacts/{id}/tags`.
    pub async fn list_contact_tags(&self, id: &ContactId) -> Result<Vec<wire::Tag>, IntercomError> {
        let v: Value = self.call(ApiRequest::get(&["contacts", id.as_str(), "tags"], format!("contact {id}"))).await?;
        unwrap_list(v, "data", "contact tags")
    }

    /// `POST /contacts/{id}/tags`.
    pub async fn add_contact_tag(&self, id: &ContactId, tag: &TagId) -> Result<wire::Tag, IntercomError> {
        let req = ApiRequest::new(Method::POST, &["contacts", id.as_str(), "tags"], format!("contact {id}"))
            .body(json!({"id": tag.as_str()}))
            .idempotent();
        self.call(req).await
    }

    /// `DELETE /contacts/{id}/tags/{tag_id}`.
    pub async fn remove_contact_tag(&self, id: &ContactId, tag: &TagId) -> Result<wire::Tag, IntercomError> {
        let req = ApiRequest::new(
            Method::DELETE,
            &["contacts", id.as_str(), "tags", tag.as_str()],
            format!("tag {tag} on contact {id}"),
        );
        self.call(req).await
    }

    /// `GET /contacts/{id}/segments`.
    pub async fn list_contact_segments(&self, id: &ContactId) -> Result<Vec<wire::Segment>, IntercomError> {
        let v: Value =
            self.call(ApiRequest::get(&["contacts", id.as_str(), "segments"], format!("contact {id}"))).await?;
        unwrap_list(v, "data", "contact segments")
    }
}

fn contact_json(contact: &ContactWrite) -> Result<Value, IntercomError> {
    let mut body = serde_json::to_value(contact).map_err(|e| IntercomError::InvalidRequest(format!("contact: {e}")))?;
    if !contact.custom_attributes.is_empty() {
        body["custom_attributes"] = Value::Object(attributes_json(&contact.custom_attributes));
    }
    Ok(body)
}

mod workspace;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
