//! Sign-in, tokens and roles, over the in-memory store and a manual clock.

use super::*;
use crate::flows_tests::fixture;
use crate::{ErrorKind, Store};

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn the_first_admin_is_created_once_and_then_setup_is_refused() {
    let f = fixture().await;
    assert!(!f.services.has_users().await.unwrap());
    let admin = f
        .services
        .create_first_admin(" Ops@Example.com ", PASSWORD)
        .await
        .unwrap();
    assert_eq!(admin.email, "ops@example.com");
    assert!(f.services.has_users().await.unwrap());
    let again = f
        .services
        .create_first_admin("other@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Conflict);
}

#[tokio::test]
async fn a_bad_email_and_a_short_password_are_both_named() {
    let f = fixture().await;
    let Err(Error::Invalid(fields)) = f.services.create_first_admin("ops", "short").await else {
        panic!("expected field errors");
    };
    assert!(fields.contains_key("email"), "{fields:?}");
    assert_eq!(fields["password"], "at least 12 characters");
}

#[tokio::test]
async fn signing_in_needs_the_right_password_and_a_session_lasts_seven_days() {
    let f = fixture().await;
    f.services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let wrong = f
        .services
        .sign_in("ops@example.com", "not the password")
        .await
        .unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::Unauthenticated);
    let unknown = f.services.sign_in("who@example.com", PASSWORD).await;
    assert_eq!(unknown.unwrap_err().to_string(), wrong.to_string());

    let (_, session) = f
        .services
        .sign_in("OPS@example.com", PASSWORD)
        .await
        .unwrap();
    let principal = f.services.session_principal(&session).await.unwrap();
    assert_eq!(principal.user.email, "ops@example.com");
    assert_eq!(principal.role(&f.scope), Some(Role::Admin));

    f.clock.advance(SESSION_LIFETIME - Duration::seconds(1));
    assert!(f.services.session_principal(&session).await.is_ok());
    f.clock.advance(Duration::seconds(1));
    let expired = f.services.session_principal(&session).await.unwrap_err();
    assert_eq!(expired.kind(), ErrorKind::Unauthenticated);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let f = fixture().await;
    f.services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let (_, session) = f
        .services
        .sign_in("ops@example.com", PASSWORD)
        .await
        .unwrap();
    f.services.sign_out(&session).await.unwrap();
    assert!(f.services.session_principal(&session).await.is_err());
}

#[tokio::test]
async fn a_refresh_token_gives_hour_long_access_tokens_until_it_is_revoked() {
    let f = fixture().await;
    let admin = f
        .services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let (token, refresh) = f
        .services
        .create_api_token(&admin.id, "CI backups")
        .await
        .unwrap();
    assert!(refresh.starts_with("cairn_rt_"));
    let stored = f
        .store
        .credentials(&admin.id, CredentialKind::Refresh)
        .await
        .unwrap();
    assert_ne!(stored[0].hash, refresh, "only the hash is stored");

    let grant = f.services.exchange_refresh_token(&refresh).await.unwrap();
    assert_eq!(grant.expires_in, 3600);
    let principal = f
        .services
        .access_principal(&grant.access_token)
        .await
        .unwrap();
    assert_eq!(principal.user.id, admin.id);
    assert!(f.services.api_tokens(&admin.id).await.unwrap()[0]
        .last_used
        .is_some());

    // A refresh token is not an access token, nor the other way round.
    assert!(f.services.access_principal(&refresh).await.is_err());
    assert!(f
        .services
        .exchange_refresh_token(&grant.access_token)
        .await
        .is_err());

    f.clock.advance(ACCESS_TOKEN_LIFETIME);
    assert!(f
        .services
        .access_principal(&grant.access_token)
        .await
        .is_err());
    let fresh = f.services.exchange_refresh_token(&refresh).await.unwrap();

    f.services
        .revoke_api_token(&admin.id, &token.id)
        .await
        .unwrap();
    assert!(f.services.exchange_refresh_token(&refresh).await.is_err());
    assert!(
        f.services
            .access_principal(&fresh.access_token)
            .await
            .is_err(),
        "access tokens made from a revoked refresh token stop working with it"
    );
    let listed = f.services.api_tokens(&admin.id).await.unwrap();
    assert!(listed[0].revoked.is_some());
}

#[tokio::test]
async fn nobody_revokes_another_users_token() {
    let f = fixture().await;
    let admin = f
        .services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let viewer = f
        .services
        .create_user(
            "viewer@example.com",
            PASSWORD,
            Role::Viewer,
            &f.scope.organization_id,
            Some(&f.scope.project_id),
        )
        .await
        .unwrap();
    let (token, refresh) = f
        .services
        .create_api_token(&admin.id, "mine")
        .await
        .unwrap();
    let refused = f.services.revoke_api_token(&viewer.id, &token.id).await;
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(f.services.exchange_refresh_token(&refresh).await.is_ok());
}

