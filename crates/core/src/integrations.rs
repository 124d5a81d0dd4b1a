//! Integrations of a project: create, read, update, delete. What they send is in
//! [`crate::events`].

use crate::error::{Error, Result};
use crate::services::{Scope, Services};
use cairn_model::{Delivery, Integration, IntegrationId, IntegrationRequest};

impl Services {
    fn checked(request: &IntegrationRequest) -> Result<String> {
        let mut errors = request.data.check();
        let description = request.description.trim();
        if description.is_empty() {
            errors.insert("description".into(), "a description is required".into());
        }
        if errors.is_empty() {
            Ok(description.to_owned())
        } else {
            Err(Error::Invalid(errors))
        }
    }

    pub async fn create_integration(
        &self,
        scope: &Scope,
        request: &IntegrationRequest,
    ) -> Result<Integration> {
        let description = Self::checked(request)?;
        self.get_project(&scope.organization_id, &scope.project_id)
            .await?;
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let integration = Integration {
            id: IntegrationId::from_raw(raw),
            organization_id: scope.organization_id.clone(),
            project_id: scope.project_id.clone(),
            description,
            source: request.source,
            sink: request.data.clone(),
            created: raw.time(),
            updated: raw.time(),
        };
        self.inner().store.insert_integration(&integration).await?;
        Ok(integration)
    }

    pub async fn get_integration(&self, scope: &Scope, id: &IntegrationId) -> Result<Integration> {
        self.inner()
            .store
            .integration(id)
            .await?
            .filter(|i| i.project_id == scope.project_id)
            .ok_or_else(|| Error::not_found("integration", id))
    }

    pub async fn list_integrations(&self, scope: &Scope) -> Result<Vec<Integration>> {
        self.inner().store.integrations(&scope.project_id).await
    }

    /// Replaces the description, source and sink. Deliveries already queued go to the new
    /// sink (they are sent with the integration as it is when tried).
    pub async fn update_integration(
        &self,
        scope: &Scope,
        id: &IntegrationId,
        request: &IntegrationRequest,
    ) -> Result<Integration> {
        let mut integration = self.get_integration(scope, id).await?;
        integration.description = Self::checked(request)?;
        integration.source = request.source;
        integration.sink = request.data.clone();
        integration.updated = self.inner().clock.now();
        if !self.inner().store.update_integration(&integration).await? {
            return Err(Error::not_found("integration", id));
        }
        Ok(integration)
    }

    pub async fn delete_integration(&self, scope: &Scope, id: &IntegrationId) -> Result<()> {
        self.get_integration(scope, id).await?;
        let now = self.inner().clock.now();
        if self.inner().store.delete_integration(id, now).await? {
            Ok(())
        } else {
            Err(Error::not_found("integration", id))
        }
    }

    /// An integration's delivery log, newest first.
    pub async fn integration_deliveries(
        &self,
        scope: &Scope,
        id: &IntegrationId,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        self.get_integration(scope, id).await?;
        self.inner().store.deliveries(id, limit).await
    }
}
