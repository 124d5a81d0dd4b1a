//! Notifications, issues and the outbox, over the in-memory store, the fake engine, a manual
//! clock and a scripted deliverer.

use super::*;
use crate::testkit::{FakeEngine, InMemoryStore, ManualClock, SnapshotBehaviour};
use crate::{EngineError, OutboxStore, SiteConfig};
use cairn_model::{
    ClusterHealth, CreateJobRequest, EventSource, IntegrationRequest, ScheduledBackupData, Sink,
};
use std::sync::{Arc, Mutex};

/// Answers each try with the next scripted outcome (then succeeds), recording what it got.
#[derive(Default)]
struct ScriptedDeliverer {
    script: Mutex<Vec<std::result::Result<(), String>>>,
    got: Mutex<Vec<(String, Outgoing)>>,
}

#[async_trait::async_trait]
impl Deliverer for ScriptedDeliverer {
    async fn deliver(
        &self,
        integration: &Integration,
        message: &Outgoing,
    ) -> std::result::Result<(), String> {
        self.got
            .lock()
            .unwrap()
            .push((integration.description.clone(), message.clone()));
        let mut script = self.script.lock().unwrap();
        if script.is_empty() {
            Ok(())
        } else {
            script.remove(0)
        }
    }
}

struct World {
    services: Services,
    store: Arc<InMemoryStore>,
    engine: Arc<FakeEngine>,
    clock: Arc<ManualClock>,
    deliverer: Arc<ScriptedDeliverer>,
    scope: Scope,
}

async fn world() -> World {
    let store = Arc::new(InMemoryStore::default());
    let engine = Arc::new(FakeEngine::default());
    let clock = Arc::new(ManualClock::at("2026-11-24T10:00:00Z"));
    let deliverer = Arc::new(ScriptedDeliverer::default());
    let services = Services::builder(store.clone(), clock.clone(), SiteConfig::default())
        .engine(engine.clone())
        .deliverer(deliverer.clone())
        .build();
    let scope = crate::Scope::trusted(services.start().await.unwrap());
    World {
        services,
        store,
        engine,
        clock,
        deliverer,
        scope,
    }
}

impl World {
    async fn integration(&self, description: &str, source: EventSource) -> Integration {
        self.services
            .create_integration(
                &self.scope,
                &IntegrationRequest {
                    description: description.into(),
                    source,
                    data: Sink::Webhook {
                        url: "https://hooks.example.com/cairn".into(),
                        secret: "0123456789abcdef0123".into(),
                    },
                },
            )
            .await
            .unwrap()
    }

    async fn cluster(&self) -> cairn_model::Cluster {
        let network = self.services.list_networks(&self.scope).await.unwrap()[0]
            .id
            .clone();
        let cluster = self
            .services
            .create_cluster(&self.scope, &crate::testkit::cluster_request(network))
            .await
            .unwrap();
        self.services.settle().await;
        cluster
    }

