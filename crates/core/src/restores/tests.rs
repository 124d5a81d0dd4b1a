//! Restores across projects, and the places a person's request works in.

use crate::testkit::{cluster_request, fixture, Fixture};
use crate::{CreateNetworkRequest, ErrorKind, Place, Principal, Scope};
use cairn_model::{
    Backup, CreateClusterRequest, Grant, Network, OrganizationId, Permission, Project, ProjectId,
    Role, User, UserId,
};

/// Project A (the default one) with an available backup "nightly" of a local-1 cluster, and
/// project B of the same organization with a local-1 network of its own.
struct World {
    f: Fixture,
    organization: OrganizationId,
    a: Project,
    b: Project,
    backup: Backup,
    network_b: Network,
}

async fn local_network(f: &Fixture, scope: &Scope, description: &str) -> Network {
    f.services
        .create_network(
            scope,
            &CreateNetworkRequest {
                provider: "local".into(),
                region: "local-1".into(),
                description: description.into(),
                public_access: false,
                cidr_block: None,
            },
        )
        .await
        .unwrap()
}

async fn world() -> World {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let backup = f
        .services
        .create_backup(&f.scope, &cluster.id, "nightly")
        .await
        .unwrap();
    f.services.settle().await;
    let backup = f.backup(&backup).await;
    assert_eq!(backup.status, cairn_model::BackupStatus::Available);
    let organization = f.scope.organization_id.clone();
    let a = f.services.get_project(&f.scope).await.unwrap();
    let b = f
        .services
        .create_project(f.scope.actor(), &organization, "Billing")
        .await
        .unwrap();
    let in_b = Scope::trusted(Place {
        organization_id: organization.clone(),
        project_id: b.id.clone(),
    });
    let network_b = local_network(&f, &in_b, "billing network").await;
    World {
        f,
        organization,
        a,
        b,
        backup,
        network_b,
    }
}

/// Someone with these roles: `(organization, project or every project, role)`.
fn person(grants: &[(&OrganizationId, Option<&ProjectId>, Role)]) -> Principal {
    let user = User {
        id: UserId::parse("c1ev3l5o0aeu6ojco7e0").unwrap(),
        email: "someone@example.com".into(),
        created: chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .into(),
    };
    let grants = grants
        .iter()
        .map(|(organization, project, role)| Grant {
            user_id: user.id.clone(),
            organization_id: (*organization).clone(),
            project_id: project.cloned(),
            role: *role,
        })
        .collect();
    Principal::new(user, grants)
}

impl World {
    /// The request restoring the backup of A into B's network, naming A as its source.
    fn restore_into_b(&self) -> CreateClusterRequest {
        CreateClusterRequest {
            description: "billing restored".into(),
            source_backup_id: Some(self.backup.id.clone()),
            source_backup_project_id: Some(self.a.id.clone()),
            ..cluster_request(self.network_b.id.clone())
        }
    }

