//! The contract of organizations, projects and networks, and of seeding them.

use super::{instance, services, Database};
use crate::testkit::FakeEngine;
use crate::{ErrorKind, Place, Scope, SiteConfig};
use cairn_model::{OrganizationId, ProjectId};
use std::sync::Arc;

pub async fn first_start_seeds_networks_that_read_back_exactly(db: &dyn Database) {
    let store = db.open().await;
    let services = services(store.clone(), SiteConfig::default());
    let plan = services.plan_seed().await.unwrap();
    store.apply_seed(&plan).await.unwrap();
    let scope = Scope::trusted(services.default_scope().await.unwrap());
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

pub async fn a_restart_on_the_same_database_seeds_nothing_more(db: &dyn Database) {
    let first = services(db.open().await, SiteConfig::default())
        .start()
        .await
        .unwrap();
    // A new process: new store, new services, same database.
    let again = services(db.open().await, SiteConfig::default());
    assert!(again.plan_seed().await.unwrap().is_empty());
    assert_eq!(again.start().await.unwrap(), first);
    let scope = Scope::trusted(first);
    assert_eq!(again.list_networks(&scope).await.unwrap().len(), 2);
}

pub async fn a_region_added_later_gets_its_network_in_the_same_project(db: &dyn Database) {
    let first = services(db.open().await, SiteConfig::default())
        .start()
        .await
        .unwrap();
    let mut grown = SiteConfig::default();
    grown.regions.push("local-3".into());
    let services = services(db.open().await, grown);
    assert_eq!(services.start().await.unwrap(), first);
    let regions: Vec<_> = services
        .list_networks(&Scope::trusted(first))
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.region)
        .collect();
    assert_eq!(regions, ["local-1", "local-2", "local-3"]);
}

pub async fn resources_of_another_project_are_not_found(db: &dyn Database) {
    let services = services(db.open().await, SiteConfig::default());
    services.start().await.unwrap();
    let stranger = Scope::trusted(Place {
        organization_id: OrganizationId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
        project_id: ProjectId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
    });
    assert!(services.list_networks(&stranger).await.unwrap().is_empty());
    assert!(services.list_clusters(&stranger).await.unwrap().is_empty());
}

pub async fn networks_and_projects_are_created_and_an_unused_network_deleted(db: &dyn Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(db, &engine).await;
    let network = services
        .create_network(
            &scope,
            &crate::CreateNetworkRequest {
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
        .create_project(scope.actor(), &scope.organization_id, "Staging")
        .await
        .unwrap();

    let (again, _) = instance(db, &engine).await;
    assert_eq!(
        again.get_network(&scope, &network.id).await.unwrap(),
        network
    );
    assert!(again
        .list_projects(scope.actor(), &scope.organization_id)
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

pub async fn organizations_and_projects_are_deleted_once_unused(db: &dyn Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(db, &engine).await;
    let by = scope.actor();
    let org = services.create_organization(by, "Acme").await.unwrap();
    let project = services.create_project(by, &org.id, "Prod").await.unwrap();
    let project_scope = Scope::trusted(Place {
        organization_id: org.id.clone(),
        project_id: project.id.clone(),
    });
    let network = services
        .create_network(
            &project_scope,
            &crate::CreateNetworkRequest {
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
            .delete_organization(by, &org.id)
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
        .delete_project(by, &project_scope.place(), &scope.place())
        .await
        .unwrap();
    services.delete_organization(by, &org.id).await.unwrap();

    let (again, _) = instance(db, &engine).await;
    assert!(!again
        .list_organizations(by)
        .await
        .unwrap()
        .iter()
        .any(|o| o.id == org.id));
    assert_eq!(
        again.get_project(&project_scope).await.unwrap_err().kind(),
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
