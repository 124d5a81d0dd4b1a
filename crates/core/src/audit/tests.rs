//! The audit log over the in-memory store: every audited use case writes one entry, with the
//! right actor, place, address and outcome; reading it hides other people's addresses.

use super::*;
use crate::lifecycle::JobEvent;
use crate::testkit::{fixture, Fixture, SnapshotBehaviour};
use crate::Clock;
use cairn_model::audit::actions;
use cairn_model::{
    BackupStatus, CreateJobRequest, EditJobRequest, ScheduledBackupData, TokenId, AUDIT_PAGE_MAX,
};

const PASSWORD: &str = "correct horse battery";
const HOME: &str = "192.0.2.7";

/// A person with `role` in the fixture's project, signed in from `address`, and their scope.
async fn person(f: &Fixture, email: &str, role: Role, address: &str) -> (Principal, Scope) {
    let place = &f.scope;
    f.services
        .create_user(
            email,
            PASSWORD,
            role,
            &place.organization_id,
            Some(&place.project_id),
        )
        .await
        .unwrap();
    let principal = signed_in_principal(f, email, address).await;
    let scope = f
        .services
        .authorize(
            &principal,
            &place.organization_id,
            &place.project_id,
            Permission::Read,
        )
        .await
        .unwrap();
    (principal, scope)
}

/// Every entry the fixture's project shows, oldest first, as its admin reads them.
async fn entries(f: &Fixture) -> Vec<AuditEntry> {
    let filter = AuditFilter {
        limit: AUDIT_PAGE_MAX,
        ..Default::default()
    };
    let mut entries = f.services.audit(&f.scope, filter).await.unwrap().entries;
    entries.reverse();
    entries
}

/// The entries of one action.
async fn of(f: &Fixture, action: &str) -> Vec<AuditEntry> {
    entries(f)
        .await
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

fn job_request(cluster: &cairn_model::ClusterId, description: &str) -> CreateJobRequest {
    CreateJobRequest {
        description: description.into(),
        schedule: "0 * * * *".into(),
        data: ScheduledBackupData {
            cluster_id: cluster.clone(),
            description: "{cluster} #{index}".into(),
            max_backup_count: 3,
        },
    }
}

#[tokio::test]
async fn each_change_a_person_makes_is_recorded_once_with_them_their_address_and_done() {
    let f = fixture().await;
    let (_, alice) = person(&f, "alice@example.com", Role::Operator, HOME).await;
    let s = &f.services;
    let cluster = s
        .create_cluster(&alice, &f.request("local-1").await)
        .await
        .unwrap();
    s.settle().await;
    let backup = s
        .create_backup(&alice, &cluster.id, "one-off")
        .await
        .unwrap();
    s.settle().await;
    let restore = cairn_model::CreateClusterRequest {
        description: "restored".into(),
        source_backup_id: Some(backup.id.clone()),
        ..f.request("local-1").await
    };
    let restored = s.create_cluster(&alice, &restore).await.unwrap();
    s.settle().await;
    let job = s
        .create_job(&alice, &job_request(&cluster.id, "hourly"))
        .await
        .unwrap();
    let edit = EditJobRequest {
        description: Some("every hour".into()),
        ..Default::default()
    };
    s.edit_job(&alice, &job.id, &edit).await.unwrap();
    s.change_job(&alice, &job.id, JobEvent::Pause)
        .await
        .unwrap();
    s.change_job(&alice, &job.id, JobEvent::Resume)
        .await
        .unwrap();
    s.run_job_now(&alice, &job.id).await.unwrap();
    s.settle().await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let held = s.create_backup(&alice, &cluster.id, "held").await.unwrap();
    s.cancel_backup(&alice, &held.id).await.unwrap();
    s.delete_backup(&alice, &backup.id).await.unwrap();
    s.change_job(&alice, &job.id, JobEvent::Delete)
        .await
        .unwrap();
    s.delete_cluster(&alice, &restored.id).await.unwrap();
    s.settle().await;

    let filter = AuditFilter {
        actor: Some("alice@example.com".into()),
        limit: AUDIT_PAGE_MAX,
        ..Default::default()
    };
    let mut by_alice = s.audit(&f.scope, filter).await.unwrap().entries;
    by_alice.reverse();
    let done: Vec<&str> = by_alice.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        done,
        [
            actions::SIGN_IN,
            actions::CLUSTER_CREATE,
            actions::BACKUP_CREATE,
            actions::CLUSTER_RESTORE,
            actions::JOB_CREATE,
            actions::JOB_EDIT,
            actions::JOB_PAUSE,
            actions::JOB_RESUME,
            actions::JOB_RUN,
            actions::BACKUP_CREATE,
            actions::BACKUP_CANCEL,
            actions::BACKUP_DELETE,
            actions::JOB_DELETE,
            actions::CLUSTER_DELETE,
        ],
        "one entry per change; the job's own backup is the job's, not alice's"
    );
    for entry in &by_alice {
        assert_eq!(entry.actor.kind, ActorKind::User, "{entry:?}");
        assert_eq!(entry.actor.name, "alice@example.com");
        assert_eq!(entry.address.as_deref(), Some(HOME));
        assert_eq!(entry.outcome, AuditOutcome::Ok, "{entry:?}");
        assert_eq!(entry.at, f.clock.now(), "the clock's time");
    }
    let in_project: Vec<_> = by_alice.iter().skip(1).collect();
    assert!(in_project
        .iter()
        .all(|e| e.project_id.as_ref() == Some(&f.scope.project_id)));
    assert_eq!(by_alice[0].project_id, None, "signing in is the site's");

    let created = &by_alice[2];
    assert_eq!(
        (created.resource_kind.as_str(), created.resource_id.as_str()),
        ("backup", backup.id.as_str()),
        "a created resource is named by its new id"
    );
    assert_eq!(created.summary, "one-off of cluster orders");
    assert_eq!(by_alice[3].resource_id, restored.id.as_str());
    assert_eq!(by_alice[4].resource_id, job.id.as_str());
    assert_eq!(by_alice[5].summary, "job every hour");
}