    async fn in_b(&self, principal: &Principal) -> Scope {
        self.f
            .services
            .authorize(
                principal,
                &self.organization,
                &self.b.id,
                Permission::Operate,
            )
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_backup_of_one_project_restores_into_another_of_the_organization_with_roles_in_both() {
    let w = world().await;
    let both = person(&[
        (&w.organization, Some(&w.a.id), Role::Operator),
        (&w.organization, Some(&w.b.id), Role::Operator),
    ]);
    let in_b = w.in_b(&both).await;
    let cluster =
        w.f.services
            .create_cluster(&in_b, &w.restore_into_b())
            .await
            .unwrap();
    w.f.services.settle().await;

    assert_eq!(
        cluster.project_id, w.b.id,
        "the cluster lives in the target"
    );
    assert_eq!(cluster.source_backup_id.as_ref(), Some(&w.backup.id));
    let in_a = w.f.services.list_clusters(&w.f.scope).await.unwrap();
    assert!(
        in_a.iter().all(|c| c.id != cluster.id),
        "not in the backup's project"
    );
    let overview =
        w.f.services
            .cluster_overview(&in_b, &cluster.id)
            .await
            .unwrap();
    assert_eq!(
        overview.cluster.status,
        cairn_model::ClusterStatus::Available
    );
    let from = overview.restored_from.expect("it says where it came from");
    assert_eq!(from.project_id.as_ref(), Some(&w.a.id));
    assert_eq!(
        from.sentence(),
        format!("restored from nightly in {}", w.a.name)
    );
}

#[tokio::test]
async fn a_backup_named_by_id_alone_is_found_in_another_project_of_the_organization() {
    // Kurrent Cloud's request names the backup only; the cluster goes to the URL's project.
    let w = world().await;
    let both = person(&[(&w.organization, None, Role::Operator)]);
    let in_b = w.in_b(&both).await;
    let request = CreateClusterRequest {
        source_backup_project_id: None,
        ..w.restore_into_b()
    };
    let cluster = w.f.services.create_cluster(&in_b, &request).await.unwrap();
    w.f.services.settle().await;
    assert_eq!(cluster.project_id, w.b.id);
    assert_eq!(cluster.source_backup_id.as_ref(), Some(&w.backup.id));
}

#[tokio::test]
async fn a_restore_is_refused_without_a_role_in_the_source_and_a_viewer_there_cannot_copy_it_out() {
    let w = world().await;
    let only_b = person(&[(&w.organization, Some(&w.b.id), Role::Operator)]);
    let in_b = w.in_b(&only_b).await;
    let error =
        w.f.services
            .create_cluster(&in_b, &w.restore_into_b())
            .await
            .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");

    // By id alone, a backup of a project they have no role in does not exist for them.
    let by_id = CreateClusterRequest {
        source_backup_project_id: None,
        ..w.restore_into_b()
    };
    let error =
        w.f.services
            .create_cluster(&in_b, &by_id)
            .await
            .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid, "{error}");
    assert!(error.to_string().contains("was not found"), "{error}");

    let viewer_in_a = person(&[
        (&w.organization, Some(&w.a.id), Role::Viewer),
        (&w.organization, Some(&w.b.id), Role::Operator),
    ]);
    let in_b = w.in_b(&viewer_in_a).await;
    for request in [w.restore_into_b(), by_id.clone()] {
        let error =
            w.f.services
                .create_cluster(&in_b, &request)
                .await
                .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Forbidden, "{error}");
        assert!(error.to_string().contains("needs operator"), "{error}");
    }
    w.f.services.settle().await;
    let in_b = Scope::trusted(Place {
        organization_id: w.organization.clone(),
        project_id: w.b.id.clone(),
    });
    assert!(
        w.f.services.list_clusters(&in_b).await.unwrap().is_empty(),
        "nothing was made"
    );
}

#[tokio::test]
async fn a_project_of_another_organization_is_refused_naming_the_field() {
    let w = world().await;
    let other =
        w.f.services
            .create_organization(w.f.scope.actor(), "Elsewhere Inc")
            .await
            .unwrap();
    let elsewhere =
        w.f.services
            .create_project(w.f.scope.actor(), &other.id, "Far")
            .await
            .unwrap();
    // A backup over there, made by Cairn itself.
    let far = Scope::trusted(Place {
        organization_id: other.id.clone(),
        project_id: elsewhere.id.clone(),
    });
    let network = local_network(&w.f, &far, "far network").await;
    let cluster =
        w.f.services
            .create_cluster(&far, &cluster_request(network.id))
            .await
            .unwrap();
    w.f.services.settle().await;
    let far_backup =
        w.f.services
            .create_backup(&far, &cluster.id, "far nightly")
            .await
            .unwrap();
    w.f.services.settle().await;

    let everywhere = person(&[
        (&w.organization, None, Role::Admin),
        (&other.id, None, Role::Admin),
    ]);
    let in_b = w.in_b(&everywhere).await;
    let request = CreateClusterRequest {
        source_backup_id: Some(far_backup.id.clone()),
        source_backup_project_id: Some(elsewhere.id.clone()),
        ..w.restore_into_b()
    };
    let error =
        w.f.services
            .create_cluster(&in_b, &request)
            .await
            .unwrap_err();
    let crate::Error::Invalid(fields) = &error else {
        panic!("a field error, not {error:?}");
    };
    let message = &fields["sourceBackupProjectId"];
    assert!(
        message.contains(&format!("is in organization {}", other.id))
            && message.contains("only into a project of its own organization"),
        "{message}"
    );

    // Named by id alone, the same backup is refused on its own field.
    let by_id = CreateClusterRequest {
        source_backup_project_id: None,
        ..request.clone()
    };
    let error =
        w.f.services
            .create_cluster(&in_b, &by_id)
            .await
            .unwrap_err();
    let crate::Error::Invalid(fields) = &error else {
        panic!("a field error, not {error:?}");
    };
    assert!(
        fields["sourceBackupId"].contains("only into a project of its own organization"),
        "{fields:?}"
    );

    // Someone with no role over there learns nothing about it: it is not found.
    let here_only = person(&[(&w.organization, None, Role::Admin)]);
    let in_b = w.in_b(&here_only).await;
    let error =
        w.f.services
            .create_cluster(&in_b, &request)
            .await
            .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    w.f.services.settle().await;
}

