//! One contract suite for every Store adapter: each test below runs against SQLite (a file in
//! a fresh temporary directory) and against PostgreSQL (a fresh database on the server named by
//! `CAIRN_TEST_POSTGRES_URL`, which `make test` starts on loopback).

use cairn_core::testkit::{FakeEngine, ManualClock, SnapshotBehaviour};
use cairn_core::{ErrorKind, Scope, Services, SiteConfig, Store};
use cairn_model::{
    BackupStatus, Cluster, ClusterStatus, CreateClusterRequest, CreateJobRequest, HistoryStatus,
    InstanceType, OrganizationId, ProjectId, ProjectionLevel, ScheduledBackupData, Topology,
};
use cairn_store::SqlStore;
use std::sync::Arc;

/// A database that exists for one test.
struct Database {
    url: String,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Database {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cairn.db").display());
    Database {
        url,
        _dir: Some(dir),
    }
}

/// A fresh database on the test server, or `None` (with a note) when no server is configured
/// and the run does not require one. `make test` requires one.
async fn postgres() -> Option<Database> {
    let Ok(admin_url) = std::env::var("CAIRN_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("CAIRN_REQUIRE_POSTGRES").is_err(),
            "CAIRN_REQUIRE_POSTGRES is set but CAIRN_TEST_POSTGRES_URL is not"
        );
        eprintln!("note: CAIRN_TEST_POSTGRES_URL unset; PostgreSQL half of the contract not run");
        return None;
    };
    let name = format!("cairn_test_{}", fastrand::u64(..));
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("a URL with a database name");
    Some(Database {
        url: format!("{base}/{name}"),
        _dir: None,
    })
}

fn services(store: Arc<dyn Store>, site: SiteConfig) -> Services {
    Services::new(
        store,
        Arc::new(ManualClock::at("2026-11-24T12:00:00Z")),
        site,
    )
}

async fn open(db: &Database) -> Arc<dyn Store> {
    Arc::new(SqlStore::open(&db.url).await.unwrap())
}

// ---- the contract ----

async fn first_start_seeds_networks_that_read_back_exactly(db: Database) {
    let store = open(&db).await;
    let services = services(store.clone(), SiteConfig::default());
    let plan = services.plan_seed().await.unwrap();
    store.apply_seed(&plan).await.unwrap();
    let scope = services.default_scope().await.unwrap();
    assert_eq!(
        Some(&scope.project_id),
        plan.project.as_ref().map(|p| &p.id)
    );
    assert_eq!(
        store.networks(&scope.project_id).await.unwrap(),
        plan.networks
    );
    assert_eq!(
        store.organizations().await.unwrap(),
        plan.organization.into_iter().collect::<Vec<_>>()
    );
    assert_eq!(
        store.projects(&scope.organization_id).await.unwrap(),
        plan.project.into_iter().collect::<Vec<_>>()
    );
    assert!(services.list_clusters(&scope).await.unwrap().is_empty());
}

async fn a_restart_on_the_same_database_seeds_nothing_more(db: Database) {
    let first = services(open(&db).await, SiteConfig::default())
        .start()
        .await
        .unwrap();
    // A new process: new store, new services, same database.
    let again = services(open(&db).await, SiteConfig::default());
    assert!(again.plan_seed().await.unwrap().is_empty());
    assert_eq!(again.start().await.unwrap(), first);
    assert_eq!(again.list_networks(&first).await.unwrap().len(), 2);
}

async fn a_region_added_later_gets_its_network_in_the_same_project(db: Database) {
    let first = services(open(&db).await, SiteConfig::default())
        .start()
        .await
        .unwrap();
    let mut grown = SiteConfig::default();
    grown.regions.push("local-3".into());
    let services = services(open(&db).await, grown);
    assert_eq!(services.start().await.unwrap(), first);
    let regions: Vec<_> = services
        .list_networks(&first)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.region)
        .collect();
    assert_eq!(regions, ["local-1", "local-2", "local-3"]);
}

async fn resources_of_another_project_are_not_found(db: Database) {
    let services = services(open(&db).await, SiteConfig::default());
    services.start().await.unwrap();
    let stranger = Scope {
        organization_id: OrganizationId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
        project_id: ProjectId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
    };
    assert!(services.list_networks(&stranger).await.unwrap().is_empty());
    assert!(services.list_clusters(&stranger).await.unwrap().is_empty());
}

