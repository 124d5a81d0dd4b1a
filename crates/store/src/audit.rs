//! The audit log ([`AuditStore`]): appended rows, read by place, filtered and paged.

use crate::rows::id;
use crate::{Db, IntoModel, SqlStore, StoreError};
use async_trait::async_trait;
use cairn_core::{AuditStore, Result as CoreResult};
use cairn_model::{
    ActorKind, AuditActor, AuditEntry, AuditFilter, AuditId, AuditOutcome, OrganizationId,
    ProjectId, SiteEntries,
};
use chrono::{DateTime, Utc};

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, e: &AuditEntry) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO audit ({AUDIT_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        );
        let (outcome, kind, message) = match &e.outcome {
            AuditOutcome::Ok => ("ok", None, None),
            AuditOutcome::Refused { kind, message } => {
                ("refused", Some(kind.as_str()), Some(message.as_str()))
            }
        };
        execute!(
            self,
            &sql,
            e.id.as_str(),
            e.at,
            e.organization_id.as_ref().map(|id| id.as_str()),
            e.project_id.as_ref().map(|id| id.as_str()),
            e.actor.kind.as_str(),
            &e.actor.id,
            &e.actor.name,
            e.actor.email.as_deref(),
            &e.action,
            &e.resource_kind,
            &e.resource_id,
            &e.summary,
            e.address.as_deref(),
            outcome,
            kind,
            message,
        );
        Ok(())
    }

    async fn audit_entries(
        &self,
        organization: &OrganizationId,
        project: &ProjectId,
        filter: &AuditFilter,
    ) -> CoreResult<Vec<AuditEntry>> {
        // The project's, its organization's as a whole, and the site's about the reader (emails
        // are stored normalized). Each filter adds a condition and its parameter, numbered in
        // the order they first appear (SQLite numbers `$N` parameters that way).
        let site = match &filter.site_entries {
            SiteEntries::None => "",
            SiteEntries::Of(_) => {
                "OR (project_id IS NULL AND organization_id IS NULL AND actor_email = $3)"
            }
            SiteEntries::All => "OR (project_id IS NULL AND organization_id IS NULL)",
        };
        let mut sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit
             WHERE (project_id = $1
                    OR (project_id IS NULL AND organization_id = $2)
                    {site})"
        );
        let mut conditions: Vec<(&str, fn(usize) -> String)> = Vec::new();
        if let Some(actor) = filter.actor.as_deref() {
            conditions.push((actor, |n| {
                format!("(actor_email = ${n} OR actor_id = ${n} OR actor_name = ${n})")
            }));
        }
        if let Some(resource) = filter.resource.as_deref() {
            conditions.push((resource, |n| format!("resource_id = ${n}")));
        }
        if let Some(action) = filter.action.as_deref() {
            // The action, or every action of a kind (`backup` is `backup.*`).
            conditions.push((action, |n| {
                format!("(action = ${n} OR substr(action, 1, length(${n}) + 1) = ${n} || '.')")
            }));
        }
        if let Some(after) = &filter.after {
            // Newest first: what comes after an entry is older, or as old with a smaller id. An
            // id no entry has compares with nothing, and so reads nothing.
            conditions.push((after.as_str(), |n| {
                format!("(at, id) < (SELECT a.at, a.id FROM audit a WHERE a.id = ${n})")
            }));
        }
        let mut binds: Vec<&str> = vec![project.as_str(), organization.as_str()];
        if let SiteEntries::Of(email) = &filter.site_entries {
            binds.push(email);
        }
        for (value, condition) in conditions {
            binds.push(value);
            sql.push_str(" AND ");
            sql.push_str(&condition(binds.len()));
        }
        sql.push_str(&format!(
            " ORDER BY at DESC, id DESC LIMIT {}",
            filter.limit
        ));
        self.all::<AuditRow, _>(&sql, &binds).await
    }
}

pub(crate) const AUDIT_COLUMNS: &str = "id, at, organization_id, project_id, actor_kind, \
     actor_id, actor_name, actor_email, action, resource_kind, resource_id, summary, address, \
     outcome, error_kind, error_message";

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: String,
    at: DateTime<Utc>,
    organization_id: Option<String>,
    project_id: Option<String>,
    actor_kind: String,
    actor_id: String,
    actor_name: String,
    actor_email: Option<String>,
    action: String,
    resource_kind: String,
    resource_id: String,
    summary: String,
    address: Option<String>,
    outcome: String,
    error_kind: Option<String>,
    error_message: Option<String>,
}

impl IntoModel<AuditEntry> for AuditRow {
    fn into_model(self) -> CoreResult<AuditEntry> {
        const T: &str = "audit";
        let kind = ActorKind::parse(&self.actor_kind)
            .ok_or_else(|| StoreError::Corrupt(format!("{T}: actor_kind '{}'", self.actor_kind)))?;
        let outcome = match self.outcome.as_str() {
            "ok" => AuditOutcome::Ok,
            "refused" => AuditOutcome::Refused {
                kind: self.error_kind.unwrap_or_default(),
                message: self.error_message.unwrap_or_default(),
            },
            other => return Err(StoreError::Corrupt(format!("{T}: outcome '{other}'")).into()),
        };
        Ok(AuditEntry {
            id: id(T, &self.id, AuditId::parse)?,
            at: self.at,
            organization_id: self
                .organization_id
                .as_deref()
                .map(|text| id(T, text, OrganizationId::parse))
                .transpose()?,
            project_id: self
                .project_id
                .as_deref()
                .map(|text| id(T, text, ProjectId::parse))
                .transpose()?,
            actor: AuditActor {
                kind,
                id: self.actor_id,
                name: self.actor_name,
                email: self.actor_email,
            },
            action: self.action,
            resource_kind: self.resource_kind,
            resource_id: self.resource_id,
            summary: self.summary,
            address: self.address,
            outcome,
        })
    }
}
