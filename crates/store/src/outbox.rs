//! Integrations, events and the outbox of deliveries ([`OutboxStore`]).

use crate::rows::{
    wire_text, DeliveryRow, EventRow, IntegrationRow, DELIVERY_COLUMNS, EVENT_COLUMNS,
    INTEGRATION_COLUMNS,
};
use crate::{to_json, Db, IntoModel, Listing, SqlStore, StoreError};
use async_trait::async_trait;
use cairn_core::{OutboxStore, Result as CoreResult};
use cairn_model::{
    Delivery, Event, EventId, Integration, IntegrationId, Page, PageRequest, ProjectId,
};
use chrono::{DateTime, Utc};

/// Binds an event's columns, in `EVENT_COLUMNS` order, to an insert.
macro_rules! bind_event {
    ($query:expr, $e:expr) => {
        $query
            .bind($e.id.as_str())
            .bind($e.organization_id.as_str())
            .bind($e.project_id.as_str())
            .bind(wire_text(&$e.kind))
            .bind(&$e.category)
            .bind(&$e.subject)
            .bind(&$e.message)
            .bind(&$e.resource_id)
            .bind($e.status.as_ref().map(wire_text))
            .bind($e.created)
            .bind($e.closed)
    };
}

/// Binds a delivery's columns, in `DELIVERY_COLUMNS` order, to an insert.
macro_rules! bind_delivery {
    ($query:expr, $d:expr) => {
        $query
            .bind($d.id.as_str())
            .bind($d.integration_id.as_str())
            .bind($d.event_id.as_str())
            .bind(&$d.summary)
            .bind($d.announces.as_ref().map(wire_text))
            .bind(wire_text(&$d.status))
            .bind(i64::from($d.attempts))
            .bind($d.next_attempt)
            .bind($d.last_error.as_deref())
            .bind($d.created)
            .bind($d.delivered)
    };
}

/// Inserts each of `$deliveries` with `$sql` ([`insert_delivery_sql`]) on `$tx`.
macro_rules! insert_deliveries {
    ($tx:expr, $sql:expr, $deliveries:expr) => {
        for d in $deliveries {
            bind_delivery!(sqlx::query($sql), d)
                .execute($tx)
                .await
                .db()?;
        }
    };
}