/// Services with a fake engine over the database, as one Cairn instance would have them.
async fn instance(db: &Database, engine: &Arc<FakeEngine>) -> (Services, Scope) {
    let services = Services::builder(
        open(db).await,
        Arc::new(ManualClock::at("2025-01-23T18:12:04Z")),
        SiteConfig::default(),
    )
    .engine(engine.clone())
    .build();
    let scope = services.start().await.unwrap();
    (services, scope)
}

async fn available_cluster(services: &Services, scope: &Scope) -> Cluster {
    let network = services.list_networks(scope).await.unwrap().remove(0);
    let request = CreateClusterRequest {
        description: "orders".into(),
        network_id: network.id,
        topology: Topology::ThreeNodeMultiZone,
        instance_type: InstanceType::M8,
        disk_size_gb: 24,
        disk_type: "local-ssd".into(),
        server_version: "24.10".into(),
        projection_level: ProjectionLevel::User,
        source_backup_id: None,
        source_backup_project_id: None,
        protected: true,
    };
    let cluster = services.create_cluster(scope, &request).await.unwrap();
    services.settle().await;
    services.get_cluster(scope, &cluster.id).await.unwrap()
}

async fn a_cluster_and_its_backup_read_back_exactly_after_a_restart(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(&db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    assert_eq!(cluster.status, ClusterStatus::Available);
    assert!(cluster.addresses.grpc.starts_with("esdb://"));
    let backup = services
        .create_backup(&scope, &cluster.id, "{cluster} #{index}")
        .await
        .unwrap();
    services.settle().await;
    let done = services.get_backup(&scope, &backup.id).await.unwrap();
    assert_eq!(done.status, BackupStatus::Available);
    assert_eq!(done.description, "orders #1");

    let (again, _) = instance(&db, &engine).await;
    assert_eq!(
        again.get_cluster(&scope, &cluster.id).await.unwrap(),
        cluster
    );
    assert_eq!(again.get_backup(&scope, &backup.id).await.unwrap(), done);
    assert_eq!(again.list_backups(&scope).await.unwrap(), [done]);
}

async fn of_200_concurrent_backups_from_two_instances_exactly_one_is_accepted(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let (first, scope) = instance(&db, &engine).await;
    let (second, _) = instance(&db, &engine).await;
    let cluster = available_cluster(&first, &scope).await;
    engine.snapshots(SnapshotBehaviour::Hold);
    let attempts: Vec<_> = (0..200)
        .map(|i| {
            let services = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let (scope, id) = (scope.clone(), cluster.id.clone());
            tokio::spawn(async move { services.create_backup(&scope, &id, "race").await })
        })
        .collect();
    let mut accepted = Vec::new();
    let mut conflicts = Vec::new();
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(backup) => accepted.push(backup),
            Err(error) => conflicts.push(error),
        }
    }
    assert_eq!(accepted.len(), 1, "exactly one accepted");
    assert_eq!(conflicts.len(), 199);
    let holder = format!("is locked by backup {} (manual)", accepted[0].id);
    for error in &conflicts {
        assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");
        assert!(error.to_string().contains(&holder), "{error}");
    }
    assert_eq!(first.list_backups(&scope).await.unwrap().len(), 1);
    engine.release_snapshots();
    first.settle().await;
    second.settle().await;
}

async fn after_a_crash_creating_backups_are_defunct_and_unlocked(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let clock = Arc::new(ManualClock::at("2025-01-23T18:12:04Z"));
    let (services, scope) = instance_on_clock(&db, &engine, &clock).await;
    let cluster = available_cluster(&services, &scope).await;
    engine.snapshots(SnapshotBehaviour::Hold);
    let backup = services
        .create_backup(&scope, &cluster.id, "interrupted")
        .await
        .unwrap();
    let store = open(&db).await;
    assert_eq!(store.locks().await.unwrap().len(), 1);

    // Another instance starting while the first is alive leaves its backup alone.
    let (_, _) = instance_on_clock(&db, &engine, &clock).await;
    assert_eq!(
        services
            .get_backup(&scope, &backup.id)
            .await
            .unwrap()
            .status,
        BackupStatus::Creating
    );

    // The first dies; started again past the lease, Cairn settles what it left.
    clock.advance(chrono::TimeDelta::minutes(2));
    let (restarted, _) = instance_on_clock(&db, &engine, &clock).await;
    let settled = restarted.get_backup(&scope, &backup.id).await.unwrap();
    assert_eq!(settled.status, BackupStatus::Defunct);
    assert!(settled.failure_reason.unwrap().contains("Cairn stopped"));
    assert!(store.locks().await.unwrap().is_empty());
    engine.release_snapshots();
}

