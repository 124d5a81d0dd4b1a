//! The contract of users, grants, sessions and tokens.

use super::{instance, Database};
use crate::testkit::{FakeEngine, ManualClock};
use crate::{ErrorKind, Services, SiteConfig};
use std::sync::Arc;

pub async fn users_tokens_and_roles_read_back_and_only_one_first_admin_wins(db: &dyn Database) {
    let engine = Arc::new(FakeEngine::default());
    let (one, scope) = instance(db, &engine).await;
    let (two, _) = instance(db, &engine).await;
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
    let as_admin = crate::Principal::new(admin.clone(), Vec::new());
    let (token, refresh) = one.create_api_token(&as_admin, "CI", None).await.unwrap();
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
    two.revoke_api_token(&as_admin, &token.id).await.unwrap();
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

pub async fn a_password_change_ends_the_other_sessions_and_an_expired_api_token_is_refused(
    db: &dyn Database,
) {
    let store = db.open().await;
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
    let as_admin = services.session_principal(&sessions[0]).await.unwrap();
    services
        .change_password(&as_admin, old, new, Some(&sessions[0]))
        .await
        .unwrap();
    assert!(services.session_principal(&sessions[0]).await.is_ok());
    assert!(services.session_principal(&sessions[1]).await.is_err());
    assert!(services.session_principal(&sessions[2]).await.is_err());
    assert!(services.sign_in("ops@example.com", old).await.is_err());
    let (_, fourth) = services.sign_in("ops@example.com", new).await.unwrap();

    let nobody = cairn_model::UserId::parse("c1ev3l5o0aeu6ojco7b0").unwrap();
    use crate::Clock;
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
        .create_api_token_for(&admin.id, "CI", Some(chrono::Duration::hours(1)))
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

/// Many setups racing from several instances straight at the store: one user is inserted,
/// the rest are told someone was first (READ COMMITTED alone lets them all see no users).
pub async fn of_many_racing_first_users_from_four_instances_exactly_one_is_inserted(
    db: &dyn Database,
) {
    let mut stores = Vec::new();
    for _ in 0..4 {
        let store = db.open().await;
        // Connected before the race, so the racers start together.
        assert_eq!(store.count_users().await.unwrap(), 0);
        stores.push(store);
    }
    let start = Arc::new(tokio::sync::Barrier::new(32));
    let created = chrono::DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
        .unwrap()
        .to_utc();
    let racers: Vec<_> = (0..32u32)
        .map(|n| {
            let store = stores[n as usize % stores.len()].clone();
            let start = start.clone();
            let raw = cairn_model::ids::RawId::from_parts(1_764_000_000, [7, 7, 7], 1, n);
            let user = cairn_model::User {
                id: cairn_model::UserId::from_raw(raw),
                email: format!("racer{n}@example.com"),
                created,
            };
            tokio::spawn(async move {
                start.wait().await;
                store.insert_user(&user, "hash", &[], true).await
            })
        })
        .collect();
    let mut inserted = 0;
    for racer in racers {
        if racer.await.unwrap().unwrap() {
            inserted += 1;
        }
    }
    assert_eq!(inserted, 1, "exactly one first user");
    assert_eq!(stores[0].count_users().await.unwrap(), 1);
}
