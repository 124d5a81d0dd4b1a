//! The audit log ([`AuditStore`]): appended rows, read by place, filtered and paged.

use crate::rows::{AuditRow, AUDIT_COLUMNS};
use crate::{Db, SqlStore};
use async_trait::async_trait;
use cairn_core::{AuditStore, Result as CoreResult};
use cairn_model::{AuditEntry, AuditFilter, AuditOutcome, OrganizationId, ProjectId};

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
        // The project's, its organization's as a whole, and the site's. Each filter adds a
        // condition and its parameter, numbered in the order they first appear (SQLite numbers
        // `$N` parameters that way).
        let mut sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit
             WHERE (project_id = $1
                    OR (project_id IS NULL AND (organization_id = $2 OR organization_id IS NULL)))"
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