async fn a_job_its_history_and_its_pruned_backups_read_back_after_a_restart(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(&db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    let request = CreateJobRequest {
        description: "My Hourly Backup".into(),
        schedule: "0 */1 * * *".into(),
        data: ScheduledBackupData {
            cluster_id: cluster.id.clone(),
            description: "{cluster} Hourly Backup {datetime:RFC3339}".into(),
            max_backup_count: 2,
        },
    };
    let job = services.create_job(&scope, &request).await.unwrap();
    let mut made = Vec::new();
    for _ in 0..3 {
        let run = services.run_job_now(&scope, &job.id).await.unwrap();
        made.push(run.linked_resource.unwrap());
        services.settle().await;
    }

    let (again, _) = instance(&db, &engine).await;
    assert_eq!(again.get_job(&scope, &job.id).await.unwrap(), job);
    let history = again.job_history(&scope, &job.id).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        history.iter().all(|h| h.status == HistoryStatus::Succeeded),
        "{history:?}"
    );
    let kept: Vec<_> = again
        .list_backups(&scope)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(kept, made[1..]);
    let pruned = again.get_backup(&scope, &made[0]).await.unwrap();
    assert_eq!(pruned.status, BackupStatus::Deleted);
    assert_eq!(pruned.linked_resource.as_ref(), Some(&job.id));
}

async fn instance_on_clock(
    db: &Database,
    engine: &Arc<FakeEngine>,
    clock: &Arc<ManualClock>,
) -> (Services, Scope) {
    let services = Services::builder(open(db).await, clock.clone(), SiteConfig::default())
        .engine(engine.clone())
        .build();
    let scope = services.start().await.unwrap();
    (services, scope)
}

async fn hourly_job(services: &Services, scope: &Scope, cluster: &Cluster) -> cairn_model::Job {
    let request = CreateJobRequest {
        description: "hourly".into(),
        schedule: "0 * * * *".into(),
        data: ScheduledBackupData {
            cluster_id: cluster.id.clone(),
            description: "{cluster} #{index}".into(),
            max_backup_count: 3,
        },
    };
    services.create_job(scope, &request).await.unwrap()
}

async fn each_due_run_fires_once_across_instances_and_missed_ones_are_not_caught_up(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let clock = Arc::new(ManualClock::at("2026-11-24T09:30:00Z"));
    let (first, scope) = instance_on_clock(&db, &engine, &clock).await;
    let (second, _) = instance_on_clock(&db, &engine, &clock).await;
    let cluster = available_cluster(&first, &scope).await;
    let job = hourly_job(&first, &scope, &cluster).await;
    assert_eq!(
        first.next_due().await.unwrap(),
        Some("2026-11-24T10:00:00Z".parse().unwrap())
    );

    for hour in ["10", "11", "12"] {
        clock.set(format!("2026-11-24T{hour}:00:00Z").parse().unwrap());
        let (a, b) = tokio::join!(first.run_due_jobs(), second.run_due_jobs());
        assert_eq!(
            a.unwrap().len() + b.unwrap().len(),
            1,
            "exactly one instance fires the {hour}:00 run"
        );
        first.settle().await;
        second.settle().await;
    }
    // Down for five hours: one item says so, nothing is caught up.
    clock.set("2026-11-24T17:30:00Z".parse().unwrap());
    let written = second.run_due_jobs().await.unwrap();
    assert_eq!(written.len(), 1);
    assert!(
        written[0].details.starts_with("missed 5 runs"),
        "{}",
        written[0].details
    );

    let (restarted, _) = instance_on_clock(&db, &engine, &clock).await;
    assert!(restarted.run_due_jobs().await.unwrap().is_empty());
    assert_eq!(
        restarted.next_due().await.unwrap(),
        Some("2026-11-24T18:00:00Z".parse().unwrap())
    );
    let history = restarted.job_history(&scope, &job.id).await.unwrap();
    let statuses: Vec<_> = history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        [
            HistoryStatus::Succeeded,
            HistoryStatus::Succeeded,
            HistoryStatus::Succeeded,
            HistoryStatus::Failed
        ]
    );
    assert_eq!(restarted.list_backups(&scope).await.unwrap().len(), 3);
}

