//! Organizations, projects and networks ([`TenancyStore`]).

use crate::access::put_grant_query;
use crate::rows::{NetworkRow, OrganizationRow, ProjectRow, NETWORK_COLUMNS};
use crate::{found, Db, InProject, SqlStore};
use async_trait::async_trait;
use cairn_core::{Renamable, Result as CoreResult, SeedPlan, TenancyStore};
use cairn_model::{Grant, Network, NetworkId, Organization, OrganizationId, Project, ProjectId};

impl InProject<Network> for NetworkRow {
    const TABLE: &'static str = "networks";
    const COLUMNS: &'static str = NETWORK_COLUMNS;
}

/// The insert of an organization, a project or a network (`insert!(project pr)`), for a pool
/// or a transaction.
macro_rules! insert {
    (organization $o:expr) => {
        sqlx::query("INSERT INTO organizations (id, name, created) VALUES ($1, $2, $3)")
            .bind($o.id.as_str())
            .bind(&$o.name)
            .bind($o.created)
    };
    (project $pr:expr) => {
        sqlx::query(
            "INSERT INTO projects (id, organization_id, name, created) VALUES ($1, $2, $3, $4)",
        )
        .bind($pr.id.as_str())
        .bind($pr.organization_id.as_str())
        .bind(&$pr.name)
        .bind($pr.created)
    };
    (network $n:expr) => {
        sqlx::query(
            "INSERT INTO networks (id, project_id, provider, region, description, public_access,
                                   cidr_block, status, created)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind($n.id.as_str())
        .bind($n.project_id.as_str())
        .bind(&$n.provider)
        .bind(&$n.region)
        .bind(&$n.description)
        .bind($n.public_access)
        .bind($n.cidr_block.as_deref())
        .bind($n.status.as_str())
        .bind($n.created)
    };
}

#[async_trait]
impl TenancyStore for SqlStore {
    async fn organizations(&self) -> CoreResult<Vec<Organization>> {
        self.all::<OrganizationRow, _>(
            "SELECT id, name, created FROM organizations WHERE NOT deleted ORDER BY created, id",
            &[],
        )
        .await
    }

    async fn insert_organization(&self, o: &Organization, grants: &[Grant]) -> CoreResult<()> {
        on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.db()?;
            insert!(organization o).execute(&mut *tx).await.db()?;
            for grant in grants {
                put_grant_query(grant).execute(&mut *tx).await.db()?;
            }
            tx.commit().await.db()?;
        });
        Ok(())
    }

    async fn delete_organization(&self, id: &OrganizationId) -> CoreResult<()> {
        let sql = "UPDATE organizations SET deleted = TRUE WHERE id = $1";
        let deleted = execute!(self, sql, id.as_str());
        found(deleted, "organization", id.as_str())
    }

    async fn projects(&self, organization: &OrganizationId) -> CoreResult<Vec<Project>> {
        self.all::<ProjectRow, _>(
            "SELECT id, organization_id, name, created FROM projects
             WHERE organization_id = $1 AND NOT deleted ORDER BY created, id",
            &[organization.as_str()],
        )
        .await
    }

    async fn delete_project(&self, id: &ProjectId) -> CoreResult<()> {
        let sql = "UPDATE projects SET deleted = TRUE WHERE id = $1";
        let deleted = execute!(self, sql, id.as_str());
        found(deleted, "project", id.as_str())
    }

    async fn networks(&self, project: &ProjectId) -> CoreResult<Vec<Network>> {
        self.live_in_project::<NetworkRow, _>(project).await
    }

    async fn apply_seed(&self, plan: &SeedPlan) -> CoreResult<()> {
        on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.db()?;
            if let Some(o) = &plan.organization {
                insert!(organization o).execute(&mut *tx).await.db()?;
            }
            if let Some(pr) = &plan.project {
                insert!(project pr).execute(&mut *tx).await.db()?;
            }
            for n in &plan.networks {
                insert!(network n).execute(&mut *tx).await.db()?;
            }
            tx.commit().await.db()?;
        });
        Ok(())
    }

    async fn insert_project(&self, pr: &Project) -> CoreResult<()> {
        run!(self, insert!(project pr));
        Ok(())
    }

    async fn network(&self, project: &ProjectId, id: &NetworkId) -> CoreResult<Option<Network>> {
        self.in_project::<NetworkRow, _>(project, id.as_str()).await
    }

    async fn insert_network(&self, n: &Network) -> CoreResult<()> {
        run!(self, insert!(network n));
        Ok(())
    }

    async fn update_network(&self, n: &Network) -> CoreResult<()> {
        let updated = execute!(
            self,
            "UPDATE networks SET description = $2, public_access = $3, cidr_block = $4, status = $5
             WHERE id = $1",
            n.id.as_str(),
            &n.description,
            n.public_access,
            n.cidr_block.as_deref(),
            n.status.as_str(),
        );
        found(updated, "network", n.id.as_str())
    }

    async fn rename(&self, field: Renamable, id: &str, text: &str) -> CoreResult<bool> {
        // Table and column come from a closed list, never from input.
        let (table, column) = table_and_column(field);
        let sql = format!("UPDATE {table} SET {column} = $2 WHERE id = $1");
        Ok(execute!(self, &sql, id, text) == 1)
    }
}

/// Where the text a [`Renamable`] names is kept: `(table, column)`. The core knows no tables.
fn table_and_column(field: Renamable) -> (&'static str, &'static str) {
    match field {
        Renamable::OrganizationName => ("organizations", "name"),
        Renamable::ProjectName => ("projects", "name"),
        Renamable::NetworkDescription => ("networks", "description"),
    }
}
