//! The API's one error edge: a core error becomes RFC 7807 ProblemDetails, once. Handlers
//! return [`ApiError`] with `?`; the [`problem_details`] layer, which knows the request's path,
//! writes the body (`instance` is that path).

use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

pub type ApiResult<T> = Result<T, ApiError>;

/// `{type, title, status, detail, instance, fields?}` (RFC 7807), served as
/// `application/problem+json`.
#[derive(Debug, Clone, Serialize)]
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

impl From<cairn_core::Error> for ApiError {
    fn from(error: cairn_core::Error) -> ApiError {
        use cairn_core::{Error, ErrorKind};
        let (status, title) = match error.kind() {
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "Not found"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "Conflict"),
            ErrorKind::Invalid => (StatusCode::BAD_REQUEST, "Invalid request"),
            ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "Unavailable"),
            ErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
            ErrorKind::Unauthenticated => (StatusCode::UNAUTHORIZED, "Unauthorized"),
            ErrorKind::Forbidden => (StatusCode::FORBIDDEN, "Forbidden"),
        };
        let (detail, fields) = match error {
            Error::Invalid(fields) => ("Some fields are not valid.".to_owned(), fields),
            Error::Internal { message, source } => {
                tracing::error!(error.detail = %message, error.source = ?source, "internal error while serving the API");
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
            instance: String::new(),
            fields,
        }
    }
}

impl ApiError {
    /// One field of the request is wrong.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        cairn_core::Error::Invalid([(field.to_owned(), message.into())].into_iter().collect())
            .into()
    }
}

/// The status now; the body is written by [`problem_details`], which knows the path.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Writes every [`ApiError`] answer as ProblemDetails at the request's path.
pub async fn problem_details(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let Some(mut problem) = response.extensions_mut().remove::<ApiError>() else {
        return response;
    };
    problem.instance = path;
    let body = serde_json::to_vec(&problem).expect("a problem serializes");
    let mut answer = (
        response.status(),
        [(header::CONTENT_TYPE, "application/problem+json")],
        body,
    )
        .into_response();
    if response.status() == StatusCode::UNAUTHORIZED {
        answer.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    answer
}

/// A JSON body read leniently (any or no content type); a body that is not the call's JSON
/// is a `fields.body` problem, not a plain-text 4xx: real clients expect ProblemDetails.
/// For a caller whose role does not allow the call ([`Refused`], left by `InProject`), a
/// body that cannot be read is that 403 instead: they learn nothing from a body's
/// validation. One that can be read goes on to the use case, which refuses (and records) it.
pub struct JsonBody<T>(Result<T, ApiError>);

/// Why the caller's role does not allow the call, as the use case would say: left in the
/// request by [`crate::server::api::InProject`] for [`JsonBody`], which is read after it.
#[derive(Clone)]
pub struct Refused(pub ApiError);

impl<T> JsonBody<T> {
    pub fn read(&self) -> Result<&T, ApiError> {
        self.0.as_ref().map_err(Clone::clone)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let refused = request.extensions().get::<Refused>().cloned();
        let body = match axum::body::Bytes::from_request(request, state).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
                ApiError::invalid("body", format!("not the JSON this call takes: {error}"))
            }),
            Err(error) => Err(ApiError::invalid("body", error.body_text())),
        };
        Ok(JsonBody(body.map_err(|fault| {
            refused.map_or(fault, |Refused(refused)| refused)
        })))
    }
}
