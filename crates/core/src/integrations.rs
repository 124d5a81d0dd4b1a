//! Integrations of a project: create, read, update, delete (each recorded in the audit). What
//! they send is in [`crate::events`].

use crate::audit::{Record, Subject};
use crate::error::{Error, Result};
use crate::services::{Scope, Services};
use cairn_model::audit::actions;
use cairn_model::Permission;
use cairn_model::{Delivery, Integration, IntegrationId, IntegrationRequest};

/// An integration in the audit's words, "ops (webhook)": its description and the kind of its
/// sink, never where the sink is (a URL may hold its secret).
pub(crate) fn integration_words(integration: &Integration) -> String {
    format!("{} ({})", integration.description, integration.sink.kind())
}

fn integration_subject(integration: &Integration) -> Subject {
    Subject::new(
        "integration",
        &integration.id,
        integration_words(integration),
    )
}

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
        let subject = Subject::new("integration", "", request.description.trim());
        let record = Record::in_scope(scope, actions::INTEGRATION_CREATE, subject);
        let work = self.creating_integration(scope, request);
        self.audited(record, work, |integration, _| {
            integration_subject(integration)
        })
        .await
    }

    async fn creating_integration(
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
        let subject = Subject::new("integration", id, request.description.trim());
        let record = Record::in_scope(scope, actions::INTEGRATION_UPDATE, subject);
        let work = self.updating_integration(scope, id, request);
        self.audited(record, work, |integration, _| {
            integration_subject(integration)
        })
        .await
    }

    async fn updating_integration(
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
        let record = Record::in_scope(
            scope,
            actions::INTEGRATION_DELETE,
            Subject::new("integration", id, ""),
        );
        let work = self.deleting_integration(scope, id);
        self.audited(record, work, |integration, _| {
            integration_subject(integration)
        })
        .await?;
        Ok(())
    }

    /// Deletes it; answers it as it was.
    async fn deleting_integration(&self, scope: &Scope, id: &IntegrationId) -> Result<Integration> {
        scope.require(Permission::Operate)?;
        let integration = self.get_integration(scope, id).await?;
        let now = self.inner().clock.now();
        if self.inner().store.delete_integration(id, now).await? {
            Ok(integration)
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
