//! `POST /oauth/token` (RFC 6749 §6): an API (refresh) token in, a one-hour access token out.
//! Errors are OAuth's own `{error, error_description}`, which token clients expect, not
//! ProblemDetails. Requests are limited per client address and per refresh token (see
//! [`crate::server::throttle`]): too many are answered 429 `slow_down` with `Retry-After`.

use crate::server::throttle::{ClientAddress, Refused, Throttle};
use crate::server::Console;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Default, Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    refresh_token: Option<String>,
}

fn refuse(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// 429 with the seconds until the next request is allowed, in the body and in `Retry-After`.
fn slow_down(refused: Refused) -> Response {
    let seconds = refused.wait().seconds();
    let whose = match refused {
        Refused::Address(_) => "from this address",
        Refused::Account(_) => "for this refresh token",
    };
    let mut response = refuse(
        StatusCode::TOO_MANY_REQUESTS,
        "slow_down",
        &format!("too many token requests {whose}: try again in {seconds} s"),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    response
}

pub async fn token(
    State(console): State<Console>,
    address: ClientAddress,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    // Every request counts against its address; those naming a token, against it too (by
    // its hash: the secret itself is not kept, not even here).
    let account = form
        .as_ref()
        .ok()
        .and_then(|Form(fields)| fields.refresh_token.as_deref())
        .filter(|token| !token.is_empty())
        .map(cairn_core::access::hash_secret);
    let admitted = Throttle::at(&console.throttle.token, |door| {
        door.enter(&address.0, account.as_deref(), std::time::Instant::now())
    });
    if let Err(refused) = admitted {
        tracing::debug!(client.address = %address.0, ?refused, "token request refused: too many");
        return slow_down(refused);
    }
    let Ok(Form(fields)) = form else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send grant_type, client_id and refresh_token as an \
             application/x-www-form-urlencoded form",
        );
    };
    match fields.grant_type.as_deref() {
        Some("refresh_token") => {}
        Some(other) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("grant_type '{other}' is not offered: use refresh_token"),
            )
        }
        None => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is missing",
            )
        }
    }
    // There are no registered clients: any client_id is accepted, but it must be there.
    if fields.client_id.as_deref().is_none_or(str::is_empty) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id is missing",
        );
    }
    let Some(refresh_token) = fields.refresh_token.filter(|t| !t.is_empty()) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "refresh_token is missing",
        );
    };
    match console
        .services
        .exchange_refresh_token(&refresh_token)
        .await
    {
        Ok(grant) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({
                "access_token": grant.access_token,
                "token_type": "Bearer",
                "expires_in": grant.expires_in,
                "scope": "cairn:api",
            })),
        )
            .into_response(),
        // "unknown or revoked", or "has expired": the core says which.
        Err(error) if error.kind() == cairn_core::ErrorKind::Unauthenticated => {
            refuse(StatusCode::BAD_REQUEST, "invalid_grant", &error.to_string())
        }
        Err(error) => {
            tracing::error!(%error, "cannot issue an access token");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the server could not issue a token; its log has the details",
            )
        }
    }
}