async fn networks_and_projects_are_created_and_an_unused_network_deleted(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(&db, &engine).await;
    let network = services
        .create_network(
            &scope,
            &cairn_core::CreateNetworkRequest {
                provider: "local".into(),
                region: "local-2".into(),
                description: "staging".into(),
                public_access: true,
                cidr_block: Some("10.1.0.0/16".into()),
            },
        )
        .await
        .unwrap();
    let project = services
        .create_project(&scope.organization_id, "Staging")
        .await
        .unwrap();

    let (again, _) = instance(&db, &engine).await;
    assert_eq!(
        again.get_network(&scope, &network.id).await.unwrap(),
        network
    );
    assert!(again
        .list_projects(&scope.organization_id)
        .await
        .unwrap()
        .contains(&project));
    again.delete_network(&scope, &network.id).await.unwrap();
    assert_eq!(
        again.list_networks(&scope).await.unwrap().len(),
        2,
        "the two seeded ones remain"
    );
}

async fn organizations_and_projects_are_deleted_once_unused(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(&db, &engine).await;
    let org = services.create_organization("Acme", None).await.unwrap();
    let project = services.create_project(&org.id, "Prod").await.unwrap();
    let project_scope = Scope {
        organization_id: org.id.clone(),
        project_id: project.id.clone(),
    };
    let network = services
        .create_network(
            &project_scope,
            &cairn_core::CreateNetworkRequest {
                provider: "local".into(),
                region: "local-1".into(),
                description: "prod".into(),
                public_access: false,
                cidr_block: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        services
            .delete_organization(&org.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    services
        .delete_network(&project_scope, &network.id)
        .await
        .unwrap();
    services
        .delete_project(&org.id, &project.id, &scope)
        .await
        .unwrap();
    services.delete_organization(&org.id).await.unwrap();

    let (again, _) = instance(&db, &engine).await;
    assert!(!again
        .list_organizations()
        .await
        .unwrap()
        .iter()
        .any(|o| o.id == org.id));
    assert_eq!(
        again
            .get_project(&org.id, &project.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        again
            .get_network(&project_scope, &network.id)
            .await
            .unwrap()
            .status,
        cairn_model::NetworkStatus::Deleted,
        "deleted things stay readable by id"
    );
}

async fn instances_silent_for_a_day_are_forgotten(db: Database) {
    let store = open(&db).await;
    let start: chrono::DateTime<chrono::Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
    store.heartbeat("gone", start).await.unwrap();
    store.heartbeat("alive", start).await.unwrap();
    let later = start + chrono::TimeDelta::hours(25);
    store.heartbeat("alive", later).await.unwrap();
    assert_eq!(
        store.heartbeats().await.unwrap(),
        [("alive".to_string(), later)]
    );
}

async fn users_tokens_and_roles_read_back_and_only_one_first_admin_wins(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let (one, scope) = instance(&db, &engine).await;
    let (two, _) = instance(&db, &engine).await;
    let password = "correct horse battery";
    // Two instances race to set up: exactly one first admin.
    let (a, b) = tokio::join!(
        one.create_first_admin("a@example.com", password),
        two.create_first_admin("b@example.com", password)
    );
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1);
    let admin_email = if a.is_ok() {
        "a@example.com"
    } else {
        "b@example.com"
    };

    let viewer = one
        .create_user(
            "viewer@example.com",
            password,
            cairn_model::Role::Viewer,
            &scope.organization_id,
            Some(&scope.project_id),
        )
        .await
        .unwrap();
    let taken = two
        .create_user(
            "Viewer@example.com",
            password,
            cairn_model::Role::Admin,
            &scope.organization_id,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(taken.kind(), ErrorKind::Conflict);

    // A role changed on one instance is seen by the other.
    two.grant(&cairn_model::Grant {
        user_id: viewer.id.clone(),
        organization_id: scope.organization_id.clone(),
        project_id: Some(scope.project_id.clone()),
        role: cairn_model::Role::Operator,
    })
    .await
    .unwrap();
    let (_, session) = one.sign_in("viewer@example.com", password).await.unwrap();
    let principal = two.session_principal(&session).await.unwrap();
    assert_eq!(principal.role(&scope), Some(cairn_model::Role::Operator));
    assert_eq!(
        principal.grants.len(),
        1,
        "the grant was replaced, not added"
    );

    let admin = one.user_by_email(admin_email).await.unwrap();
    let (token, refresh) = one.create_api_token(&admin.id, "CI", None).await.unwrap();
    let access = two.exchange_refresh_token(&refresh).await.unwrap();
    assert_eq!(
        one.access_principal(&access.access_token)
            .await
            .unwrap()
            .role(&scope),
        Some(cairn_model::Role::Admin)
    );
    let listed = two.api_tokens(&admin.id).await.unwrap();
    assert_eq!(listed[0].id, token.id);
    assert!(listed[0].last_used.is_some());
    two.revoke_api_token(&admin.id, &token.id).await.unwrap();
    assert!(one.access_principal(&access.access_token).await.is_err());
    assert!(one.exchange_refresh_token(&refresh).await.is_err());

    // Spent ones go (the revoked access token, the other instance's nothing), API tokens stay.
    assert!(one.prune_credentials().await.unwrap() >= 1);
    assert!(
        one.session_principal(&session).await.is_ok(),
        "a live session stays"
    );
    assert_eq!(two.api_tokens(&admin.id).await.unwrap().len(), 1);
}

async fn a_password_change_ends_the_other_sessions_and_an_expired_api_token_is_refused(
    db: Database,
) {
    let store = open(&db).await;
    let clock = Arc::new(ManualClock::at("2026-11-24T12:00:00Z"));
    let services = Services::builder(store.clone(), clock.clone(), SiteConfig::default())
        .engine(Arc::new(FakeEngine::default()))
        .build();
    services.start().await.unwrap();
    let (old, new) = ("correct horse battery", "a much longer passphrase");
    let admin = services
        .create_first_admin("ops@example.com", old)
        .await
        .unwrap();
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(services.sign_in("ops@example.com", old).await.unwrap().1);
    }
    services
        .change_password(&admin.id, old, new, Some(&sessions[0]))
        .await
        .unwrap();
    assert!(services.session_principal(&sessions[0]).await.is_ok());
    assert!(services.session_principal(&sessions[1]).await.is_err());
    assert!(services.session_principal(&sessions[2]).await.is_err());
    assert!(services.sign_in("ops@example.com", old).await.is_err());
    let (_, fourth) = services.sign_in("ops@example.com", new).await.unwrap();

    let nobody = cairn_model::UserId::parse("c1ev3l5o0aeu6ojco7b0").unwrap();
    use cairn_core::Clock;
    assert!(!store
        .set_password_hash(&nobody, "x", None, clock.now())
        .await
        .unwrap());
    assert_eq!(
        services
            .end_other_sessions(&admin.id, &sessions[0])
            .await
            .unwrap(),
        1
    );
    assert!(services.session_principal(&fourth).await.is_err());
    assert_eq!(
        store
            .revoke_sessions(&admin.id, None, clock.now())
            .await
            .unwrap(),
        1,
        "sessions ended before are not counted again"
    );
    assert!(services.session_principal(&sessions[0]).await.is_err());

    let (token, refresh) = services
        .create_api_token(&admin.id, "CI", Some(chrono::Duration::hours(1)))
        .await
        .unwrap();
    assert_eq!(
        services.api_tokens(&admin.id).await.unwrap()[0].expires,
        token.expires
    );
    clock.advance(chrono::Duration::minutes(59));
    assert!(services.exchange_refresh_token(&refresh).await.is_ok());
    clock.advance(chrono::Duration::minutes(1));
    let expired = services.exchange_refresh_token(&refresh).await.unwrap_err();
    assert_eq!(expired.to_string(), "the refresh token has expired");
}

async fn the_outbox_claims_each_due_delivery_once_and_one_issue_stays_open_per_condition(
    db: Database,
) {
    use cairn_model::{
        Delivery, DeliveryId, DeliveryStatus, Event, EventId, EventKind, EventSource,
        IntegrationRequest, IssueStatus, Sink,
    };
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(&db, &engine).await;
    let store = open(&db).await;
    let integration = services
        .create_integration(
            &scope,
            &IntegrationRequest {
                description: "ops".into(),
                source: EventSource::Issues,
                data: Sink::Webhook {
                    url: "https://hooks.example.com/x".into(),
                    secret: "0123456789abcdef0123".into(),
                },
            },
        )
        .await
        .unwrap();
    let read = services
        .get_integration(&scope, &integration.id)
        .await
        .unwrap();
    assert_eq!(
        read, integration,
        "the sink and its secret read back exactly"
    );

    let now: chrono::DateTime<chrono::Utc> = "2026-11-24T12:00:00.5Z".parse().unwrap();
    let id = |n: u8| format!("c1ev3l5o0aeu6ojco{n:02}0");
    let issue = |n: u8| Event {
        id: EventId::parse(&id(n)).unwrap(),
        organization_id: scope.organization_id.clone(),
        project_id: scope.project_id.clone(),
        kind: EventKind::Issue,
        category: "cluster-unhealthy".into(),
        subject: "Cluster orders is degraded".into(),
        message: "…".into(),
        resource_id: "c1ev3l5o0aeu6ojco7zz".into(),
        status: Some(IssueStatus::Open),
        created: now,
        closed: None,
    };
    let delivery = |n: u8, event: &Event| Delivery {
        id: DeliveryId::parse(&id(n)).unwrap(),
        integration_id: integration.id.clone(),
        event_id: event.id.clone(),
        summary: "Issue: Cluster orders is degraded".into(),
        announces: Some(IssueStatus::Open),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt: Some(now),
        last_error: None,
        created: now,
        delivered: None,
    };
    let first = issue(10);
    store
        .record_event(&first, &[delivery(20, &first), delivery(21, &first)])
        .await
        .unwrap();
    // Another instance opening the same issue adds nothing.
    let twin = issue(11);
    store
        .record_event(&twin, &[delivery(22, &twin)])
        .await
        .unwrap();
    assert_eq!(
        store.open_issues().await.unwrap(),
        std::slice::from_ref(&first)
    );

    let lease = now + chrono::TimeDelta::seconds(30);
    let early = store
        .claim_deliveries(now - chrono::TimeDelta::milliseconds(1), lease, 10)
        .await
        .unwrap();
    assert!(early.is_empty(), "not due yet");
    let (a, b) = tokio::join!(
        store.claim_deliveries(now, lease, 10),
        store.claim_deliveries(now, lease, 10)
    );
    let mut claimed = [a.unwrap(), b.unwrap()].concat();
    assert_eq!(claimed.len(), 2, "each due delivery claimed exactly once");
    claimed.sort_by(|x, y| x.id.cmp(&y.id));

    let mut delivered = claimed[0].clone();
    delivered.status = DeliveryStatus::Delivered;
    delivered.attempts = 1;
    delivered.next_attempt = None;
    delivered.delivered = Some(now);
    store.finish_delivery(&delivered).await.unwrap();
    let mut retry = claimed[1].clone();
    retry.attempts = 1;
    retry.last_error = Some("the webhook answered 500".into());
    retry.next_attempt = Some(now + chrono::TimeDelta::seconds(1));
    store.finish_delivery(&retry).await.unwrap();
    let again = store
        .claim_deliveries(now + chrono::TimeDelta::seconds(2), lease, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, retry.id);
    assert_eq!(again[0].last_error, retry.last_error);

    assert!(store.close_issue(&first.id, now, &[]).await.unwrap());
    assert!(
        !store.close_issue(&first.id, now, &[]).await.unwrap(),
        "closed once"
    );
    assert!(store.open_issues().await.unwrap().is_empty());
    let log = store.deliveries(&integration.id, 10).await.unwrap();
    assert_eq!(log.len(), 2);

    let mut done = again[0].clone();
    done.status = DeliveryStatus::Delivered;
    done.attempts = 2;
    done.next_attempt = None;
    store.finish_delivery(&done).await.unwrap();

    // Ninety days on: what finished goes; what is still pending stays.
    let later = now + chrono::TimeDelta::days(91);
    let note = Event {
        id: EventId::parse(&id(12)).unwrap(),
        kind: EventKind::Notification,
        category: "backup-failed".into(),
        status: None,
        ..issue(12)
    };
    let pending = Delivery {
        next_attempt: Some(later),
        ..delivery(23, &note)
    };
    store.record_event(&note, &[pending]).await.unwrap();
    assert_eq!(
        store.prune_events(later).await.unwrap(),
        1,
        "the closed issue went"
    );
    let log = store.deliveries(&integration.id, 10).await.unwrap();
    assert_eq!(log.len(), 1, "only the pending delivery is left: {log:?}");
    assert!(
        store.event(&note.id).await.unwrap().is_some(),
        "its event stays with it"
    );

    services
        .delete_integration(&scope, &integration.id)
        .await
        .unwrap();
    let log = store.deliveries(&integration.id, 10).await.unwrap();
    assert!(
        log.iter().all(|d| d.status != DeliveryStatus::Pending),
        "a deleted integration's deliveries are not sent: {log:?}"
    );
    assert!(services.list_integrations(&scope).await.unwrap().is_empty());
}

async fn a_patch_writes_only_its_fields_and_a_verification_survives_later_updates(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(&db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    let store = open(&db).await;
    let health = cairn_core::ClusterPatch {
        health: Some(cairn_model::ClusterHealth::Degraded),
        ..Default::default()
    };
    assert!(store.patch_cluster(&cluster.id, &health).await.unwrap());
    let rename = cairn_core::ClusterPatch {
        description: Some("renamed".into()),
        server_version: Some(("25.0".into(), "25.0.1".into())),
        ..Default::default()
    };
    assert!(store.patch_cluster(&cluster.id, &rename).await.unwrap());
    let stored = store
        .cluster(&scope.project_id, &cluster.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.health, cairn_model::ClusterHealth::Degraded, "kept");
    assert_eq!(stored.description, "renamed");
    assert_eq!(
        (
            stored.server_version.as_str(),
            stored.server_version_tag.as_str()
        ),
        ("25.0", "25.0.1")
    );
    assert_eq!(stored.addresses, cluster.addresses, "untouched");
    assert!(stored.protected, "untouched");
    let unknown = cairn_model::ClusterId::parse("c1ev3l5o0aeu6ojco7b0").unwrap();
    assert!(!store.patch_cluster(&unknown, &rename).await.unwrap());

    let backup = services
        .create_backup(&scope, &cluster.id, "verified")
        .await
        .unwrap();
    services.settle().await;
    let verification = cairn_model::Verification {
        at: "2025-01-23T19:00:00Z".parse().unwrap(),
        duration_ms: 1234,
        ok: true,
        detail: "6 files read back".into(),
    };
    assert!(store
        .set_verification(&backup.id, &verification)
        .await
        .unwrap());
    let mut later = store
        .backup(&scope.project_id, &backup.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        later.contents,
        Some(cairn_model::ClusterContents {
            event_count: 42,
            last_position: 4200
        })
    );
    assert!(later.finished.is_some());
    later.verification = None;
    later.status = BackupStatus::Deleting;
    store.update_backup(&later).await.unwrap();
    let read = store
        .backup(&scope.project_id, &backup.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        read.verification,
        Some(verification),
        "written on its own, never undone"
    );
    assert_eq!(read.status, BackupStatus::Deleting);
}

async fn history_reads_are_bounded_indexed_and_pruned_keeping_each_jobs_latest(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let clock = Arc::new(ManualClock::at("2026-11-24T09:30:00Z"));
    let (services, scope) = instance_on_clock(&db, &engine, &clock).await;
    let cluster = available_cluster(&services, &scope).await;
    let job = hourly_job(&services, &scope, &cluster).await;
    let other = hourly_job(&services, &scope, &cluster).await;
    let mut runs = Vec::new();
    for _ in 0..5 {
        runs.push(services.run_job_now(&scope, &job.id).await.unwrap());
        services.settle().await;
        clock.advance(chrono::TimeDelta::days(30));
    }
    services.run_job_now(&scope, &other.id).await.unwrap();
    services.settle().await;
    let store = open(&db).await;

    let latest = store.history(&job.id, 2).await.unwrap();
    assert_eq!(
        latest.iter().map(|h| &h.id).collect::<Vec<_>>(),
        [&runs[4].id, &runs[3].id],
        "newest first, at most the limit"
    );
    let project = store
        .project_history(&scope.project_id, None, 100)
        .await
        .unwrap();
    assert_eq!(project.len(), 6);
    assert!(project
        .windows(2)
        .all(|w| w[0].start_time >= w[1].start_time));
    let only = store
        .project_history(&scope.project_id, Some(&other.id), 100)
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    let last = store.last_runs(&scope.project_id).await.unwrap();
    assert_eq!(last[&job.id].id, runs[4].id);
    assert_eq!(last.len(), 2);
    let backup = runs[2].linked_resource.clone().unwrap();
    assert_eq!(
        store
            .run_of_backup(&job.id, &backup)
            .await
            .unwrap()
            .map(|h| h.id),
        Some(runs[2].id.clone())
    );
    assert_eq!(store.run_of_backup(&other.id, &backup).await.unwrap(), None);
    assert!(store.started_runs().await.unwrap().is_empty());

    // 150 days on, everything older than 90 days goes but each job's latest run.
    let before = cairn_core::Clock::now(clock.as_ref()) - chrono::TimeDelta::days(90);
    let pruned = store.prune_history(before).await.unwrap();
    assert!(pruned >= 1, "{pruned}");
    let kept = store.history(&job.id, 100).await.unwrap();
    assert!(kept.iter().any(|h| h.id == runs[4].id));
    assert!(kept
        .iter()
        .all(|h| h.end_time.unwrap() >= before || h.id == runs[4].id));
    assert_eq!(store.history(&other.id, 100).await.unwrap().len(), 1);
}

async fn a_run_ends_once_and_a_late_end_does_not_overwrite_the_first(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(&db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    let job = hourly_job(&services, &scope, &cluster).await;
    let store = open(&db).await;
    let mut run = services.run_job_now(&scope, &job.id).await.unwrap();
    services.settle().await;
    let ended = store.history(&job.id, 1).await.unwrap().remove(0);
    assert_eq!(ended.status, HistoryStatus::Succeeded);

    run.status = HistoryStatus::Failed;
    run.details = "a late, wrong end".into();
    assert!(!store.end_run_if_started(&run).await.unwrap());
    assert_eq!(store.history(&job.id, 1).await.unwrap()[0], ended);
}

async fn monitoring_reads_each_clusters_newest_success_and_the_pending_deliveries(db: Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(&db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    let store = open(&db).await;
    assert!(store.last_backup_successes().await.unwrap().is_empty());
    let mut newest = None;
    for _ in 0..2 {
        newest = Some(
            services
                .create_backup(&scope, &cluster.id, "b")
                .await
                .unwrap(),
        );
        services.settle().await;
    }
    engine.snapshots(SnapshotBehaviour::Fail(cairn_core::EngineError::Failed(
        "no".into(),
    )));
    services
        .create_backup(&scope, &cluster.id, "defunct")
        .await
        .unwrap();
    services.settle().await;
    let successes = store.last_backup_successes().await.unwrap();
    assert_eq!(successes.len(), 1);
    assert_eq!(successes[0].cluster_id, cluster.id);
    assert_eq!(successes[0].created, newest.unwrap().created);
    assert_eq!(successes[0].bytes_stored, Some(100));
    assert_eq!(store.count_pending_deliveries().await.unwrap(), 0);
}

macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::sqlite().await).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(db) = super::postgres().await {
                        super::$test(db).await;
                    }
                }
            )*
        }
    };
}