#[tokio::test]
async fn a_refused_change_is_recorded_with_the_errors_kind_and_message() {
    let f = fixture().await;
    let (_, alice) = person(&f, "alice@example.com", Role::Operator, HOME).await;
    let (_, victor) = person(&f, "victor@example.com", Role::Viewer, "198.51.100.9").await;
    let s = &f.services;
    let request = cairn_model::CreateClusterRequest {
        protected: true,
        ..f.request("local-1").await
    };
    let cluster = s.create_cluster(&alice, &request).await.unwrap();
    s.settle().await;

    let protected = s.delete_cluster(&alice, &cluster.id).await.unwrap_err();
    f.engine.snapshots(SnapshotBehaviour::Hold);
    s.create_backup(&alice, &cluster.id, "first").await.unwrap();
    let locked = s
        .create_backup(&alice, &cluster.id, "second")
        .await
        .unwrap_err();
    let invalid = s
        .create_job(&alice, &job_request(&cluster.id, " "))
        .await
        .unwrap_err();
    let forbidden = s
        .create_backup(&victor, &cluster.id, "mine")
        .await
        .unwrap_err();
    f.engine.release_snapshots();
    s.settle().await;

    let deletes = of(&f, actions::CLUSTER_DELETE).await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(
        deletes[0].outcome,
        AuditOutcome::Refused {
            kind: "conflict".into(),
            message: protected.to_string()
        }
    );
    assert_eq!(deletes[0].resource_id, cluster.id.as_str());
    let backups = of(&f, actions::BACKUP_CREATE).await;
    let outcomes: Vec<_> = backups.iter().map(|e| e.outcome.clone()).collect();
    assert_eq!(
        outcomes,
        [
            AuditOutcome::Ok,
            AuditOutcome::Refused {
                kind: "conflict".into(),
                message: locked.to_string()
            },
            AuditOutcome::Refused {
                kind: "forbidden".into(),
                message: forbidden.to_string()
            },
        ]
    );
    assert_eq!(
        (
            backups[1].resource_kind.as_str(),
            backups[1].resource_id.as_str()
        ),
        ("cluster", cluster.id.as_str()),
        "a refused backup is found by its cluster: it never had an id"
    );
    assert_eq!(backups[2].actor.name, "victor@example.com");
    assert_eq!(backups[2].address.as_deref(), Some("198.51.100.9"));
    let jobs = of(&f, actions::JOB_CREATE).await;
    assert!(
        matches!(&jobs[0].outcome, AuditOutcome::Refused { kind, message }
            if kind == "invalid" && *message == invalid.to_string()),
        "{:?}",
        jobs[0].outcome
    );
}

