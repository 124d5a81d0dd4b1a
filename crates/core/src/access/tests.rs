//! Sign-in, tokens and roles, over the in-memory store and a manual clock.

use super::*;
use crate::testkit::fixture;
use crate::{AccessStore, ErrorKind};
use argon2::password_hash::PasswordHash;

const PASSWORD: &str = "correct horse battery";

/// The user as the core sees them signed in (no grants: these tests are about the account).
fn signed_in(user: &User) -> Principal {
    Principal::new(user.clone(), Vec::new())
}

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
        .create_api_token(&signed_in(&admin), "CI backups", None)
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
        .revoke_api_token(&signed_in(&admin), &token.id)
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
        .create_api_token(&signed_in(&admin), "mine", None)
        .await
        .unwrap();
    let refused = f
        .services
        .revoke_api_token(&signed_in(&viewer), &token.id)
        .await;
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
fn the_decoy_hash_for_unknown_emails_is_a_real_argon2_hash() {
    assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    assert!(!password_matches(PASSWORD, DUMMY_HASH));
}

#[tokio::test]
async fn a_new_organization_comes_with_its_creator_as_admin() {
    let f = fixture().await;
    let admin = f
        .services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let (_, session) = f
        .services
        .sign_in("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let principal = f.services.session_principal(&session).await.unwrap();
    let organization = f
        .services
        .create_organization(
            &crate::Actor::Person(std::sync::Arc::new(principal)),
            "Acme",
        )
        .await
        .unwrap();
    let grants = f.store.grants(&admin.id).await.unwrap();
    assert!(grants.iter().any(|g| g.organization_id == organization.id
        && g.project_id.is_none()
        && g.role == Role::Admin));
}

/// A hashing job that blocks its turn until the test lets it go.
fn held(
    hashing: &'static Hashing,
) -> (
    std::sync::mpsc::Sender<()>,
    tokio::task::JoinHandle<Result<()>>,
) {
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let job = tokio::spawn(async move {
        hashing
            .run(move || {
                let _ = wait.recv();
            })
            .await
    });
    (release, job)
}

async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{what} did not happen");
}

#[tokio::test]
async fn a_password_check_finding_no_free_turn_in_time_is_refused_instead_of_queueing() {
    let hashing: &'static Hashing = Box::leak(Box::new(Hashing::new(
        1,
        std::time::Duration::from_millis(100),
    )));
    let (release, first) = held(hashing);
    until("the first hashing starts", || hashing.free_turns() == 0).await;

    let started = std::time::Instant::now();
    let refused = hashing
        .verify_password(PASSWORD, DUMMY_HASH)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unavailable);
    assert_eq!(
        refused.to_string(),
        "too many sign-ins at once; try again in a few seconds"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));

    release.send(()).unwrap();
    first.await.unwrap().unwrap();
    assert!(
        !hashing.verify_password(PASSWORD, DUMMY_HASH).await.unwrap(),
        "with a turn free again, passwords are checked"
    );
}

#[tokio::test]
async fn a_hashing_turn_is_held_until_the_hashing_ends_even_when_its_caller_gave_up() {
    let hashing: &'static Hashing = Box::leak(Box::new(Hashing::new(
        1,
        std::time::Duration::from_millis(100),
    )));
    let (release, first) = held(hashing);
    until("the first hashing starts", || hashing.free_turns() == 0).await;
    first.abort();
    let _ = first.await;
    assert_eq!(
        hashing.free_turns(),
        0,
        "the work still runs on its thread, so its turn is still taken"
    );
    release.send(()).unwrap();
    until("the turn comes back", || hashing.free_turns() == 1).await;
}

