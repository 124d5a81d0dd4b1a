use super::*;
use crate::testkit::fixture;

fn request(region: &str) -> CreateNetworkRequest {
    CreateNetworkRequest {
        provider: "local".into(),
        region: region.into(),
        description: "staging".into(),
        public_access: false,
        cidr_block: None,
    }
}

#[tokio::test]
async fn a_network_is_created_only_in_the_sites_regions() {
    let f = fixture().await;
    let network = f
        .services
        .create_network(&f.scope, &request("local-2"))
        .await
        .unwrap();
    assert_eq!(
        f.services.get_network(&f.scope, &network.id).await.unwrap(),
        network
    );
    let mut bad = request("eu-west-1");
    bad.provider = "aws".into();
    let Error::Invalid(fields) = f.services.create_network(&f.scope, &bad).await.unwrap_err()
    else {
        panic!("expected field errors")
    };
    assert_eq!(
        fields["region"],
        "unknown region 'eu-west-1': use local-1, local-2"
    );
    assert_eq!(fields["provider"], "this site's provider is 'local'");
}

#[tokio::test]
async fn a_network_in_use_is_not_deleted_and_an_unused_one_is() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let error = f
        .services
        .delete_network(&f.scope, &cluster.network_id)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "network {} is used by cluster {}: delete it first",
            cluster.network_id, cluster.id
        )
    );
    let spare = f
        .services
        .create_network(&f.scope, &request("local-1"))
        .await
        .unwrap();
    f.services
        .delete_network(&f.scope, &spare.id)
        .await
        .unwrap();
    assert!(!f
        .services
        .list_networks(&f.scope)
        .await
        .unwrap()
        .iter()
        .any(|n| n.id == spare.id));
    assert_eq!(
        f.services
            .get_network(&f.scope, &spare.id)
            .await
            .unwrap()
            .status,
        NetworkStatus::Deleted
    );
}

#[tokio::test]
async fn an_organization_is_deleted_only_once_its_projects_are_gone() {
    let f = fixture().await;
    let org = f
        .services
        .create_organization(f.scope.actor(), "Acme")
        .await
        .unwrap();
    assert_eq!(
        f.services
            .get_organization(f.scope.actor(), &org.id)
            .await
            .unwrap(),
        org
    );
    let project = f
        .services
        .create_project(f.scope.actor(), &org.id, "Prod")
        .await
        .unwrap();
    let error = f
        .services
        .delete_organization(f.scope.actor(), &org.id)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "organization {} still has 1 project: delete it first",
            org.id
        )
    );
    f.services
        .delete_project(
            f.scope.actor(),
            &Place {
                organization_id: org.id.clone(),
                project_id: project.id.clone(),
            },
            &f.scope.place(),
        )
        .await
        .unwrap();
    f.services
        .delete_organization(f.scope.actor(), &org.id)
        .await
        .unwrap();
    assert_eq!(
        f.services
            .get_organization(f.scope.actor(), &org.id)
            .await
            .unwrap_err()
            .kind(),
        crate::ErrorKind::NotFound
    );
}

#[tokio::test]
async fn a_project_is_deleted_only_when_it_holds_nothing_alive() {
    let f = fixture().await;
    let org = &f.scope.organization_id;
    let error = f
        .services
        .delete_project(
            f.scope.actor(),
            &Place {
                organization_id: (org).clone(),
                project_id: f.scope.project_id.clone(),
            },
            &f.scope.place(),
        )
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("is where this console works and cannot be deleted"),
        "{error}"
    );

    let spare = f
        .services
        .create_project(f.scope.actor(), org, "Spare")
        .await
        .unwrap();
    let scope = Scope::trusted(Place {
        organization_id: org.clone(),
        project_id: spare.id.clone(),
    });
    let network = f
        .services
        .create_network(&scope, &request("local-1"))
        .await
        .unwrap();
    let error = f
        .services
        .delete_project(
            f.scope.actor(),
            &Place {
                organization_id: (org).clone(),
                project_id: spare.id.clone(),
            },
            &f.scope.place(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "project {} still has 1 network: delete them first",
            spare.id
        )
    );
    f.services
        .delete_network(&scope, &network.id)
        .await
        .unwrap();
    f.services
        .delete_project(
            f.scope.actor(),
            &Place {
                organization_id: (org).clone(),
                project_id: spare.id.clone(),
            },
            &f.scope.place(),
        )
        .await
        .unwrap();
    assert!(!f
        .services
        .list_projects(f.scope.actor(), org)
        .await
        .unwrap()
        .iter()
        .any(|p| p.id == spare.id));
    assert_eq!(
        f.services.get_project(&scope).await.unwrap_err().kind(),
        crate::ErrorKind::NotFound
    );
}