#[tokio::test]
async fn a_failed_sign_in_is_recorded_as_anonymous_with_the_email_tried_and_a_success_as_the_user()
{
    let f = fixture().await;
    let s = &f.services;
    s.create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    s.sign_in_from(" Ops@Example.com", "not the password", Some(HOME.into()))
        .await
        .unwrap_err();
    s.sign_in_from("nobody@example.com", PASSWORD, Some("203.0.113.5".into()))
        .await
        .unwrap_err();
    let (admin, _) = s
        .sign_in_from("ops@example.com", PASSWORD, Some(HOME.into()))
        .await
        .unwrap();

    let sign_ins = of(&f, actions::SIGN_IN).await;
    assert_eq!(sign_ins.len(), 3);
    let failed = &sign_ins[0];
    assert_eq!(failed.actor.kind, ActorKind::Anonymous);
    assert_eq!(
        failed.actor.name, "ops@example.com",
        "the email as tried, tidied"
    );
    assert_eq!(failed.address.as_deref(), Some(HOME));
    assert!(
        matches!(&failed.outcome, AuditOutcome::Refused { kind, .. } if kind == "unauthenticated")
    );
    assert_eq!(sign_ins[1].actor.name, "nobody@example.com");
    assert_eq!(sign_ins[1].address.as_deref(), Some("203.0.113.5"));
    let done = &sign_ins[2];
    assert_eq!(done.actor.kind, ActorKind::User);
    assert_eq!(done.actor.id, admin.id.as_str());
    assert_eq!(done.outcome, AuditOutcome::Ok);
    let created = of(&f, actions::USER_CREATE).await;
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].actor.kind,
        ActorKind::System,
        "the first admin comes from the server's setup, not from a person"
    );
    assert_eq!(created[0].resource_id, admin.id.as_str());
}

#[tokio::test]
async fn tokens_passwords_grants_and_sign_outs_are_recorded_with_who_asked() {
    let f = fixture().await;
    let s = &f.services;
    let (alice, _) = person(&f, "alice@example.com", Role::Operator, HOME).await;
    let (token, _) = s
        .create_api_token(&alice, "CI backups", None)
        .await
        .unwrap();
    s.revoke_api_token(&alice, &token.id).await.unwrap();
    let missing = TokenId::parse("c1ev3l5o0aeu6ojco7b0").unwrap();
    s.revoke_api_token(&alice, &missing).await.unwrap_err();
    let (_, session) = s
        .sign_in_from("alice@example.com", PASSWORD, None)
        .await
        .unwrap();
    s.sign_out_from(&session, Some(HOME.into())).await.unwrap();
    s.sign_out_from(&session, Some(HOME.into())).await.unwrap();
    s.change_password(&alice, PASSWORD, "a much longer passphrase", None)
        .await
        .unwrap();
    s.grant(&cairn_model::Grant {
        user_id: alice.user().id.clone(),
        organization_id: f.scope.organization_id.clone(),
        project_id: None,
        role: Role::Admin,
    })
    .await
    .unwrap();
    s.settle().await;

    let tokens = of(&f, actions::TOKEN_CREATE).await;
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].resource_id, token.id.as_str());
    assert_eq!(tokens[0].summary, "CI backups");
    assert_eq!(tokens[0].address.as_deref(), Some(HOME));
    let revokes = of(&f, actions::TOKEN_REVOKE).await;
    assert_eq!(revokes.len(), 2);
    assert_eq!(revokes[0].outcome, AuditOutcome::Ok);
    assert!(
        matches!(&revokes[1].outcome, AuditOutcome::Refused { kind, .. } if kind == "not-found")
    );
    let password = of(&f, actions::PASSWORD_CHANGE).await;
    assert_eq!(password.len(), 1);
    assert_eq!(password[0].actor.name, "alice@example.com");
    let grants = of(&f, actions::USER_GRANT).await;
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].actor.kind, ActorKind::System);
    assert_eq!(
        grants[0].organization_id,
        Some(f.scope.organization_id.clone())
    );
    assert_eq!(grants[0].project_id, None, "a grant for every project");
    assert_eq!(
        of(&f, actions::SIGN_OUT).await.len(),
        1,
        "signing out of a session already ended records nothing"
    );
}