#[tokio::test]
async fn an_email_is_used_once() {
    let f = fixture().await;
    f.services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let again = f
        .services
        .create_user(
            "OPS@example.com",
            PASSWORD,
            Role::Viewer,
            &f.scope.organization_id,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Conflict);
}

#[test]
fn permissions_follow_the_role_in_the_project_and_other_projects_are_not_found() {
    let scope = |o: &str, p: &str| Scope {
        organization_id: OrganizationId::parse(o).unwrap(),
        project_id: cairn_model::ProjectId::parse(p).unwrap(),
    };
    let here = scope("c1ev3l5o0aeu6ojco7b0", "c1ev3l5o0aeu6ojco7c0");
    let elsewhere = scope("c1ev3l5o0aeu6ojco7b0", "c1ev3l5o0aeu6ojco7d0");
    let user = User {
        id: UserId::parse("c1ev3l5o0aeu6ojco7e0").unwrap(),
        email: "v@example.com".into(),
        created: Utc::now(),
    };
    let with_role = |role| Principal {
        user: user.clone(),
        grants: vec![Grant {
            user_id: user.id.clone(),
            organization_id: here.organization_id.clone(),
            project_id: Some(here.project_id.clone()),
            role,
        }],
    };
    use Permission::*;
    let table = [
        (Role::Viewer, Read, None),
        (Role::Viewer, Operate, Some(ErrorKind::Forbidden)),
        (Role::Operator, Operate, None),
        (Role::Operator, Administer, Some(ErrorKind::Forbidden)),
        (Role::Admin, Administer, None),
    ];
    for (role, need, expected) in table {
        let got = check(&with_role(role), &here, need).err().map(|e| e.kind());
        assert_eq!(got, expected, "{role:?} asking for {need:?}");
    }
    let viewer = with_role(Role::Viewer);
    assert_eq!(
        check(&viewer, &here, Operate).unwrap_err().to_string(),
        "your role in project c1ev3l5o0aeu6ojco7c0 is viewer; this needs operator"
    );
    assert_eq!(
        check(&with_role(Role::Admin), &elsewhere, Read)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn the_decoy_hash_for_unknown_emails_is_a_real_argon2_hash() {
    assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    assert!(!password_matches(PASSWORD, DUMMY_HASH));
}

#[tokio::test]
async fn only_organization_admins_make_organizations_and_restores_need_a_role_in_the_source() {
    let f = fixture().await;
    let admin = f
        .services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let operator = f
        .services
        .create_user(
            "operator@example.com",
            PASSWORD,
            Role::Operator,
            &f.scope.organization_id,
            Some(&f.scope.project_id),
        )
        .await
        .unwrap();
    let principal = |user: &User| {
        let services = f.services.clone();
        let user = user.clone();
        async move {
            let (_, session) = services.sign_in(&user.email, PASSWORD).await.unwrap();
            services.session_principal(&session).await.unwrap()
        }
    };
    let admin = principal(&admin).await;
    let operator = principal(&operator).await;
    assert!(check_can_create_organizations(&admin).is_ok());
    assert_eq!(
        check_can_create_organizations(&operator)
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );

    let elsewhere = f
        .services
        .create_project(&f.scope.organization_id, "elsewhere")
        .await
        .unwrap();
    let network = f.services.list_networks(&f.scope).await.unwrap()[0]
        .id
        .clone();
    let mut request = crate::testkit::cluster_request(network);
    request.source_backup_project_id = Some(elsewhere.id.clone());
    assert!(check_restore_source(&admin, &f.scope, &request).is_ok());
    assert_eq!(
        check_restore_source(&operator, &f.scope, &request)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound,
        "a project the operator has no role in does not exist for them"
    );
    request.source_backup_project_id = Some(f.scope.project_id.clone());
    assert!(check_restore_source(&operator, &f.scope, &request).is_ok());
}

#[tokio::test]
async fn a_new_organization_comes_with_its_creator_as_admin() {
    let f = fixture().await;
    let admin = f
        .services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let organization = f
        .services
        .create_organization("Acme", Some(&admin.id))
        .await
        .unwrap();
    let grants = f.store.grants(&admin.id).await.unwrap();
    assert!(grants.iter().any(|g| g.organization_id == organization.id
        && g.project_id.is_none()
        && g.role == Role::Admin));
}
