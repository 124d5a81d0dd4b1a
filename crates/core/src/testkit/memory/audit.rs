//! The audit log, in memory.

use super::InMemoryStore;
use crate::error::Result;
use crate::ports::AuditStore;
use async_trait::async_trait;
use cairn_model::{AuditEntry, AuditFilter, OrganizationId, ProjectId};

#[async_trait]
impl AuditStore for InMemoryStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<()> {
        self.state.lock().unwrap().audit.push(entry.clone());
        Ok(())
    }

    async fn audit_entries(
        &self,
        organization: &OrganizationId,
        project: &ProjectId,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEntry>> {
        let state = self.state.lock().unwrap();
        let key = |e: &AuditEntry| (e.at, e.id.clone());
        let after = match &filter.after {
            None => None,
            Some(id) => match state.audit.iter().find(|e| &e.id == id) {
                Some(entry) => Some(key(entry)),
                None => return Ok(Vec::new()),
            },
        };
        let mut found: Vec<AuditEntry> = state
            .audit
            .iter()
            .filter(|e| match (&e.project_id, &e.organization_id) {
                (Some(p), _) => p == project,
                (None, Some(o)) => o == organization,
                (None, None) => filter.site_entries.admits(e),
            })
            .filter(|e| filter.admits(e))
            .filter(|e| after.as_ref().is_none_or(|after| &key(e) < after))
            .cloned()
            .collect();
        found.sort_by_key(|e| std::cmp::Reverse(key(e)));
        found.truncate(filter.limit as usize);
        Ok(found)
    }
}