#[tokio::test]
async fn an_api_tokens_calls_are_recorded_as_the_token_with_its_user_behind_it() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let (alice, _) = person(&f, "alice@example.com", Role::Operator, HOME).await;
    let (token, refresh) = f
        .services
        .create_api_token(&alice, "CI backups", None)
        .await
        .unwrap();
    let access = f.services.exchange_refresh_token(&refresh).await.unwrap();
    let caller = f
        .services
        .access_principal(&access.access_token)
        .await
        .unwrap()
        .from_address(Some("203.0.113.20".into()));
    let place = &f.scope;
    let scope = f
        .services
        .authorize(
            &caller,
            &place.organization_id,
            &place.project_id,
            Permission::Operate,
        )
        .await
        .unwrap();
    let backup = f
        .services
        .create_backup(&scope, &cluster.id, "from CI")
        .await
        .unwrap();
    f.services.settle().await;

    assert_eq!(backup.created_by.as_deref(), Some("alice@example.com"));
    let entry = of(&f, actions::BACKUP_CREATE).await.remove(0);
    assert_eq!(
        entry.actor,
        AuditActor {
            kind: ActorKind::Token,
            id: token.id.to_string(),
            name: "CI backups".into(),
            email: Some("alice@example.com".into()),
        }
    );
    assert_eq!(entry.address.as_deref(), Some("203.0.113.20"));
    let by_alice = AuditFilter {
        actor: Some("alice@example.com".into()),
        action: Some("backup".into()),
        ..Default::default()
    };
    let page = f.services.audit(&f.scope, by_alice).await.unwrap();
    assert_eq!(
        page.entries.len(),
        1,
        "a person's filter finds their tokens' doing"
    );
}

#[tokio::test]
async fn a_viewer_reads_the_audit_without_other_peoples_addresses_and_an_admin_reads_them_all() {
    let f = fixture().await;
    let (_, alice) = person(&f, "alice@example.com", Role::Operator, HOME).await;
    let (_, victor) = person(&f, "victor@example.com", Role::Viewer, "198.51.100.9").await;
    let (_, ada) = person(&f, "ada@example.com", Role::Admin, "203.0.113.1").await;
    f.services
        .sign_in_from(
            "victor@example.com",
            "a wrong guess",
            Some("203.0.113.66".into()),
        )
        .await
        .unwrap_err();
    let cluster = f
        .services
        .create_cluster(&alice, &f.request("local-1").await)
        .await
        .unwrap();
    f.services.settle().await;

    let seen = f
        .services
        .audit(&victor, AuditFilter::default())
        .await
        .unwrap();
    assert!(!seen.entries.is_empty());
    for entry in &seen.entries {
        let victors = entry.actor.email.as_deref() == Some("victor@example.com");
        assert_eq!(entry.address.is_some(), victors, "{entry:?}");
    }
    let creation = seen
        .entries
        .iter()
        .find(|e| e.resource_id == cluster.id.as_str())
        .unwrap();
    assert_eq!(
        creation.actor.name, "alice@example.com",
        "who did it is no secret"
    );
    let tried = seen
        .entries
        .iter()
        .find(|e| e.actor.kind == ActorKind::Anonymous)
        .unwrap();
    assert_eq!(
        tried.address.as_deref(),
        Some("203.0.113.66"),
        "a sign-in tried with victor's email is about victor"
    );

    let all = f
        .services
        .audit(&ada, AuditFilter::default())
        .await
        .unwrap();
    assert!(all
        .entries
        .iter()
        .all(|e| e.address.is_some() || e.actor.kind == ActorKind::System));
    let in_places = |entries: &[cairn_model::AuditEntry]| {
        entries
            .iter()
            .filter(|e| e.organization_id.is_some())
            .count()
    };
    assert_eq!(in_places(&all.entries), in_places(&seen.entries));
    assert!(
        !all.entries
            .iter()
            .any(|e| e.actor.kind == ActorKind::Anonymous),
        "a sign-in tried with victor's email is victor's to see, not the admin's"
    );
}

#[tokio::test]
async fn an_audit_filter_with_a_control_character_or_too_long_is_refused_naming_it() {
    let f = fixture().await;
    let (_, alice) = person(&f, "alice@example.com", Role::Operator, HOME).await;
    let nul = AuditFilter {
        actor: Some("a\0b".into()),
        ..Default::default()
    };
    let error = f.services.audit(&alice, nul).await.unwrap_err();
    match error {
        crate::Error::Invalid(fields) => assert!(fields["actor"].contains("control")),
        other => panic!("{other:?}"),
    }
    let long = AuditFilter {
        resource: Some("x".repeat(201)),
        ..Default::default()
    };
    let error = f.services.audit(&alice, long).await.unwrap_err();
    assert!(matches!(error, crate::Error::Invalid(fields) if fields.contains_key("resource")));
}

