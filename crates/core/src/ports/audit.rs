//! The audit log: entries appended, never changed; read a page at a time, newest first.

use crate::error::Result;
use async_trait::async_trait;
use cairn_model::{AuditEntry, AuditFilter, OrganizationId, ProjectId};

/// Entries of the audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Records one entry.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<()>;
    /// What a project's audit shows: entries of the project, of its organization as a whole
    /// (no project) and of the site (neither) that `filter.site_entries` admits, that pass the filter's actor, resource and
    /// action; newest first (by time, then id), after the entry `filter.after` when given (an
    /// id no entry has: nothing), at most `filter.limit`.
    async fn audit_entries(
        &self,
        organization: &OrganizationId,
        project: &ProjectId,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEntry>>;
}
