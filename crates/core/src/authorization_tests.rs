//! Who may do what: every use case × every role, decided once, here in the core. The edges
//! (console, REST API) only turn a signed-in principal into a scope with
//! `Services::authorize`; each use case asks its scope for the right it needs.

use crate::lifecycle::JobEvent;
use crate::testkit::{fixture, Fixture};
use crate::{Actor, ErrorKind, Place, Principal, Result, Scope, Services};
use cairn_model::{
    BackupId, ClusterId, CreateJobRequest, EventSource, InstanceType, IntegrationId,
    IntegrationRequest, JobId, NetworkId, OrganizationId, Permission, ProjectId, Role,
    ScheduledBackupData, Sink,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What a use case needs.
#[derive(Debug, Clone, Copy)]
enum Need {
    /// A role in the project that allows this.
    Project(Permission),
    /// The admin role in all of the organization.
    OrganizationAdmin,
    /// Any role in the organization (it is then visible).
    Seen,
}

/// A role, given in one project or in all of the organization.
#[derive(Debug, Clone, Copy)]
struct Held {
    role: Role,
    organization_wide: bool,
}

impl Held {
    fn allows(self, need: Need) -> bool {
        match need {
            Need::Project(permission) => self.role.allows(permission),
            Need::OrganizationAdmin => self.organization_wide && self.role == Role::Admin,
            Need::Seen => true,
        }
    }
}

/// Ids of what the world holds, for the calls to name.
#[derive(Clone)]
struct Ids {
    organization: OrganizationId,
    project: ProjectId,
    network: NetworkId,
    cluster: ClusterId,
    backup: BackupId,
    job: JobId,
    integration: IntegrationId,
}

type Outcome = Pin<Box<dyn Future<Output = Result<()>> + Send>>;
type Call = Box<dyn Fn(Services, Scope, Actor, Ids) -> Outcome>;

/// `name, need, |services, scope, actor, ids| call`: the table's rows.
macro_rules! calls {
    ($($name:literal, $need:expr, |$s:ident, $scope:ident, $actor:ident, $ids:ident| $call:expr;)*) => {
        vec![$((
            $name,
            $need,
            Box::new(|$s: Services, $scope: Scope, $actor: Actor, $ids: Ids| {
                let _ = (&$scope, &$actor, &$ids);
                Box::pin(async move { $call.await.map(|_| ()) }) as Outcome
            }) as Call,
        )),*]
    };
}

fn integration_request() -> IntegrationRequest {
    IntegrationRequest {
        description: "ops".into(),
        source: EventSource::Notifications,
        data: Sink::Webhook {
            url: "https://hooks.example.com/cairn".into(),
            secret: "0123456789abcdef0123".into(),
        },
    }
}

fn job_request(cluster: &ClusterId) -> CreateJobRequest {
    CreateJobRequest {
        description: "hourly".into(),
        schedule: "0 * * * *".into(),
        data: ScheduledBackupData {
            cluster_id: cluster.clone(),
            description: "{cluster} hourly".into(),
            max_backup_count: 3,
        },
    }
}

fn table() -> Vec<(&'static str, Need, Call)> {
    use Need::{OrganizationAdmin, Project, Seen};
    use Permission::{Administer, Operate, Read};
    calls![
        // resources: organizations and projects
        "list_organizations", Seen, |s, scope, a, ids| s.list_organizations(&a);
        "get_organization", Seen, |s, scope, a, ids| s.get_organization(&a, &ids.organization);
        "list_projects", Seen, |s, scope, a, ids| s.list_projects(&a, &ids.organization);
        "create_organization", OrganizationAdmin, |s, scope, a, ids| s.create_organization(&a, "other");
        "rename_organization", OrganizationAdmin, |s, scope, a, ids| s.rename_organization(&a, &ids.organization, "renamed");
        "create_project", OrganizationAdmin, |s, scope, a, ids| s.create_project(&a, &ids.organization, "spare");
        "get_project", Project(Read), |s, scope, a, ids| s.get_project(&scope);
        "rename_project", Project(Administer), |s, scope, a, ids| s.rename_project(&scope, "renamed");
        "audit", Project(Read), |s, scope, a, ids| s.audit(&scope, Default::default());
        // infra: networks
        "list_networks", Project(Read), |s, scope, a, ids| s.list_networks(&scope);
        "get_network", Project(Read), |s, scope, a, ids| s.get_network(&scope, &ids.network);
        "create_network", Project(Operate), |s, scope, a, ids| s.create_network(&scope, &crate::CreateNetworkRequest {
            provider: "local".into(), region: "local-2".into(), description: "spare".into(),
            public_access: false, cidr_block: None,
        });
        "describe_network", Project(Operate), |s, scope, a, ids| s.describe_network(&scope, &ids.network, "renamed");
        // mesdb: clusters and backups
        "list_clusters", Project(Read), |s, scope, a, ids| s.list_clusters(&scope);
        "get_cluster", Project(Read), |s, scope, a, ids| s.get_cluster(&scope, &ids.cluster);
        "cluster_overview", Project(Read), |s, scope, a, ids| s.cluster_overview(&scope, &ids.cluster);
        "follow_project", Project(Read), |s, scope, a, ids| s.follow_project(&scope);
        "list_backups", Project(Read), |s, scope, a, ids| s.list_backups(&scope);
        "shared_backup_list", Project(Read), |s, scope, a, ids| s.shared_backup_list(&scope);
        "list_backups_grouped", Project(Read), |s, scope, a, ids| s.list_backups_grouped(&scope);
        "page_backups", Project(Read), |s, scope, a, ids| s.page_backups(&scope, &cairn_model::PageRequest::default());
        "backup_job_groups", Project(Read), |s, scope, a, ids| s.backup_job_groups(&scope);
        "get_backup", Project(Read), |s, scope, a, ids| s.get_backup(&scope, &ids.backup);
        "backup_storage", Project(Read), |s, scope, a, ids| s.backup_storage(&scope);
        "is_verifying", Project(Read), |s, scope, a, ids| s.is_verifying(&scope, &ids.backup);
        "restore_choices", Project(Read), |s, scope, a, ids| s.restore_choices(&scope, &ids.backup, None);
        "create_cluster", Project(Operate), |s, scope, a, ids| s.create_cluster(&scope, &crate::testkit::cluster_request(ids.network.clone()));
        "update_cluster", Project(Operate), |s, scope, a, ids| s.update_cluster(&scope, &ids.cluster, Some("renamed"), None);
        "expand_disk", Project(Operate), |s, scope, a, ids| s.expand_disk(&scope, &ids.cluster, 32);
        "resize_cluster", Project(Operate), |s, scope, a, ids| s.resize_cluster(&scope, &ids.cluster, InstanceType::M8);
        "upgrade_cluster", Project(Operate), |s, scope, a, ids| s.upgrade_cluster(&scope, &ids.cluster, "25.0");
        "create_backup", Project(Operate), |s, scope, a, ids| s.create_backup(&scope, &ids.cluster, "{cluster}");
        "verify_backup", Project(Operate), |s, scope, a, ids| s.verify_backup(&scope, &ids.backup);
        // orchestrate: jobs and history
        "list_jobs", Project(Read), |s, scope, a, ids| s.list_jobs(&scope);
        "list_jobs_of_type", Project(Read), |s, scope, a, ids| s.list_jobs_of_type(&scope, None);
        "get_job", Project(Read), |s, scope, a, ids| s.get_job(&scope, &ids.job);
        "job_history", Project(Read), |s, scope, a, ids| s.job_history(&scope, &ids.job);
        "list_history", Project(Read), |s, scope, a, ids| s.list_history(&scope, None);
        "job_overviews", Project(Read), |s, scope, a, ids| s.job_overviews(&scope);
        "page_jobs", Project(Read), |s, scope, a, ids| s.page_jobs(&scope, None, &cairn_model::PageRequest::default());
        "page_job_overviews", Project(Read), |s, scope, a, ids| s.page_job_overviews(&scope, &cairn_model::PageRequest::default());
        "page_history", Project(Read), |s, scope, a, ids| s.page_history(&scope, &cairn_model::PageRequest::default());
        "job_detail", Project(Read), |s, scope, a, ids| s.job_detail(&scope, &ids.job);
        "plan_job_retention", Project(Read), |s, scope, a, ids| s.plan_job_retention(&scope, &ids.job);
        "create_job", Project(Operate), |s, scope, a, ids| s.create_job(&scope, &job_request(&ids.cluster));
        "create_restore_test", Project(Operate), |s, scope, a, ids| s.create_restore_test(&scope, &crate::restore_tests::CreateRestoreTestRequest {
            description: "proof".into(), schedule: "0 3 * * *".into(), cluster_id: ids.cluster.clone(),
        });
        "run_job_now", Project(Operate), |s, scope, a, ids| s.run_job_now(&scope, &ids.job);
        "change_job", Project(Operate), |s, scope, a, ids| s.change_job(&scope, &ids.job, JobEvent::Pause);
        // integrate: integrations and events
        "list_integrations", Project(Read), |s, scope, a, ids| s.list_integrations(&scope);
        "get_integration", Project(Read), |s, scope, a, ids| s.get_integration(&scope, &ids.integration);
        "integration_deliveries", Project(Read), |s, scope, a, ids| s.integration_deliveries(&scope, &ids.integration, 10);
        "events", Project(Read), |s, scope, a, ids| s.events(&scope, 10);
        "page_events", Project(Read), |s, scope, a, ids| s.page_events(&scope, &cairn_model::PageRequest::default());
        "create_integration", Project(Operate), |s, scope, a, ids| s.create_integration(&scope, &integration_request());
        "update_integration", Project(Operate), |s, scope, a, ids| s.update_integration(&scope, &ids.integration, &integration_request());
        "test_integration", Project(Operate), |s, scope, a, ids| s.test_integration(&scope, &ids.integration);
        // the deletions last, so the calls above find what they name
        "delete_integration", Project(Operate), |s, scope, a, ids| s.delete_integration(&scope, &ids.integration);
        "delete_backup", Project(Operate), |s, scope, a, ids| s.delete_backup(&scope, &ids.backup);
        "delete_cluster", Project(Operate), |s, scope, a, ids| s.delete_cluster(&scope, &ids.cluster);
        "delete_network", Project(Operate), |s, scope, a, ids| s.delete_network(&scope, &ids.network);
        "delete_project", OrganizationAdmin, |s, scope, a, ids| s.delete_project(&a, &Place {
            organization_id: ids.organization.clone(), project_id: ids.project.clone(),
        }, &Place { organization_id: ids.organization.clone(), project_id: ids.project.clone() });
        "delete_organization", OrganizationAdmin, |s, scope, a, ids| s.delete_organization(&a, &ids.organization);
    ]
}

/// A world with one of everything, made by Cairn itself.
async fn world() -> (Fixture, Ids) {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let backup = f
        .services
        .create_backup(&f.scope, &cluster.id, "{cluster}")
        .await
        .unwrap();
    f.services.settle().await;
    let job = f
        .services
        .create_job(&f.scope, &job_request(&cluster.id))
        .await
        .unwrap();
    let integration = f
        .services
        .create_integration(&f.scope, &integration_request())
        .await
        .unwrap();
    let ids = Ids {
        organization: f.scope.organization_id.clone(),
        project: f.scope.project_id.clone(),
        network: cluster.network_id.clone(),
        cluster: cluster.id,
        backup: backup.id,
        job: job.id,
        integration: integration.id,
    };
    (f, ids)
}

fn person(ids: &Ids, held: Held) -> Principal {
    let user = cairn_model::User {
        id: cairn_model::UserId::parse("c1ev3l5o0aeu6ojco7e0").unwrap(),
        email: format!("{}@example.com", held.role.as_str()),
        created: ids.cluster.time().unwrap(),
    };
    let grants = vec![cairn_model::Grant {
        user_id: user.id.clone(),
        organization_id: ids.organization.clone(),
        project_id: (!held.organization_wide).then(|| ids.project.clone()),
        role: held.role,
    }];
    Principal::new(user, grants)
}

#[tokio::test]
async fn every_use_case_allows_exactly_the_roles_its_need_names() {
    let roles = [
        (Role::Viewer, false),
        (Role::Operator, false),
        (Role::Admin, false),
        (Role::Viewer, true),
        (Role::Admin, true),
    ];
    let mut wrong = Vec::new();
    for (role, organization_wide) in roles {
        let held = Held {
            role,
            organization_wide,
        };
        let (f, ids) = world().await;
        let principal = person(&ids, held);
        let scope = f
            .services
            .authorize(
                &principal,
                &ids.organization,
                &ids.project,
                Permission::Read,
            )
            .await
            .unwrap();
        let actor = Actor::Person(Arc::new(principal));
        for (name, need, call) in table() {
            let outcome = call(
                f.services.clone(),
                scope.clone(),
                actor.clone(),
                ids.clone(),
            )
            .await;
            f.services.settle().await;
            let refused = matches!(&outcome, Err(e) if e.kind() == ErrorKind::Forbidden);
            if refused == held.allows(need) {
                wrong.push(format!(
                    "{name} ({need:?}) for {held:?}: {}",
                    match outcome {
                        Ok(()) => "allowed".to_owned(),
                        Err(e) => format!("{:?}: {e}", e.kind()),
                    }
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "wrong decisions:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_project_without_a_role_is_not_found_and_a_weak_role_is_told_what_it_needs() {
    let (f, ids) = world().await;
    let mut stranger = person(
        &ids,
        Held {
            role: Role::Admin,
            organization_wide: false,
        },
    );
    stranger.grants[0].project_id = Some(ProjectId::parse("c1ev3l5o0aeu6ojco7d0").unwrap());
    let error = f
        .services
        .authorize(&stranger, &ids.organization, &ids.project, Permission::Read)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);

    let viewer = person(
        &ids,
        Held {
            role: Role::Viewer,
            organization_wide: false,
        },
    );
    let error = f
        .services
        .authorize(
            &viewer,
            &ids.organization,
            &ids.project,
            Permission::Operate,
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    assert!(
        error.to_string().ends_with("this needs operator"),
        "{error}"
    );

    // An organization-wide role does not make up projects the organization lacks.
    let admin = person(
        &ids,
        Held {
            role: Role::Admin,
            organization_wide: true,
        },
    );
    let missing = ProjectId::parse("c1ev3l5o0aeu6ojco7d0").unwrap();
    let error = f
        .services
        .authorize(&admin, &ids.organization, &missing, Permission::Read)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_restore_from_another_project_needs_a_role_there() {
    let (f, ids) = world().await;
    let other = f
        .services
        .create_project(
            &Actor::Person(Arc::new(person(
                &ids,
                Held {
                    role: Role::Admin,
                    organization_wide: true,
                },
            ))),
            &ids.organization,
            "other",
        )
        .await
        .unwrap();
    // An operator of the other project and a viewer of this one, restoring this project's
    // backup there: reading is not enough to copy the data out.
    let mut operator = person(
        &ids,
        Held {
            role: Role::Operator,
            organization_wide: false,
        },
    );
    operator.grants[0].project_id = Some(other.id.clone());
    let there = f
        .services
        .authorize(&operator, &ids.organization, &other.id, Permission::Operate)
        .await
        .unwrap();
    let network = f
        .services
        .create_network(
            &there,
            &crate::CreateNetworkRequest {
                provider: "local".into(),
                region: "local-1".into(),
                description: "there".into(),
                public_access: false,
                cidr_block: None,
            },
        )
        .await
        .unwrap();
    let mut request = crate::testkit::cluster_request(network.id);
    request.source_backup_id = Some(ids.backup.clone());
    request.source_backup_project_id = Some(ids.project.clone());
    let error = f
        .services
        .create_cluster(&there, &request)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "no role here: {error}");

    for (role, expected) in [
        (Role::Viewer, Some(ErrorKind::Forbidden)),
        (Role::Operator, None),
    ] {
        let mut both = operator.clone();
        both.grants.push(cairn_model::Grant {
            project_id: Some(ids.project.clone()),
            role,
            ..operator.grants[0].clone()
        });
        let there = f
            .services
            .authorize(&both, &ids.organization, &other.id, Permission::Operate)
            .await
            .unwrap();
        let outcome = f.services.create_cluster(&there, &request).await;
        f.services.settle().await;
        assert_eq!(
            outcome.err().map(|e| e.kind()),
            expected,
            "{role:?} at the source"
        );
    }
}