fn insert_delivery_sql() -> String {
    format!(
        "INSERT INTO deliveries ({DELIVERY_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn count_pending_deliveries(&self) -> CoreResult<u64> {
        self.count(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'",
            &[],
        )
        .await
    }

    async fn insert_integration(&self, i: &Integration) -> CoreResult<()> {
        let sink = to_json(&i.sink)?;
        let sql = format!(
            "INSERT INTO integrations ({INTEGRATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        );
        execute!(
            self,
            &sql,
            i.id.as_str(),
            i.organization_id.as_str(),
            i.project_id.as_str(),
            &i.description,
            i.source.as_str(),
            &sink,
            i.created,
            i.updated,
        );
        Ok(())
    }

    async fn integration(&self, id: &IntegrationId) -> CoreResult<Option<Integration>> {
        let sql =
            format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = $1 AND NOT deleted");
        self.one::<IntegrationRow, _>(&sql, &[id.as_str()]).await
    }

    async fn integrations(&self, project: &ProjectId) -> CoreResult<Vec<Integration>> {
        let sql = format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations
             WHERE project_id = $1 AND NOT deleted ORDER BY created, id"
        );
        self.all::<IntegrationRow, _>(&sql, &[project.as_str()])
            .await
    }

    async fn update_integration(&self, i: &Integration) -> CoreResult<bool> {
        let sink = to_json(&i.sink)?;
        let updated = execute!(
            self,
            "UPDATE integrations SET description = $2, source = $3, sink = $4, updated = $5
             WHERE id = $1 AND NOT deleted",
            i.id.as_str(),
            &i.description,
            i.source.as_str(),
            &sink,
            i.updated,
        );
        Ok(updated == 1)
    }

    async fn delete_integration(&self, id: &IntegrationId, at: DateTime<Utc>) -> CoreResult<bool> {
        let reason = format!(
            "the integration was deleted at {}",
            at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        let deleted = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.db()?;
            let deleted =
                sqlx::query("UPDATE integrations SET deleted = TRUE WHERE id = $1 AND NOT deleted")
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected();
            sqlx::query(
                "UPDATE deliveries SET status = 'failed', next_attempt = NULL, last_error = $2
                 WHERE integration_id = $1 AND status = 'pending'",
            )
            .bind(id.as_str())
            .bind(&reason)
            .execute(&mut *tx)
            .await
            .db()?;
            tx.commit().await.db()?;
            deleted
        });
        Ok(deleted == 1)
    }

    async fn record_event(&self, e: &Event, deliveries: &[Delivery]) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let delivery_sql = insert_delivery_sql();
        on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.db()?;
            let inserted = bind_event!(sqlx::query(&sql), e).execute(&mut *tx).await;
            match inserted {
                Ok(_) => {}
                // Another instance opened the same issue first: it is open, nothing to add.
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                    tx.rollback().await.db()?;
                    return Ok(());
                }
                Err(error) => return Err(StoreError::from(error).into()),
            }
            insert_deliveries!(&mut *tx, &delivery_sql, deliveries);
            tx.commit().await.db()?;
        });
        Ok(())
    }

    async fn close_issue(
        &self,
        id: &EventId,
        at: DateTime<Utc>,
        deliveries: &[Delivery],
    ) -> CoreResult<bool> {
        let delivery_sql = insert_delivery_sql();
        let closed = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.db()?;
            let closed = sqlx::query(
                "UPDATE events SET status = 'closed', closed = $2 WHERE id = $1 AND status = 'open'",
            )
            .bind(id.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if closed == 1 {
                insert_deliveries!(&mut *tx, &delivery_sql, deliveries);
            }
            tx.commit().await.db()?;
            closed
        });
        Ok(closed == 1)
    }

    async fn record_test(&self, event: &Event, delivery: &Delivery) -> CoreResult<()> {
        self.record_event(event, std::slice::from_ref(delivery))
            .await
    }

    async fn event(&self, id: &EventId) -> CoreResult<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1");
        self.one::<EventRow, _>(&sql, &[id.as_str()]).await
    }

    async fn events(&self, project: &ProjectId, limit: u32) -> CoreResult<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE project_id = $1
             ORDER BY created DESC, id DESC LIMIT {limit}"
        );
        self.all::<EventRow, _>(&sql, &[project.as_str()]).await
    }

    async fn events_page(
        &self,
        project: &ProjectId,
        request: &PageRequest,
    ) -> CoreResult<Page<Event>> {
        let f = &request.filters;
        let mut listing = Listing::new(EVENT_COLUMNS, "events", "created");
        listing
            .when("project_id = {}", project.as_str())
            .always("category <> 'test'");
        match f.status.as_deref() {
            None => {}
            Some("notification") => {
                listing.always("kind = 'notification'");
            }
            Some(state) => {
                listing
                    .always("kind = 'issue'")
                    .equals("status", Some(state));
            }
        }
        listing
            .equals("resource_id", f.cluster_id.as_deref())
            .equals("resource_id", f.job_id.as_deref())
            .search(
                f.q.as_deref(),
                &["subject", "message", "category", "id", "resource_id"],
            );
        self.page::<EventRow, _>(listing, request, |e| (e.created, e.id.to_string()))
            .await
    }

    async fn open_issues(&self) -> CoreResult<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE status = 'open' ORDER BY created, id"
        );
        self.all::<EventRow, _>(&sql, &[]).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: DateTime<Utc>,
        limit: u32,
    ) -> CoreResult<Vec<Delivery>> {
        // The outer conditions are checked again on update: of two instances claiming at
        // once, the second finds the row leased and leaves it.
        let sql = format!(
            "UPDATE deliveries SET next_attempt = $2
             WHERE id IN (SELECT id FROM deliveries
                          WHERE status = 'pending' AND next_attempt <= $1
                          ORDER BY next_attempt LIMIT {limit})
               AND status = 'pending' AND next_attempt <= $1
             RETURNING {DELIVERY_COLUMNS}"
        );
        let rows: Vec<DeliveryRow> = on_pool!(&self.pool, |p| sqlx::query_as(&sql)
            .bind(now)
            .bind(lease)
            .fetch_all(p)
            .await
            .db()?);
        rows.into_iter().map(DeliveryRow::into_model).collect()
    }

    async fn finish_delivery(&self, d: &Delivery) -> CoreResult<()> {
        execute!(
            self,
            "UPDATE deliveries SET status = $2, attempts = $3, next_attempt = $4, last_error = $5,
                    delivered = $6
             WHERE id = $1",
            d.id.as_str(),
            wire_text(&d.status),
            i64::from(d.attempts),
            d.next_attempt,
            d.last_error.as_deref(),
            d.delivered,
        );
        Ok(())
    }

    async fn deliveries(
        &self,
        integration: &IntegrationId,
        limit: u32,
    ) -> CoreResult<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE integration_id = $1
             ORDER BY created DESC, id DESC LIMIT {limit}"
        );
        self.all::<DeliveryRow, _>(&sql, &[integration.as_str()])
            .await
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> CoreResult<u64> {
        let statements = [
            "DELETE FROM deliveries WHERE status <> 'pending' AND created < $1",
            "DELETE FROM events WHERE created < $1 AND (status IS NULL OR status <> 'open')
               AND NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.event_id = events.id)",
        ];
        self.prune(&statements, before).await
    }
}
