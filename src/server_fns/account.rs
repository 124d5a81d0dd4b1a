//! The signed-in user: who they are, their password and sessions, and their API tokens.

use crate::error::ConsoleError;
use cairn_model::{ApiToken, ProjectRole};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is signed in, for the sidebar: their role in the project the page works in, and
/// every project they have a role in (the project switcher).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub email: String,
    /// Their role in the page's project ("viewer", "operator", "admin").
    pub role: Option<String>,
    /// The page's project, when they have a role in it.
    pub project: Option<ProjectRole>,
    /// Every project they have a role in, organization by organization.
    pub projects: Vec<ProjectRole>,
}

/// A token made a moment ago: its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub id: String,
    pub secret: String,
}

/// Holds a new token's secret between the post and the page that shows it (one read).
#[cfg(feature = "ssr")]
const NEW_TOKEN_COOKIE: &str = "cairn_new_token";

#[cfg(feature = "ssr")]
fn principal() -> Result<cairn_core::Principal, ConsoleError> {
    crate::server::auth::principal().ok_or_else(|| {
        cairn_core::Error::Unauthenticated("sign in first: your session has ended".into()).into()
    })
}

#[server(endpoint = "account/whoami")]
pub async fn who_am_i() -> Result<SignedIn, ConsoleError> {
    let console = crate::server::console()?;
    let principal = principal()?;
    let projects = console.services.projects_of(&principal).await?;
    // A project named that is not theirs: no role here (the page itself says why).
    let place = crate::server::current_place(&console, &principal)
        .await
        .ok();
    let project = place.and_then(|place| {
        projects
            .iter()
            .find(|p| p.project.id == place.project_id)
            .cloned()
    });
    Ok(SignedIn {
        email: principal.user().email.clone(),
        role: project.as_ref().map(|p| p.role.as_str().to_owned()),
        project,
        projects,
    })
}

/// An API token as the list shows it: with its status now ("active", "expired", "revoked").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedToken {
    pub token: ApiToken,
    pub status: String,
}

#[server(endpoint = "account/tokens")]
pub async fn list_api_tokens() -> Result<Vec<ListedToken>, ConsoleError> {
    let console = crate::server::console()?;
    let tokens = console.services.api_tokens(&principal()?.user().id).await?;
    let now = chrono::Utc::now();
    Ok(tokens
        .into_iter()
        .map(|token| ListedToken {
            status: token.status(now).to_owned(),
            token,
        })
        .collect())
}

/// Makes an API token, lasting `expires_in` (`30d`, `never`, …); the page it returns to
/// shows its secret once.
#[server(endpoint = "account/tokens/create")]
pub async fn create_api_token(
    description: String,
    #[server(default)] expires_in: String,
) -> Result<ApiToken, ConsoleError> {
    let console = crate::server::console()?;
    let lifetime = cairn_core::access::parse_lifetime(&expires_in)
        .map_err(|message| ConsoleError::invalid("expiresIn", message))?;
    let (token, secret) = console
        .services
        .create_api_token(&principal()?, &description, lifetime)
        .await?;
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let cookie = format!(
            "{NEW_TOKEN_COOKIE}={}.{secret}; Path=/account; HttpOnly; SameSite=Strict; Max-Age=300",
            token.id
        );
        if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
            response.append_header(axum::http::header::SET_COOKIE, value);
        }
    }
    leptos_axum::redirect(&crate::components::with_project(
        "/account/tokens",
        crate::server::project::named_for_links().as_deref(),
    ));
    Ok(token)
}

/// The secret of a token just made, once: reading it clears it.
#[server(endpoint = "account/tokens/new")]
pub async fn take_new_token() -> Result<Option<NewToken>, ConsoleError> {
    let headers = leptos_axum::extract::<axum::http::HeaderMap>()
        .await
        .map_err(|e| ConsoleError::internal(e.to_string()))?;
    let found = crate::server::auth::cookie(&headers, NEW_TOKEN_COOKIE)
        .as_deref()
        .and_then(|value| value.split_once('.'))
        .map(|(id, secret)| NewToken {
            id: id.to_owned(),
            secret: secret.to_owned(),
        });
    if found.is_some() {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            let clear =
                format!("{NEW_TOKEN_COOKIE}=; Path=/account; HttpOnly; SameSite=Strict; Max-Age=0");
            if let Ok(value) = axum::http::HeaderValue::from_str(&clear) {
                response.append_header(axum::http::header::SET_COOKIE, value);
            }
        }
    }
    Ok(found)
}