contract!(
    first_start_seeds_networks_that_read_back_exactly,
    a_restart_on_the_same_database_seeds_nothing_more,
    a_region_added_later_gets_its_network_in_the_same_project,
    resources_of_another_project_are_not_found,
    a_cluster_and_its_backup_read_back_exactly_after_a_restart,
    of_200_concurrent_backups_from_two_instances_exactly_one_is_accepted,
    after_a_crash_creating_backups_are_defunct_and_unlocked,
    a_job_its_history_and_its_pruned_backups_read_back_after_a_restart,
    each_due_run_fires_once_across_instances_and_missed_ones_are_not_caught_up,
    networks_and_projects_are_created_and_an_unused_network_deleted,
    organizations_and_projects_are_deleted_once_unused,
    instances_silent_for_a_day_are_forgotten,
    users_tokens_and_roles_read_back_and_only_one_first_admin_wins,
    a_password_change_ends_the_other_sessions_and_an_expired_api_token_is_refused,
    the_outbox_claims_each_due_delivery_once_and_one_issue_stays_open_per_condition,
    a_patch_writes_only_its_fields_and_a_verification_survives_later_updates,
    history_reads_are_bounded_indexed_and_pruned_keeping_each_jobs_latest,
    a_run_ends_once_and_a_late_end_does_not_overwrite_the_first,
    monitoring_reads_each_clusters_newest_success_and_the_pending_deliveries,
);

#[tokio::test]
async fn an_unsupported_database_url_is_refused_with_its_name() {
    let error = SqlStore::open("mysql://db/cairn").await.err().unwrap();
    assert_eq!(
        error.to_string(),
        "database URL 'mysql://db/cairn' is not supported: use sqlite://PATH or postgres://…"
    );
}

#[tokio::test]
async fn an_unreachable_sqlite_path_names_the_database_in_the_error() {
    let error = SqlStore::open("sqlite:///nonexistent-dir/deeper/cairn.db")
        .await
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .starts_with("cannot open database sqlite:///nonexistent-dir/deeper/cairn.db"),
        "{error}"
    );
}
