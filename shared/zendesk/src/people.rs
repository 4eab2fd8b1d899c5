//! User and organization endpoints.

use reqwest::Method;
use serde_json::json;

use crate::client::{Call, ZdResult, ZendeskClient, join_ids};
use crate::error::ZendeskError;
use crate::types::{JobStatus, OrganizationWrite, Upserted, UserWrite, ZdOrganization, ZdUser};

/// Users per `show_many` / `create_or_update_many` call.
const BULK_CHUNK: usize = 100;

impl ZendeskClient {
    /// `GET /users/{id}`.
    pub async fn show_user(&self, id: u64) -> ZdResult<ZdUser> {
        self.send(&Call::get(format!("/users/{id}"))).await?.take("user")
    }

    /// `GET /users/show_many?ids=` in chunks of 100.
    pub async fn show_many_users(&self, ids: &[u64]) -> ZdResult<Vec<ZdUser>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BULK_CHUNK) {
            let call = Call::get("/users/show_many").query("ids", join_ids(chunk));
            let users: Vec<ZdUser> = self.send(&call).await?.take("users")?;
            out.extend(users);
        }
        Ok(out)
    }

    /// `GET /users/search?query=<email>`: users with this email.
    pub async fn search_users_by_email(&self, email: &str) -> ZdResult<Vec<ZdUser>> {
        let call = Call::get("/users/search").query("query", email);
        let users: Vec<ZdUser> = self.list_offset(call, "users").await?;
        // The query is a search; keep exact (case-insensitive) email matches only.
        Ok(users.into_iter().filter(|u| u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email))).collect())
    }

    /// `GET /users/search?external_id=`: the user with this external id, if any.
    pub async fn search_users_by_external_id(&self, external_id: &str) -> ZdResult<Vec<ZdUser>> {
        let call = Call::get("/users/search").query("external_id", external_id);
        self.list_offset(call, "users").await
    }

    /// `POST /users/create_or_update`: matched on email or external id; `created` on 201.
    pub async fn create_or_update_user(&self, user: &UserWrite) -> ZdResult<Upserted<ZdUser>> {
        let call = Call::new(Method::POST, "/users/create_or_update").json(&json!({ "user": user }))?;
        let reply = self.send(&call).await?;
        Ok(Upserted { created: reply.status == 201, record: reply.take("user")? })
    }

    /// `POST /users/create_or_update_many` in jobs of at most 100 users, each polled until it
    /// finishes. Returns the finished jobs in order.
    pub async fn create_or_update_many_users(&self, users: &[UserWrite]) -> ZdResult<Vec<JobStatus>> {
        let mut jobs = Vec::new();
        for chunk in users.chunks(BULK_CHUNK) {
            let job = self.start_create_or_update_many_users(chunk).await?;
            jobs.push(self.wait_for_job(job).await?);
        }
        Ok(jobs)
    }

    /// `POST /users/create_or_update_many` for at most 100 users: the queued job, not waited
    /// for (poll it with [`Self::job_status`]). More than 100 users is refused before any call.
    pub async fn start_create_or_update_many_users(&self, users: &[UserWrite]) -> ZdResult<JobStatus> {
        if users.len() > BULK_CHUNK {
            return Err(ZendeskError::Permanent {
                status: 400,
                error: Some("TooManyValues".into()),
                description: Some(format!("at most {BULK_CHUNK} users per bulk job, got {}", users.len())),
            });
        }
        let call = Call::new(Method::POST, "/users/create_or_update_many").json(&json!({ "users": users }))?;
        self.send(&call).await?.take("job_status")
    }

    /// `PUT /users/{id}`. An email here adds a secondary identity instead of replacing it.
    pub async fn update_user(&self, id: u64, user: &UserWrite) -> ZdResult<ZdUser> {
        let call = Call::new(Method::PUT, format!("/users/{id}")).json(&json!({ "user": user }))?;
        self.send(&call).await?.take("user")
    }

    /// `GET /users/me`: the authenticated (integration) user.
    pub async fn me(&self) -> ZdResult<ZdUser> {
        self.send(&Call::get("/users/me")).await?.take("user")
    }

    /// The integration user's id, fetched once and cached for the client's life.
    pub async fn own_user_id(&self) -> ZdResult<u64> {
        self.me_cell().get_or_try_init(|| async { self.me().await.map(|u| u.id) }).await.copied()
    }

    /// `GET /organizations/{id}`.
    pub async fn show_organization(&self, id: u64) -> ZdResult<ZdOrganization> {
        self.send(&Call::get(format!("/organizations/{id}"))).await?.take("organization")
    }

    /// `GET /organizations/search?external_id=`.
    pub async fn search_organizations_by_external_id(&self, external_id: &str) -> ZdResult<Vec<ZdOrganization>> {
        let call = Call::get("/organizations/search").query("external_id", external_id);
        self.list_offset(call, "organizations").await
    }

    /// `POST /organizations/create_or_update`: matched on external id only; `created` on 201.
    pub async fn create_or_update_organization(&self, org: &OrganizationWrite) -> ZdResult<Upserted<ZdOrganization>> {
        let call = Call::new(Method::POST, "/organizations/create_or_update").json(&json!({ "organization": org }))?;
        let reply = self.send(&call).await?;
        Ok(Upserted { created: reply.status == 201, record: reply.take("organization")? })
    }
}
