//! `POST /oauth/token` (RFC 6749 §6): an API (refresh) token in, a one-hour access token out.
//! Errors are OAuth's own `{error, error_description}`, which token clients expect, not
//! ProblemDetails.

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

pub async fn token(
    State(console): State<Console>,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
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
        Err(error) if error.kind() == cairn_core::ErrorKind::Unauthenticated => refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token is unknown or revoked",
        ),
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
