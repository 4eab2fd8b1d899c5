//! GDPR erasure on the Intercom side: `DELETE /contacts/{id}`.

use bridge_domain::erasure::PersonEraser;
use bridge_domain::event::Vendor;
use bridge_domain::ports::{PortError, PortResult};
use reqwest::Method;

use crate::IntercomClient;
use crate::client::ApiRequest;

impl IntercomClient {
    /// `DELETE /contacts/{id}`: deletes a contact (and their data) for good.
    pub async fn delete_contact(&self, id: &str) -> Result<(), crate::IntercomError> {
        let _: serde_json::Value =
            self.call(ApiRequest::new(Method::DELETE, &["contacts", id], format!("contact {id}"))).await?;
        Ok(())
    }
}

impl PersonEraser for IntercomClient {
    fn side(&self) -> Vendor {
        Vendor::Intercom
    }

    async fn delete_person(&self, id: &str) -> PortResult<bool> {
        match self.delete_contact(id).await.map_err(PortError::from) {
            Ok(()) => Ok(true),
            Err(PortError::NotFound { .. } | PortError::Merged { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