    fn sent(&self) -> Vec<(String, Outgoing)> {
        self.deliverer.got.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn a_failed_backup_is_one_delivery_to_each_integration_that_takes_notifications() {
    let w = world().await;
    w.integration("ops webhook", EventSource::Notifications)
        .await;
    w.integration("issues only", EventSource::Issues).await;
    let cluster = w.cluster().await;
    w.engine
        .snapshots(SnapshotBehaviour::Fail(EngineError::Failed(
            "disk full".into(),
        )));
    let backup = w
        .services
        .create_backup(&w.scope, &cluster.id, "nightly")
        .await
        .unwrap();
    w.services.settle().await;

    assert_eq!(w.services.dispatch_due().await.unwrap(), 1);
    let sent = w.sent();
    assert_eq!(sent.len(), 1);
    let (to, message) = &sent[0];
    assert_eq!(to, "ops webhook");
    assert_eq!(message.event.category, "backup-failed");
    assert_eq!(message.event.resource_id, backup.id.as_str());
    assert!(message.event.message.contains("disk full"), "{message:?}");
    assert_eq!(w.services.dispatch_due().await.unwrap(), 0, "sent once");
    let events = w.services.events(&w.scope, 10).await.unwrap();
    assert_eq!(events.len(), 1);
}

#[tokio::test]
async fn a_failing_sink_is_retried_with_backoff_until_it_takes_the_message() {
    let w = world().await;
    let integration = w.integration("flaky", EventSource::Notifications).await;
    *w.deliverer.script.lock().unwrap() = vec![
        Err("the webhook answered 500".into()),
        Err("the webhook answered 500".into()),
    ];
    let cluster = w.cluster().await;
    w.engine
        .snapshots(SnapshotBehaviour::Fail(EngineError::Failed("boom".into())));
    w.services
        .create_backup(&w.scope, &cluster.id, "nightly")
        .await
        .unwrap();
    w.services.settle().await;

    assert_eq!(w.services.dispatch_due().await.unwrap(), 1, "first try");
    assert_eq!(
        w.services.dispatch_due().await.unwrap(),
        0,
        "not before its backoff"
    );
    w.clock.advance(Duration::seconds(1));
    assert_eq!(
        w.services.dispatch_due().await.unwrap(),
        1,
        "second try after 1 s"
    );
    w.clock.advance(Duration::seconds(1));
    assert_eq!(
        w.services.dispatch_due().await.unwrap(),
        0,
        "the next wait is 2 s"
    );
    w.clock.advance(Duration::seconds(1));
    assert_eq!(w.services.dispatch_due().await.unwrap(), 1, "third try");

    let log = w
        .services
        .integration_deliveries(&w.scope, &integration.id, 10)
        .await
        .unwrap();
    assert_eq!(log[0].status, DeliveryStatus::Delivered);
    assert_eq!(log[0].attempts, 3);
    assert_eq!(w.sent().len(), 3);
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_given_up_and_says_why() {
    let w = world().await;
    let integration = w.integration("dead", EventSource::Notifications).await;
    *w.deliverer.script.lock().unwrap() =
        vec![Err("connection refused".into()); MAX_ATTEMPTS as usize];
    let cluster = w.cluster().await;
    w.engine
        .snapshots(SnapshotBehaviour::Fail(EngineError::Failed("boom".into())));
    w.services
        .create_backup(&w.scope, &cluster.id, "nightly")
        .await
        .unwrap();
    w.services.settle().await;
    for _ in 0..MAX_ATTEMPTS {
        w.services.dispatch_due().await.unwrap();
        w.clock.advance(Duration::minutes(6));
    }
    let log = w
        .services
        .integration_deliveries(&w.scope, &integration.id, 10)
        .await
        .unwrap();
    assert_eq!(log[0].status, DeliveryStatus::Failed);
    assert_eq!(log[0].attempts, MAX_ATTEMPTS);
    assert_eq!(log[0].last_error.as_deref(), Some("connection refused"));
}

#[test]
fn backoff_doubles_from_one_second_up_to_five_minutes() {
    let waits: Vec<i64> = (1..=11).map(|n| backoff(n).num_seconds()).collect();
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
}

#[tokio::test]
async fn a_job_that_stops_succeeding_is_overdue_after_two_intervals_until_it_succeeds_again() {
    let w = world().await;
    w.integration("pager", EventSource::Issues).await;
    let cluster = w.cluster().await;
    let job = w
        .services
        .create_job(
            &w.scope,
            &CreateJobRequest {
                description: "hourly".into(),
                schedule: "0 * * * *".into(),
                data: ScheduledBackupData {
                    cluster_id: cluster.id.clone(),
                    description: "{cluster} {datetime:unix}".into(),
                    max_backup_count: 3,
                },
            },
        )
        .await
        .unwrap();
    // 11:00 succeeds.
    w.clock.set("2026-11-24T11:00:00Z".parse().unwrap());
    w.services.run_due_jobs().await.unwrap();
    w.services.settle().await;
    w.services.review_issues().await.unwrap();
    assert!(w.store.open_issues().await.unwrap().is_empty());

    // 12:00 and 13:00 fail; at 13:00 the last success is exactly two intervals old.
    w.engine
        .snapshots(SnapshotBehaviour::Fail(EngineError::Failed(
            "node down".into(),
        )));
    for at in ["2026-11-24T12:00:00Z", "2026-11-24T13:00:00Z"] {
        w.clock.set(at.parse().unwrap());
        w.services.run_due_jobs().await.unwrap();
        w.services.settle().await;
        w.services.review_issues().await.unwrap();
    }
    assert!(
        w.store.open_issues().await.unwrap().is_empty(),
        "not older than twice the interval yet"
    );
    w.clock.advance(Duration::minutes(1));
    w.services.review_issues().await.unwrap();
    let open = w.store.open_issues().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].category, "job-overdue");
    assert_eq!(open[0].resource_id, job.id.as_str());
    w.services.review_issues().await.unwrap();
    assert_eq!(w.store.open_issues().await.unwrap().len(), 1, "opened once");

    // 14:00 succeeds: the issue closes.
    w.engine.snapshots(SnapshotBehaviour::Succeed);
    w.clock.set("2026-11-24T14:00:00Z".parse().unwrap());
    w.services.run_due_jobs().await.unwrap();
    w.services.settle().await;
    w.services.review_issues().await.unwrap();
    assert!(w.store.open_issues().await.unwrap().is_empty());

    w.services.dispatch_due().await.unwrap();
    let subjects: Vec<String> = w
        .sent()
        .into_iter()
        .map(|(_, message)| message.subject())
        .collect();
    assert_eq!(
        subjects,
        [
            "Issue: Backups of job “hourly” are overdue",
            "Resolved: Backups of job “hourly” are overdue"
        ]
    );
}

#[tokio::test]
async fn an_unhealthy_cluster_is_an_issue_until_it_is_healthy_again() {
    let w = world().await;
    let cluster = w.cluster().await;
    w.engine
        .set_health(&cluster.id, Ok(ClusterHealth::Degraded));
    w.services.probe_clusters().await.unwrap();
    w.services.review_issues().await.unwrap();
    let open = w.store.open_issues().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].category, "cluster-unhealthy");

    w.engine.set_health(&cluster.id, Ok(ClusterHealth::Ok));
    w.services.probe_clusters().await.unwrap();
    w.services.review_issues().await.unwrap();
    assert!(w.store.open_issues().await.unwrap().is_empty());
    let events = w.services.events(&w.scope, 10).await.unwrap();
    assert_eq!(events[0].status, Some(IssueStatus::Closed));
}