#[tokio::test]
async fn the_restore_form_offers_the_projects_where_clusters_may_be_made_and_the_targets_networks()
{
    let w = world().await;
    let third =
        w.f.services
            .create_project(w.f.scope.actor(), &w.organization, "Archive")
            .await
            .unwrap();
    let principal = person(&[
        (&w.organization, Some(&w.a.id), Role::Operator),
        (&w.organization, Some(&w.b.id), Role::Operator),
        (&w.organization, Some(&third.id), Role::Viewer),
    ]);
    let in_a =
        w.f.services
            .authorize(&principal, &w.organization, &w.a.id, Permission::Read)
            .await
            .unwrap();
    let own =
        w.f.services
            .restore_choices(&in_a, &w.backup.id, None)
            .await
            .unwrap();
    let names: Vec<_> = own.targets.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [w.a.name.as_str(), "Billing"],
        "not where they only view"
    );
    assert_eq!(own.target.id, w.a.id, "the backup's own project by default");
    assert!(own.networks.iter().all(|n| n.project_id == w.a.id));

    let into_b =
        w.f.services
            .restore_choices(&in_a, &w.backup.id, Some(&w.b.id))
            .await
            .unwrap();
    assert_eq!(into_b.target.id, w.b.id);
    assert_eq!(into_b.source.id, w.a.id);
    let networks: Vec<_> = into_b.networks.iter().map(|n| n.id.clone()).collect();
    assert_eq!(
        networks,
        std::slice::from_ref(&w.network_b.id),
        "the networks follow the target"
    );

    let refused =
        w.f.services
            .restore_choices(&in_a, &w.backup.id, Some(&third.id))
            .await
            .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Forbidden, "{refused}");
}

#[tokio::test]
async fn a_request_works_in_the_project_it_names_or_else_in_the_persons_first_project() {
    let w = world().await;
    let default = Place {
        organization_id: w.organization.clone(),
        project_id: w.a.id.clone(),
    };
    let services = &w.f.services;

    let only_b = person(&[(&w.organization, Some(&w.b.id), Role::Viewer)]);
    let place = services.place_for(&only_b, None, &default).await.unwrap();
    assert_eq!(
        place.project_id, w.b.id,
        "no role in the default: their first"
    );
    let named = services
        .place_for(&only_b, Some(&w.b.id), &default)
        .await
        .unwrap();
    assert_eq!(named.organization_id, w.organization);

    let admin = person(&[(&w.organization, None, Role::Admin)]);
    let place = services.place_for(&admin, None, &default).await.unwrap();
    assert_eq!(place, default);
    let place = services
        .place_for(&admin, Some(&w.b.id), &default)
        .await
        .unwrap();
    assert_eq!(
        place.project_id, w.b.id,
        "an organization-wide grant reaches B"
    );

    let unknown = ProjectId::parse("c1ev3l5o0aeu6ojco7d0").unwrap();
    let error = services
        .place_for(&admin, Some(&unknown), &default)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    // Named, but theirs only to be refused: authorize says no, never data.
    let place = services
        .place_for(&only_b, Some(&w.a.id), &default)
        .await
        .unwrap();
    let error = services
        .authorize(
            &only_b,
            &place.organization_id,
            &place.project_id,
            Permission::Read,
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);

    let listed = services.projects_of(&only_b).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].project.name.as_str(), listed[0].role),
        ("Billing", Role::Viewer)
    );
    let listed = services.projects_of(&admin).await.unwrap();
    let names: Vec<_> = listed.iter().map(|p| p.project.name.as_str()).collect();
    assert_eq!(names, [w.a.name.as_str(), "Billing"]);
    assert!(listed.iter().all(|p| p.organization.id == w.organization));
}
