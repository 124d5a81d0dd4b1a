//! The API's one error edge: core errors become RFC 7807 ProblemDetails, once.

use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

pub type ApiResult<T> = Result<T, ApiError>;

/// `{type, title, status, detail, instance, fields?}` (RFC 7807), served as
/// `application/problem+json`.
#[derive(Debug, Serialize)]
pub struct ApiError {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    instance: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fields: BTreeMap<String, String>,
}

impl ApiError {
    /// The problem for `error`, at the request's path.
    pub fn new(error: cairn_core::Error, uri: &Uri) -> ApiError {
        use cairn_core::{Error, ErrorKind};
        let (status, title) = match error.kind() {
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "Not found"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "Conflict"),
            ErrorKind::Invalid => (StatusCode::BAD_REQUEST, "Invalid request"),
            ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "Unavailable"),
            ErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
        };
        let (detail, fields) = match error {
            Error::Invalid(fields) => ("Some fields are not valid.".to_owned(), fields),
            Error::Internal(detail) => {
                tracing::error!(error.detail = %detail, "internal error while serving the API");
                (
                    "Something went wrong on the server; its log has the details.".to_owned(),
                    BTreeMap::new(),
                )
            }
            other => (other.to_string(), BTreeMap::new()),
        };
        ApiError {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail,
            instance: uri.path().to_owned(),
            fields,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).expect("a problem serializes");
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

/// A JSON body read leniently (any or no content type) whose failure is a field error of the
/// request, not a plain-text 4xx: real clients expect ProblemDetails for everything.
pub struct JsonBody<T>(pub Result<T, cairn_core::Error>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = match axum::body::Bytes::from_request(request, state).await {
            Ok(bytes) => bytes,
            Err(error) => return Ok(JsonBody(Err(invalid("body", error.body_text())))),
        };
        Ok(JsonBody(serde_json::from_slice(&bytes).map_err(|error| {
            invalid("body", format!("not the JSON this call takes: {error}"))
        })))
    }
}

fn invalid(field: &str, message: String) -> cairn_core::Error {
    cairn_core::Error::Invalid([(field.to_owned(), message)].into_iter().collect())
}