#[tokio::test]
async fn a_run_refused_at_once_is_a_scheduled_run_failed_notification() {
    let w = world().await;
    w.integration("ops", EventSource::Notifications).await;
    let cluster = w.cluster().await;
    w.engine.snapshots(SnapshotBehaviour::Hold);
    w.services
        .create_backup(&w.scope, &cluster.id, "manual")
        .await
        .unwrap();
    let job = w
        .services
        .create_job(
            &w.scope,
            &CreateJobRequest {
                description: "hourly".into(),
                schedule: "0 * * * *".into(),
                data: ScheduledBackupData {
                    cluster_id: cluster.id.clone(),
                    description: "{cluster}".into(),
                    max_backup_count: 3,
                },
            },
        )
        .await
        .unwrap();
    w.services.run_job_now(&w.scope, &job.id).await.unwrap();
    w.services.dispatch_due().await.unwrap();
    let sent = w.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.event.category, "scheduled-run-failed");
    assert!(
        sent[0].1.event.message.contains("locked"),
        "{:?}",
        sent[0].1.event
    );
    w.engine.release_snapshots();
    w.services.settle().await;
}

#[tokio::test]
async fn a_snapshot_that_cannot_be_deleted_is_announced_once_not_on_every_retry() {
    let w = world().await;
    w.integration("ops", EventSource::Notifications).await;
    let cluster = w.cluster().await;
    let backup = w
        .services
        .create_backup(&w.scope, &cluster.id, "nightly")
        .await
        .unwrap();
    w.services.settle().await;
    w.engine
        .fail_deletions(Some(EngineError::Failed("repository is read-only".into())));
    w.services
        .delete_backup(&w.scope, &backup.id)
        .await
        .unwrap();
    w.services.settle().await;
    for _ in 0..3 {
        w.services.start().await.unwrap(); // the recovery sweep retries it
    }
    w.services.dispatch_due().await.unwrap();
    let sent = w.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].1.event.category, "backup-deletion-failed");
    assert!(sent[0].1.event.message.contains("read-only"));

    w.engine.fail_deletions(None);
    w.services.start().await.unwrap();
    let gone = w.services.get_backup(&w.scope, &backup.id).await.unwrap();
    assert_eq!(
        gone.status,
        cairn_model::BackupStatus::Deleted,
        "the sweep finished it"
    );
}

#[tokio::test]
async fn a_restore_that_fails_is_announced_as_a_restore() {
    let w = world().await;
    w.integration("ops", EventSource::Notifications).await;
    let cluster = w.cluster().await;
    let backup = w
        .services
        .create_backup(&w.scope, &cluster.id, "nightly")
        .await
        .unwrap();
    w.services.settle().await;
    w.engine
        .fail_provisioning(EngineError::Failed("no space for the volume".into()));
    let mut request = crate::testkit::cluster_request(cluster.network_id.clone());
    request.source_backup_id = Some(backup.id.clone());
    w.services.create_cluster(&w.scope, &request).await.unwrap();
    w.services.settle().await;
    w.services.dispatch_due().await.unwrap();
    let sent = w.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].1.event.category, "restore-failed");
    assert!(sent[0].1.event.message.contains(backup.id.as_str()));
}