#[tokio::test]
async fn the_audit_is_read_a_page_at_a_time_newest_first() {
    let f = fixture().await;
    let (_, alice) = person(&f, "alice@example.com", Role::Operator, HOME).await;
    let cluster = f.available_cluster().await;
    for n in 0..5 {
        let request = job_request(&cluster.id, &format!("job {n}"));
        f.services.create_job(&alice, &request).await.unwrap();
    }
    let jobs = |after| AuditFilter {
        action: Some("job".into()),
        limit: 2,
        after,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = f.services.audit(&alice, jobs(after)).await.unwrap();
        pages += 1;
        seen.extend(page.entries.into_iter().map(|e| e.summary));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        [
            "job job 4",
            "job job 3",
            "job job 2",
            "job job 1",
            "job job 0"
        ]
    );
}

#[tokio::test]
async fn a_backup_says_who_took_it_a_person_or_its_job() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let (_, alice) = person(&f, "alice@example.com", Role::Operator, HOME).await;
    let one_off = f
        .services
        .create_backup(&alice, &cluster.id, "by hand")
        .await
        .unwrap();
    let job = f
        .services
        .create_job(&alice, &job_request(&cluster.id, "My Hourly Backup"))
        .await
        .unwrap();
    f.services.settle().await;
    let run = f.services.run_job_now(&alice, &job.id).await.unwrap();
    f.services.settle().await;
    let by_job = run.linked_resource.unwrap();

    let backups = f.services.list_backups(&f.scope).await.unwrap();
    let by = |id: &cairn_model::BackupId| {
        backups
            .iter()
            .find(|b| &b.id == id)
            .and_then(|b| b.created_by.clone())
    };
    assert_eq!(by(&one_off.id).as_deref(), Some("alice@example.com"));
    assert_eq!(by(&by_job).as_deref(), Some("job My Hourly Backup"));
    assert!(backups.iter().all(|b| b.status == BackupStatus::Available));
}

#[tokio::test]
async fn a_change_whose_request_went_away_is_recorded_as_interrupted() {
    let f = fixture().await;
    let record = Record::in_scope(
        &f.scope,
        actions::BACKUP_CANCEL,
        Subject::new("backup", "c1ev3l5o0aeu6ojco7b0", ""),
    );
    let never = std::future::pending::<Result<()>>();
    let work = f.services.audited(record, never, |_, subject| subject);
    // The request's future is dropped before it ends, as a server does when the client leaves.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(10), work).await;
    f.services.settle().await;

    let cancels = of(&f, actions::BACKUP_CANCEL).await;
    assert_eq!(cancels.len(), 1);
    assert!(
        matches!(&cancels[0].outcome, AuditOutcome::Refused { kind, .. } if kind == "interrupted"),
        "{:?}",
        cancels[0].outcome
    );
}

#[tokio::test]
async fn an_internal_error_is_recorded_without_its_details() {
    let outcome = outcome_of::<()>(&Err(Error::internal("password=hunter2 in the DSN")));
    assert_eq!(
        outcome,
        AuditOutcome::Refused {
            kind: "internal".into(),
            message: "internal error (the server's log has the details)".into()
        }
    );
}

#[tokio::test]
async fn a_failed_sign_in_with_something_not_an_email_keeps_none_of_what_was_typed() {
    let f = fixture().await;
    let s = &f.services;
    s.create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let typed = "hunter2-my-password ".repeat(5_000);
    s.sign_in_from(&typed, PASSWORD, Some(HOME.into()))
        .await
        .unwrap_err();
    let tried = of(&f, actions::SIGN_IN).await;
    assert_eq!(tried.len(), 1);
    let entry = &tried[0];
    assert_eq!(entry.actor.kind, ActorKind::Anonymous);
    assert_eq!(entry.actor.email, None);
    assert_eq!(entry.actor.name, "not an email address");
    assert!(entry.resource_id.is_empty());
    assert!(!format!("{entry:?}").contains("hunter2"));
}

/// Takes every message: a sink that works.
struct Accepting;

