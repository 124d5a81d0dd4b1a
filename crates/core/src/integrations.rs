//! Integrations of a project: create, read, update, delete. What they send is in
//! [`crate::events`].

use crate::error::{Error, Result};
use crate::services::{Scope, Services};
use cairn_model::Permission;
use cairn_model::{Delivery, Integration, IntegrationId, IntegrationRequest};

impl Services {
    fn checked(request: &IntegrationRequest) -> Result<String> {
        let mut errors = request.data.check();
        // On create and on update alike.
        if let Err(message) = cairn_model::check_text(
            "description",
            &request.description,
            cairn_model::text::MAX_DESCRIPTION_LEN,
        ) {
            errors.insert("description".into(), message);
        }
        if errors.is_empty() {
            Ok(request.description.trim().to_owned())
        } else {
            Err(Error::Invalid(errors))
        }
    }

    pub async fn create_integration(
        &self,
        scope: &Scope,
        request: &IntegrationRequest,
    ) -> Result<Integration> {
        scope.require(Permission::Operate)?;
        let description = Self::checked(request)?;
        self.project_of(&scope.organization_id, &scope.project_id)
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
        scope.require(Permission::Read)?;
        self.inner()
            .store
            .integration(id)
            .await?
            .filter(|i| i.project_id == scope.project_id)
            .ok_or_else(|| Error::not_found("integration", id))
    }

    pub async fn list_integrations(&self, scope: &Scope) -> Result<Vec<Integration>> {
        scope.require(Permission::Read)?;
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
        scope.require(Permission::Operate)?;
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
        scope.require(Permission::Operate)?;
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
        scope.require(Permission::Read)?;
        self.get_integration(scope, id).await?;
        self.inner().store.deliveries(id, limit).await
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::fixture;
    use crate::Error;
    use cairn_model::{EventSource, IntegrationRequest, Sink};

    fn request(description: &str) -> IntegrationRequest {
        IntegrationRequest {
            description: description.into(),
            source: EventSource::Notifications,
            data: Sink::Webhook {
                url: "https://hooks.example.com/cairn".into(),
                secret: "0123456789abcdef0123".into(),
            },
        }
    }

    #[tokio::test]
    async fn an_update_refuses_a_description_longer_than_a_create_accepts() {
        let f = fixture().await;
        let too_long = "x".repeat(cairn_model::text::MAX_DESCRIPTION_LEN + 1);
        let limit = "a description has at most 128 characters";
        let Err(Error::Invalid(fields)) = f
            .services
            .create_integration(&f.scope, &request(&too_long))
            .await
        else {
            panic!("a create with a long description is refused");
        };
        assert_eq!(fields["description"], limit);

        let integration = f
            .services
            .create_integration(&f.scope, &request("ops webhook"))
            .await
            .unwrap();
        let Err(Error::Invalid(fields)) = f
            .services
            .update_integration(&f.scope, &integration.id, &request(&too_long))
            .await
        else {
            panic!("an update with a long description is refused");
        };
        assert_eq!(fields["description"], limit);
        let stored = f
            .services
            .get_integration(&f.scope, &integration.id)
            .await
            .unwrap();
        assert_eq!(stored.description, "ops webhook");
    }
}
