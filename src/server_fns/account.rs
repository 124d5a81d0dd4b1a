//! The signed-in user: who they are, and their API tokens.

use crate::error::ConsoleError;
use cairn_model::ApiToken;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is signed in, for the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub email: String,
    /// Their role in the console's project ("viewer", "operator", "admin").
    pub role: Option<String>,
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
    Ok(SignedIn {
        email: principal.user.email.clone(),
        role: principal
            .role(&console.scope)
            .map(|r| r.as_str().to_owned()),
    })
}

#[server(endpoint = "account/tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiToken>, ConsoleError> {
    let console = crate::server::console()?;
    Ok(console.services.api_tokens(&principal()?.user.id).await?)
}

/// Makes an API token; the page it returns to shows its secret once.
#[server(endpoint = "account/tokens/create")]
pub async fn create_api_token(description: String) -> Result<ApiToken, ConsoleError> {
    let console = crate::server::console()?;
    let (token, secret) = console
        .services
        .create_api_token(&principal()?.user.id, &description)
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
    leptos_axum::redirect("/account/tokens");
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
        .revoke_api_token(&principal()?.user.id, &id)
        .await?;
    leptos_axum::redirect(&crate::components::with_notice(
        "/account/tokens",
        "Token revoked: it and every access token made from it stop working now.",
    ));
    Ok(())
}