#[async_trait::async_trait]
impl crate::ports::Deliverer for Accepting {
    async fn deliver(
        &self,
        _integration: &cairn_model::Integration,
        _message: &crate::ports::Outgoing,
    ) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// The fixture, with a sink that takes its integrations' messages (so a test is delivered).
async fn delivering() -> Fixture {
    let f = fixture().await;
    let services = Services::builder(
        f.store.clone(),
        f.clock.clone(),
        crate::SiteConfig::default(),
    )
    .engine(f.engine.clone())
    .notifier(f.notifier.clone())
    .deliverer(std::sync::Arc::new(Accepting))
    .build();
    Fixture { services, ..f }
}

/// The person as their grants are now, signed in afresh from `address`.
async fn signed_in(f: &Fixture, email: &str, address: &str) -> Actor {
    Actor::Person(std::sync::Arc::new(
        signed_in_principal(f, email, address).await,
    ))
}

/// The person's principal from a fresh sign-in from `address`.
async fn signed_in_principal(f: &Fixture, email: &str, address: &str) -> Principal {
    let (_, session) = f
        .services
        .sign_in_from(email, PASSWORD, Some(address.to_owned()))
        .await
        .unwrap();
    f.services
        .session_principal(&session)
        .await
        .unwrap()
        .from_address(Some(address.to_owned()))
}

fn integration_request(description: &str) -> cairn_model::IntegrationRequest {
    cairn_model::IntegrationRequest {
        description: description.into(),
        source: cairn_model::EventSource::Notifications,
        data: cairn_model::Sink::Webhook {
            url: "https://hooks.example.com/cairn".into(),
            secret: "0123456789abcdef0123".into(),
        },
    }
}

#[tokio::test]
async fn each_change_to_clusters_integrations_networks_and_projects_is_recorded_once() {
    let f = delivering().await;
    let s = &f.services;
    let (_, alice) = person(&f, "alice@example.com", Role::Operator, HOME).await;
    let cluster = f.available_cluster().await;
    s.expand_disk(&alice, &cluster.id, 32).await.unwrap();
    s.settle().await;
    s.resize_cluster(&alice, &cluster.id, cairn_model::InstanceType::M8)
        .await
        .unwrap();
    s.settle().await;
    s.upgrade_cluster(&alice, &cluster.id, "25.0")
        .await
        .unwrap();
    s.settle().await;
    s.update_cluster(&alice, &cluster.id, Some("billing"), None)
        .await
        .unwrap();
    s.update_cluster(&alice, &cluster.id, None, Some(true))
        .await
        .unwrap();
    s.update_cluster(&alice, &cluster.id, None, Some(false))
        .await
        .unwrap();
    s.update_cluster(&alice, &cluster.id, Some("orders"), Some(true))
        .await
        .unwrap();
    let backup = s
        .create_backup(&f.scope, &cluster.id, "checked")
        .await
        .unwrap();
    s.settle().await;
    s.verify_backup(&alice, &backup.id).await.unwrap();
    s.settle().await;
    let integration = s
        .create_integration(&alice, &integration_request("ops"))
        .await
        .unwrap();
    s.update_integration(&alice, &integration.id, &integration_request("ops pager"))
        .await
        .unwrap();
    s.test_integration(&alice, &integration.id).await.unwrap();
    s.delete_integration(&alice, &integration.id).await.unwrap();
    let network = s
        .create_network(
            &alice,
            &crate::CreateNetworkRequest {
                provider: "local".into(),
                region: "local-2".into(),
                description: "staging".into(),
                public_access: false,
                cidr_block: None,
            },
        )
        .await
        .unwrap();
    s.describe_network(&alice, &network.id, "spare")
        .await
        .unwrap();
    s.delete_network(&alice, &network.id).await.unwrap();

    let ada_at = "203.0.113.1";
    let organization = &f.scope.organization_id;
    s.create_user("ada@example.com", PASSWORD, Role::Admin, organization, None)
        .await
        .unwrap();
    let ada = signed_in(&f, "ada@example.com", ada_at).await;
    let spare = s.create_project(&ada, organization, "spare").await.unwrap();
    let in_spare = s
        .authorize(
            ada.person().unwrap(),
            organization,
            &spare.id,
            Permission::Read,
        )
        .await
        .unwrap();
    s.rename_project(&in_spare, "extra").await.unwrap();
    let place = crate::Place {
        organization_id: organization.clone(),
        project_id: spare.id.clone(),
    };
    s.delete_project(&ada, &place, &f.scope.place())
        .await
        .unwrap();
    let acme = s.create_organization(&ada, "acme").await.unwrap();
    // Admin of acme from its creation on: read again, the grants say so.
    let ada = signed_in(&f, "ada@example.com", ada_at).await;
    s.rename_organization(&ada, &acme.id, "acme labs")
        .await
        .unwrap();
    s.delete_organization(&ada, &acme.id).await.unwrap();
    s.settle().await;

    let all = entries(&f).await;
    let once = |action: &str| {
        let found: Vec<&AuditEntry> = all.iter().filter(|e| e.action == action).collect();
        assert_eq!(found.len(), 1, "{action}: {found:?}");
        found[0].clone()
    };
    for (action, summary, resource) in [
        (
            actions::CLUSTER_EXPAND_DISK,
            "orders: disk 16 → 32 GB",
            cluster.id.as_str(),
        ),
        (
            actions::CLUSTER_RESIZE,
            "orders: C4 → M8",
            cluster.id.as_str(),
        ),
        (
            actions::CLUSTER_UPGRADE,
            "orders: 24.10 → 25.0",
            cluster.id.as_str(),
        ),
        (
            actions::CLUSTER_RENAME,
            "orders: renamed to billing",
            cluster.id.as_str(),
        ),
        (
            actions::CLUSTER_PROTECT,
            "billing: protected",
            cluster.id.as_str(),
        ),
        (
            actions::CLUSTER_UNPROTECT,
            "billing: unprotected",
            cluster.id.as_str(),
        ),
        (
            actions::CLUSTER_UPDATE,
            "billing: renamed to orders, protected",
            cluster.id.as_str(),
        ),
        (
            actions::BACKUP_VERIFY,
            "checked of cluster orders",
            backup.id.as_str(),
        ),
        (
            actions::INTEGRATION_CREATE,
            "ops (webhook)",
            integration.id.as_str(),
        ),
        (
            actions::INTEGRATION_UPDATE,
            "ops pager (webhook)",
            integration.id.as_str(),
        ),
        (
            actions::INTEGRATION_TEST,
            "ops pager (webhook): test message delivered",
            integration.id.as_str(),
        ),
        (
            actions::INTEGRATION_DELETE,
            "ops pager (webhook)",
            integration.id.as_str(),
        ),
        (
            actions::NETWORK_CREATE,
            "staging in local-2",
            network.id.as_str(),
        ),
        (
            actions::NETWORK_UPDATE,
            "staging → spare",
            network.id.as_str(),
        ),
        (
            actions::NETWORK_DELETE,
            "spare in local-2",
            network.id.as_str(),
        ),
    ] {
        let entry = once(action);
        assert_eq!(entry.actor.name, "alice@example.com", "{entry:?}");
        assert_eq!(entry.address.as_deref(), Some(HOME), "{entry:?}");
        assert_eq!(entry.outcome, AuditOutcome::Ok, "{entry:?}");
        assert_eq!(
            (entry.summary.as_str(), entry.resource_id.as_str()),
            (summary, resource),
            "{action}"
        );
        assert_eq!(entry.project_id.as_ref(), Some(&f.scope.project_id));
    }
    for (action, summary) in [
        (actions::PROJECT_CREATE, "spare"),
        (actions::PROJECT_RENAME, "spare → extra"),
        (actions::PROJECT_DELETE, "extra"),
    ] {
        let entry = once(action);
        assert_eq!(entry.actor.name, "ada@example.com", "{entry:?}");
        assert_eq!(entry.address.as_deref(), Some(ada_at), "{entry:?}");
        assert_eq!(entry.outcome, AuditOutcome::Ok, "{entry:?}");
        assert_eq!(
            (entry.summary.as_str(), entry.resource_id.as_str()),
            (summary, spare.id.as_str()),
            "{action}"
        );
        assert_eq!(entry.organization_id.as_ref(), Some(organization));
        assert_eq!(entry.project_id, None, "{action} is the organization's");
    }
    assert!(
        !all.iter().any(|e| e.action.starts_with("organization.")),
        "acme's changes are acme's, not the default organization's"
    );

    // Acme has no project left to read its audit in: any project id of it shows the
    // organization's own entries.
    let in_acme = Scope::trusted(crate::Place {
        organization_id: acme.id.clone(),
        project_id: ProjectId::parse("c1ev3l5o0aeu6ojco7d0").unwrap(),
    });
    let filter = AuditFilter {
        action: Some("organization".into()),
        limit: AUDIT_PAGE_MAX,
        ..Default::default()
    };
    let mut of_acme = s.audit(&in_acme, filter).await.unwrap().entries;
    of_acme.reverse();
    let done: Vec<(&str, &str)> = of_acme
        .iter()
        .map(|e| (e.action.as_str(), e.summary.as_str()))
        .collect();
    assert_eq!(
        done,
        [
            (actions::ORGANIZATION_CREATE, "acme"),
            (actions::ORGANIZATION_RENAME, "acme → acme labs"),
            (actions::ORGANIZATION_DELETE, "acme labs"),
        ]
    );
    for entry in &of_acme {
        assert_eq!(entry.actor.name, "ada@example.com", "{entry:?}");
        assert_eq!(entry.outcome, AuditOutcome::Ok, "{entry:?}");
        assert_eq!(entry.resource_id, acme.id.as_str());
        assert_eq!(entry.organization_id.as_ref(), Some(&acme.id));
        assert_eq!(entry.project_id, None);
    }
}

#[tokio::test]
async fn a_refused_cluster_network_or_project_change_is_recorded_with_the_errors_kind() {
    let f = fixture().await;
    let s = &f.services;
    let (_, alice) = person(&f, "alice@example.com", Role::Operator, HOME).await;
    let (victor, as_victor) = person(&f, "victor@example.com", Role::Viewer, "198.51.100.9").await;
    let cluster = f.available_cluster().await;

    let smaller = s.expand_disk(&alice, &cluster.id, 8).await.unwrap_err();
    f.engine.snapshots(SnapshotBehaviour::Hold);
    s.create_backup(&alice, &cluster.id, "held").await.unwrap();
    let locked = s
        .resize_cluster(&alice, &cluster.id, cairn_model::InstanceType::M8)
        .await
        .unwrap_err();
    f.engine.release_snapshots();
    s.settle().await;
    let forbidden = s
        .delete_network(&as_victor, &cluster.network_id)
        .await
        .unwrap_err();
    let victor = Actor::Person(std::sync::Arc::new(victor));
    let not_admin = s
        .create_project(&victor, &f.scope.organization_id, "mine")
        .await
        .unwrap_err();

    let refused = |error: &crate::Error| AuditOutcome::Refused {
        kind: error.kind().as_str().to_owned(),
        message: error.to_string(),
    };
    let disks = of(&f, actions::CLUSTER_EXPAND_DISK).await;
    assert_eq!(disks.len(), 1);
    assert_eq!(disks[0].outcome, refused(&smaller));
    assert!(
        matches!(&disks[0].outcome, AuditOutcome::Refused { kind, .. } if kind == "invalid"),
        "{:?}",
        disks[0].outcome
    );
    assert_eq!(
        (disks[0].summary.as_str(), disks[0].resource_id.as_str()),
        ("disk to 8 GB", cluster.id.as_str()),
        "what was asked, since it was not done"
    );
    let resizes = of(&f, actions::CLUSTER_RESIZE).await;
    assert_eq!(resizes.len(), 1);
    assert_eq!(resizes[0].outcome, refused(&locked));
    assert_eq!(locked.kind(), crate::ErrorKind::Conflict, "{locked}");
    let deletes = of(&f, actions::NETWORK_DELETE).await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].outcome, refused(&forbidden));
    assert_eq!(forbidden.kind(), crate::ErrorKind::Forbidden, "{forbidden}");
    assert_eq!(deletes[0].actor.name, "victor@example.com");
    let projects = of(&f, actions::PROJECT_CREATE).await;
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].outcome, refused(&not_admin));
    assert_eq!(not_admin.kind(), crate::ErrorKind::Forbidden, "{not_admin}");
    assert_eq!(projects[0].project_id, None, "in the organization");
}

#[tokio::test]
async fn a_refused_request_with_a_megabyte_label_leaves_a_short_clean_entry() {
    let f = fixture().await;
    let (_, victor) = person(&f, "victor@example.com", Role::Viewer, "198.51.100.9").await;
    let cluster = f.available_cluster().await;
    let label = format!("x\0{}", "y".repeat(1 << 20));
    let refused = f
        .services
        .create_backup(&victor, &cluster.id, &label)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), crate::ErrorKind::Forbidden);
    let tried = of(&f, actions::BACKUP_CREATE).await;
    assert_eq!(tried.len(), 1);
    let summary = &tried[0].summary;
    assert!(
        summary.chars().count() <= crate::audit::MAX_SUMMARY_CHARS,
        "{} chars",
        summary.len()
    );
    assert!(summary.ends_with('…') && !summary.contains('\0'));
}