#[tokio::test]
async fn a_project_needs_a_name_and_an_existing_organization() {
    let f = fixture().await;
    let project = f
        .services
        .create_project(f.scope.actor(), &f.scope.organization_id, " Staging ")
        .await
        .unwrap();
    assert_eq!(project.name, "Staging");
    assert_eq!(
        f.services
            .list_projects(f.scope.actor(), &f.scope.organization_id)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        f.services
            .create_project(f.scope.actor(), &f.scope.organization_id, " ")
            .await
            .unwrap_err()
            .kind(),
        crate::ErrorKind::Invalid
    );
    let stranger = OrganizationId::parse("c1ev3l5o0aeu6ojco7b0").unwrap();
    assert_eq!(
        f.services
            .create_project(f.scope.actor(), &stranger, "x")
            .await
            .unwrap_err()
            .kind(),
        crate::ErrorKind::NotFound
    );
}

#[tokio::test]
async fn every_rename_refuses_text_longer_than_its_create_accepts_and_names_the_limit() {
    let f = fixture().await;
    let too_long = "x".repeat(cairn_model::MAX_NAME_LEN + 1);
    let longest = "x".repeat(cairn_model::MAX_NAME_LEN);
    let field = |error: Error, name: &str| match error {
        Error::Invalid(fields) => fields[name].clone(),
        other => panic!("expected a field error, got {other:?}"),
    };
    let organization = &f.scope.organization_id;
    let network = f.services.list_networks(&f.scope).await.unwrap()[0]
        .id
        .clone();

    let name_limit = "a name has at most 128 characters";
    let refused = f
        .services
        .create_organization(f.scope.actor(), &too_long)
        .await;
    assert_eq!(field(refused.unwrap_err(), "name"), name_limit);
    let refused = f
        .services
        .rename_organization(f.scope.actor(), organization, &too_long)
        .await;
    assert_eq!(field(refused.unwrap_err(), "name"), name_limit);
    let refused = f
        .services
        .create_project(f.scope.actor(), organization, &too_long)
        .await;
    assert_eq!(field(refused.unwrap_err(), "name"), name_limit);
    let refused = f.services.rename_project(&f.scope, &too_long).await;
    assert_eq!(field(refused.unwrap_err(), "name"), name_limit);

    let description_limit = "a description has at most 128 characters";
    let mut create = request("local-1");
    create.description = too_long.clone();
    let refused = f.services.create_network(&f.scope, &create).await;
    assert_eq!(
        field(refused.unwrap_err(), "description"),
        description_limit
    );
    let refused = f
        .services
        .describe_network(&f.scope, &network, &too_long)
        .await;
    assert_eq!(
        field(refused.unwrap_err(), "description"),
        description_limit
    );

    // At the limit each is accepted, and nothing refused was stored.
    f.services
        .rename_organization(f.scope.actor(), organization, &longest)
        .await
        .unwrap();
    f.services.rename_project(&f.scope, &longest).await.unwrap();
    f.services
        .describe_network(&f.scope, &network, &format!(" {longest} "))
        .await
        .unwrap();
    let stored = f.services.get_network(&f.scope, &network).await.unwrap();
    assert_eq!(stored.description, longest);
}