#[test]
fn the_shared_hashing_offers_two_turns_per_core_at_most() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert!(Hashing::shared().free_turns() <= 2 * cores);
    assert_eq!(HASHING_WAIT, std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn an_api_token_with_a_lifetime_ends_then_and_its_access_tokens_never_outlive_it() {
    let f = fixture().await;
    let admin = f
        .services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let (token, refresh) = f
        .services
        .create_api_token(&signed_in(&admin), "CI backups", Some(Duration::days(30)))
        .await
        .unwrap();
    assert_eq!(token.expires, Some(token.created + Duration::days(30)));
    assert_eq!(
        f.services.api_tokens(&admin.id).await.unwrap()[0].expires,
        token.expires,
        "the list shows when it ends"
    );
    let grant = f.services.exchange_refresh_token(&refresh).await.unwrap();
    assert_eq!(grant.expires_in, 3600);

    // Half an hour before the end, the access token lasts only that half hour.
    f.clock.advance(Duration::days(30) - Duration::minutes(30));
    let last = f.services.exchange_refresh_token(&refresh).await.unwrap();
    assert_eq!(last.expires_in, 30 * 60);
    f.clock.advance(Duration::minutes(30));
    assert!(f
        .services
        .access_principal(&last.access_token)
        .await
        .is_err());
    let expired = f
        .services
        .exchange_refresh_token(&refresh)
        .await
        .unwrap_err();
    assert_eq!(expired.kind(), ErrorKind::Unauthenticated);
    assert_eq!(expired.to_string(), "the refresh token has expired");

    // A token without a lifetime goes on until revoked.
    let (forever, refresh) = f
        .services
        .create_api_token(&signed_in(&admin), "esc", None)
        .await
        .unwrap();
    assert_eq!(forever.expires, None);
    f.clock.advance(Duration::days(1000));
    assert!(f.services.exchange_refresh_token(&refresh).await.is_ok());
}

#[tokio::test]
async fn a_token_lifetime_outside_an_hour_to_366_days_and_a_long_description_are_refused() {
    let f = fixture().await;
    let admin = f
        .services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    for lifetime in [
        Duration::minutes(59),
        Duration::days(367),
        Duration::days(-1),
    ] {
        let Err(Error::Invalid(fields)) = f
            .services
            .create_api_token(&signed_in(&admin), "CI", Some(lifetime))
            .await
        else {
            panic!("{lifetime} is refused");
        };
        assert_eq!(
            fields["expiresIn"],
            "a token lasts from 1 hour to 366 days, or until it is revoked"
        );
    }
    for lifetime in [Duration::hours(1), Duration::days(366)] {
        assert!(f
            .services
            .create_api_token(&signed_in(&admin), "CI", Some(lifetime))
            .await
            .is_ok());
    }
    let Err(Error::Invalid(fields)) = f
        .services
        .create_api_token(&signed_in(&admin), &"x".repeat(129), None)
        .await
    else {
        panic!("a long description is refused");
    };
    assert_eq!(
        fields["description"],
        "a description has at most 128 characters"
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_every_other_session() {
    let f = fixture().await;
    let admin = f
        .services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let (_, here) = f
        .services
        .sign_in("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let (_, laptop) = f
        .services
        .sign_in("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let (_, api) = f
        .services
        .create_api_token(&signed_in(&admin), "CI", None)
        .await
        .unwrap();
    assert_eq!(
        f.services.other_sessions(&admin.id, &here).await.unwrap(),
        1
    );

    let new = "a much longer passphrase";
    let Err(Error::Invalid(fields)) = f
        .services
        .change_password(&signed_in(&admin), "not the password", new, Some(&here))
        .await
    else {
        panic!("a wrong current password is refused");
    };
    assert_eq!(
        fields["currentPassword"],
        "this is not your current password"
    );
    assert!(
        f.services.session_principal(&laptop).await.is_ok(),
        "nothing changed"
    );

    f.services
        .change_password(&signed_in(&admin), PASSWORD, new, Some(&here))
        .await
        .unwrap();
    assert!(
        f.services.session_principal(&here).await.is_ok(),
        "this session stays"
    );
    assert_eq!(
        f.services
            .session_principal(&laptop)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Unauthenticated,
        "the other session ended"
    );
    assert!(
        f.services.exchange_refresh_token(&api).await.is_ok(),
        "API tokens are revoked on their own, not by a password change"
    );
    assert!(f
        .services
        .sign_in("ops@example.com", PASSWORD)
        .await
        .is_err());
    assert!(f.services.sign_in("ops@example.com", new).await.is_ok());
}

#[tokio::test]
async fn a_new_password_follows_the_rules_of_a_new_users_and_differs_from_the_current() {
    let f = fixture().await;
    let admin = f
        .services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let Err(Error::Invalid(fields)) = f
        .services
        .change_password(&signed_in(&admin), "wrong", "short", None)
        .await
    else {
        panic!("a short password is refused");
    };
    assert_eq!(fields["newPassword"], "at least 12 characters");
    assert!(
        fields.contains_key("currentPassword"),
        "every problem at once: {fields:?}"
    );
    let Err(Error::Invalid(fields)) = f
        .services
        .change_password(&signed_in(&admin), PASSWORD, PASSWORD, None)
        .await
    else {
        panic!("the same password is refused");
    };
    assert_eq!(
        fields["newPassword"],
        "choose a password other than the current one"
    );
    assert!(f
        .services
        .sign_in("ops@example.com", PASSWORD)
        .await
        .is_ok());
}

#[tokio::test]
async fn ending_the_other_sessions_keeps_only_the_callers_own() {
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
            None,
        )
        .await
        .unwrap();
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(
            f.services
                .sign_in("ops@example.com", PASSWORD)
                .await
                .unwrap()
                .1,
        );
    }
    let (_, theirs) = f
        .services
        .sign_in("viewer@example.com", PASSWORD)
        .await
        .unwrap();
    assert_eq!(
        f.services
            .end_other_sessions(&admin.id, &theirs)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Unauthenticated,
        "a session of someone else is not the caller's"
    );
    assert_eq!(
        f.services
            .end_other_sessions(&admin.id, &sessions[0])
            .await
            .unwrap(),
        2
    );
    assert!(f.services.session_principal(&sessions[0]).await.is_ok());
    assert!(f.services.session_principal(&sessions[1]).await.is_err());
    assert!(f.services.session_principal(&sessions[2]).await.is_err());
    assert!(
        f.services.session_principal(&theirs).await.is_ok(),
        "other users keep theirs"
    );
    assert_eq!(
        f.services
            .other_sessions(&admin.id, &sessions[0])
            .await
            .unwrap(),
        0
    );
    let _ = viewer;
}

#[test]
fn a_lifetime_is_written_in_hours_days_or_weeks_or_never() {
    assert_eq!(parse_lifetime("30d"), Ok(Some(Duration::days(30))));
    assert_eq!(parse_lifetime(" 12h "), Ok(Some(Duration::hours(12))));
    assert_eq!(parse_lifetime("2w"), Ok(Some(Duration::weeks(2))));
    assert_eq!(parse_lifetime("never"), Ok(None));
    assert_eq!(parse_lifetime(""), Ok(None));
    assert_eq!(
        parse_lifetime("30 days"),
        Err("'30 days' is not a lifetime: write it like 30d, 12h or 2w, or never".into())
    );
    assert!(parse_lifetime("9999999999999999w").is_err());
    assert!(parse_lifetime("5é").is_err());
    assert_eq!(
        parse_lifetime("400d"),
        Err("a token lasts from 1 hour to 366 days, or until it is revoked".into())
    );
}

#[tokio::test]
async fn a_token_revoked_anywhere_is_refused_at_once_and_roles_seen_are_at_most_five_seconds_old() {
    let f = fixture().await;
    let admin = f
        .services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let (token, refresh) = f
        .services
        .create_api_token(&signed_in(&admin), "load", None)
        .await
        .unwrap();
    let grant = f.services.exchange_refresh_token(&refresh).await.unwrap();
    let seen = f
        .services
        .access_principal(&grant.access_token)
        .await
        .unwrap();
    assert!(seen.role(&f.scope).is_some());

    // A role taken away through another instance (straight in the store) counts here within
    // five seconds.
    let org = f.scope.organization_id.clone();
    let viewer = cairn_model::Grant {
        user_id: admin.id.clone(),
        organization_id: org,
        project_id: None,
        role: cairn_model::Role::Viewer,
    };
    f.store.put_grant(&viewer).await.unwrap();
    f.clock.advance(ACCESS_CHECK_KEPT - Duration::seconds(1));
    let cached = f
        .services
        .access_principal(&grant.access_token)
        .await
        .unwrap();
    assert_eq!(cached.role(&f.scope), seen.role(&f.scope));
    f.clock.advance(Duration::seconds(1));
    let fresh = f
        .services
        .access_principal(&grant.access_token)
        .await
        .unwrap();
    assert_eq!(fresh.role(&f.scope), Some(cairn_model::Role::Viewer));

    // Revoked through another instance: refused on the very next call.
    let now = crate::Clock::now(f.clock.as_ref());
    f.store
        .revoke_credential(&admin.id, &token.id, now)
        .await
        .unwrap();
    assert!(f
        .services
        .access_principal(&grant.access_token)
        .await
        .is_err());
}