/// Revokes one of the user's API tokens (and the access tokens made from it).
#[server(endpoint = "account/tokens/revoke")]
pub async fn revoke_api_token(id: String) -> Result<(), ConsoleError> {
    let console = crate::server::console()?;
    let id = super::parse_id("id", &id, cairn_model::TokenId::parse)?;
    console
        .services
        .revoke_api_token(&principal()?, &id)
        .await?;
    super::go_with_notice(
        "/account/tokens",
        "Token revoked: it and every access token made from it stop working now.",
    );
    Ok(())
}

/// The account page's facts: who is signed in, and in how many other places.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub email: String,
    pub other_sessions: usize,
}

/// The secret of the session making this request.
#[cfg(feature = "ssr")]
async fn this_session() -> Result<String, ConsoleError> {
    let headers = leptos_axum::extract::<axum::http::HeaderMap>()
        .await
        .map_err(|e| ConsoleError::internal(e.to_string()))?;
    crate::server::auth::session_secret(&headers).ok_or_else(|| {
        cairn_core::Error::Unauthenticated("sign in first: your session has ended".into()).into()
    })
}

#[server(endpoint = "account/facts")]
pub async fn account_facts() -> Result<AccountView, ConsoleError> {
    let console = crate::server::console()?;
    let principal = principal()?;
    let session = this_session().await?;
    Ok(AccountView {
        other_sessions: console
            .services
            .other_sessions(&principal.user().id, &session)
            .await?,
        email: principal.user().email.clone(),
    })
}

/// Changes the signed-in user's password and signs them out everywhere else. The current
/// password is tried like a sign-in: it counts against the same limits.
#[server(endpoint = "account/password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    repeat_password: String,
) -> Result<(), ConsoleError> {
    use crate::server::throttle::{self, ClientAddress, Throttle};
    use std::time::Instant;
    let console = crate::server::console()?;
    let principal = principal()?;
    let session = this_session().await?;
    // A typing guard of the form, not a rule of passwords: the two entries must agree.
    if new_password != repeat_password {
        return Err(ConsoleError::invalid(
            "repeatPassword",
            "this is not the same as the new password",
        ));
    }
    let address = leptos_axum::extract::<ClientAddress>()
        .await
        .map_err(|e| ConsoleError::internal(e.to_string()))?;
    let account = throttle::email_key(&principal.user().email);
    let door = &console.throttle.login;
    if let Err(refused) = Throttle::at(door, |d| {
        d.enter(&address.0, Some(&account), Instant::now())
    }) {
        return Err(cairn_core::Error::Unavailable(format!(
            "too many attempts: try again in {} s",
            refused.wait().seconds()
        ))
        .into());
    }
    let changed = console
        .services
        .change_password(&principal, &current_password, &new_password, Some(&session))
        .await;
    match &changed {
        Err(cairn_core::Error::Invalid(fields)) if fields.contains_key("currentPassword") => {}
        Ok(()) | Err(cairn_core::Error::Invalid(_)) => {
            Throttle::at(door, |d| d.succeeded(&address.0, &account, Instant::now()))
        }
        Err(_) => Throttle::at(door, |d| d.not_judged(&account, Instant::now())),
    }
    changed?;
    super::go_with_notice(
        "/account",
        "Password changed. Every other session of yours was signed out.",
    );
    Ok(())
}

/// Signs the user out everywhere but here.
#[server(endpoint = "account/sessions/end-others")]
pub async fn end_other_sessions() -> Result<u64, ConsoleError> {
    let console = crate::server::console()?;
    let session = this_session().await?;
    let ended = console
        .services
        .end_other_sessions(&principal()?.user().id, &session)
        .await?;
    let notice = match ended {
        0 => "There were no other sessions to sign out.".to_owned(),
        1 => "Signed out 1 other session.".to_owned(),
        n => format!("Signed out {n} other sessions."),
    };
    super::go_with_notice("/account", &notice);
    Ok(ended)
}
