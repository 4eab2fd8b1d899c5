//! Endpoint methods of [`IntercomClient`] for the workspace: companies, tags, segments, admins,
//! teams, data attributes, messages.

use super::*;

/// Companies.
impl IntercomClient {
    /// `POST /companies`: creates or updates the company with this `company_id`.
    pub async fn upsert_company(&self, company: &CompanyWrite) -> Result<wire::Company, IntercomError> {
        let mut body =
            serde_json::to_value(company).map_err(|e| IntercomError::InvalidRequest(format!("company: {e}")))?;
        if let Some(spend) = company.monthly_spend {
            body["monthly_spend"] = Value::from(spend.trunc() as i64);
        }
        if !company.custom_attributes.is_empty() {
            body["custom_attributes"] = Value::Object(attributes_json(&company.custom_attributes));
        }
        self.call(ApiRequest::new(Method::POST, &["companies"], "company upsert").body(body).idempotent()).await
    }

    /// `GET /companies/{id}`.
    pub async fn retrieve_company(&self, id: &CompanyId) -> Result<wire::Company, IntercomError> {
        self.call(ApiRequest::get(&["companies", id.as_str()], format!("company {id}"))).await
    }

    /// `GET /companies?page=&per_page=`: one page-numbered page; the flag says whether another
    /// page follows.
    pub async fn list_companies(&self, page: u32, per_page: u32) -> Result<(Vec<wire::Company>, bool), IntercomError> {
        let req = ApiRequest::get(&["companies"], "company list")
            .query("page", page.max(1))
            .query("per_page", per_page.clamp(1, 60));
        let list: DataList<wire::Company> = self.call(req).await?;
        let more = !list.data.is_empty() && list.pages.as_ref().is_some_and(wire::Pages::has_next_page);
        Ok((list.data, more))
    }

    /// Every company (page-numbered, up to the safety cap; Intercom stops at 10,000 — use the
    /// scroll API beyond that).
    pub async fn list_all_companies(&self) -> Result<Vec<wire::Company>, IntercomError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES as u32 {
            let (items, more) = self.list_companies(page, 60).await?;
            out.extend(items);
            if !more {
                return Ok(out);
            }
        }
        tracing::warn!(what = "company list", "pagination stopped at the safety cap");
        Ok(out)
    }
}

/// Tags, segments, admins, teams, attributes, messages.
impl IntercomClient {
    /// `GET /tags` (not paginated).
    pub async fn list_tags(&self) -> Result<Vec<wire::Tag>, IntercomError> {
        let v: Value = self.call(ApiRequest::get(&["tags"], "tag list")).await?;
        unwrap_list(v, "data", "tag list")
    }

    /// `POST /tags {name}`: creates the tag or returns the existing one.
    pub async fn create_tag(&self, name: &str) -> Result<wire::Tag, IntercomError> {
        self.call(ApiRequest::new(Method::POST, &["tags"], "tag create").body(json!({"name": name})).idempotent()).await
    }

    /// Resolves a tag name (case-insensitive) to its id through a cache filled from `GET /tags`;
    /// with `create`, a missing tag is created with `POST /tags`.
    pub async fn resolve_tag(&self, name: &str, create: bool) -> Result<Option<TagId>, IntercomError> {
        let key = name.trim().to_lowercase();
        if let Some(id) = self.tag_cache().get(&key) {
            return Ok(Some(id.clone()));
        }
        let tags = self.list_tags().await?;
        {
            let mut cache = self.tag_cache();
            for t in tags {
                if let Ok(id) = TagId::parse(t.id) {
                    cache.insert(t.name.to_lowercase(), id);
                }
            }
            if let Some(id) = cache.get(&key) {
                return Ok(Some(id.clone()));
            }
        }
        if !create {
            return Ok(None);
        }
        let tag = self.create_tag(name.trim()).await?;
        let id = TagId::parse(tag.id)
            .map_err(|e| IntercomError::Decode { what: "tag create".into(), reason: e.to_string() })?;
        self.tag_cache().insert(key, id.clone());
        Ok(Some(id))
    }

    /// `GET /segments` (`include_count` adds member counts).
    pub async fn list_segments(&self, include_count: bool) -> Result<Vec<wire::Segment>, IntercomError> {
        let mut req = ApiRequest::get(&["segments"], "segment list");
        if include_count {
            req = req.query("include_count", "true");
        }
        let v: Value = self.call(req).await?;
        unwrap_list(v, "segments", "segment list")
    }

    /// `GET /admins`.
    pub async fn list_admins(&self) -> Result<Vec<wire::Admin>, IntercomError> {
        let v: Value = self.call(ApiRequest::get(&["admins"], "admin list")).await?;
        unwrap_list(v, "admins", "admin list")
    }

    /// `GET /admins/{id}`.
    pub async fn retrieve_admin(&self, id: &AdminId) -> Result<wire::Admin, IntercomError> {
        self.call(ApiRequest::get(&["admins", id.as_str()], format!("admin {id}"))).await
    }

    /// `GET /me`: the token's admin and its workspace (a cheap auth check).
    pub async fn me(&self) -> Result<wire::Admin, IntercomError> {
        self.call(ApiRequest::get(&["me"], "me")).await
    }

    /// `GET /teams`.
    pub async fn list_teams(&self) -> Result<Vec<wire::Team>, IntercomError> {
        let v: Value = self.call(ApiRequest::get(&["teams"], "team list")).await?;
        unwrap_list(v, "teams", "team list")
    }

    /// `GET /data_attributes?model=contact|company`.
    pub async fn list_data_attributes(&self, model: AttributeModel) -> Result<Vec<wire::DataAttribute>, IntercomError> {
        let model = match model {
            AttributeModel::Contact => "contact",
            AttributeModel::Company => "company",
        };
        let v: Value =
            self.call(ApiRequest::get(&["data_attributes"], "data attributes").query("model", model)).await?;
        unwrap_list(v, "data", "data attributes")
    }

    /// `POST /messages`: a proactive message from an admin to a contact. In-app messages are
    /// sent as `inapp` (what the API and Intercom's SDK use); email needs a subject. Not
    /// deduplicated by Intercom: an ambiguous failure is returned, not retried.
    pub async fn send_message(&self, message: &OutboundMessage) -> Result<wire::Message, IntercomError> {
        let mut body = json!({
            "from": {"type": "admin", "id": message.from.as_str()},
            "to": {"type": "user", "id": message.to.as_str()},
            "body": message.body,
        });
        match message.channel {
            MessageChannel::InApp => body["message_type"] = json!("inapp"),
            MessageChannel::Email => {
                let subject = message
                    .subject
                    .clone()
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| IntercomError::InvalidRequest("an email message needs a subject".into()))?;
                body["message_type"] = json!("email");
                body["subject"] = json!(subject);
                body["template"] = json!("plain");
            }
        }
        self.call(ApiRequest::new(Method::POST, &["messages"], "message").body(body)).await
    }
}
