//! GDPR erasure on the Zendesk side: `DELETE /users/{id}` (soft delete), then
//! `DELETE /deleted_users/{id}` (permanent deletion, which removes the person's data).

use bridge_domain::erasure::PersonEraser;
use bridge_domain::event::Vendor;
use bridge_domain::ports::{PortError, PortResult, Service};
use reqwest::Method;

use crate::ZendeskClient;
use crate::client::{Call, ZdResult};

impl ZendeskClient {
    /// `DELETE /users/{id}`: soft-deletes a user.
    pub async fn delete_user(&self, id: u64) -> ZdResult<()> {
        self.send(&Call::new(Method::DELETE, format!("/users/{id}"))).await?;
        Ok(())
    }

    /// `DELETE /deleted_users/{id}`: permanently deletes a soft-deleted user.
    pub async fn permanently_delete_user(&self, id: u64) -> ZdResult<()> {
        self.send(&Call::new(Method::DELETE, format!("/deleted_users/{id}"))).await?;
        Ok(())
    }
}

impl PersonEraser for ZendeskClient {
    fn side(&self) -> Vendor {
        Vendor::Zendesk
    }

    async fn delete_person(&self, id: &str) -> PortResult<bool> {
        let id: u64 =
            id.parse().map_err(|_| PortError::rejected(Service::Zendesk, format!("user id {id:?} is not a number")))?;
        let existed = match self.delete_user(id).await.map_err(PortError::from) {
            Ok(()) => true,
            // Already soft-deleted (or never existed): the permanent deletion still applies.
            Err(PortError::NotFound { .. }) => false,
            Err(e) => return Err(e),
        };
        match self.permanently_delete_user(id).await.map_err(PortError::from) {
            Ok(()) => Ok(true),
            Err(PortError::NotFound { .. }) => Ok(existed),
            Err(e) => Err(e),
        }
    }
}
