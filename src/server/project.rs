//! The project a console request names (see `components/project.rs` for the addresses): a
//! page load names it in its query (`?project=<id>`), a form posted to a server function in
//! its `project` field (forms carry it hidden), and `/live` in its query. This middleware
//! finds it once and leaves it in the request, where [`super::authorized`] reads it; what the
//! project allows is decided in the core. No project named: the user's first project.

use crate::components::project::PROJECT;
use crate::error::ConsoleError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cairn_model::ProjectId;

/// The project a request named, as it was written (checked when used, so a wrong one is a
/// clear refusal instead of the default project).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedProject(pub String);

/// The value of the `project` pair of a query or form body, if any.
fn pair_in(text: &str) -> Option<String> {
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == PROJECT)
        .map(|(_, value)| value.to_owned())
}

/// Puts the [`NamedProject`] of a request into it: from a server function's form body, else
/// from the query. Runs inside the body limit, so a body read here is at most 1 MiB.
pub async fn named_project(mut request: Request, next: Next) -> Response {
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let posted = request.method() == Method::POST && request.uri().path().starts_with("/api/");
    let mut named = None;
    if posted && form {
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::to_bytes(body, super::bodies::MAX_REQUEST_BODY).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return (
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "Request bodies are limited to 1 MiB.",
                )
                    .into_response()
            }
        };
        named = std::str::from_utf8(&bytes).ok().and_then(pair_in);
        request = Request::from_parts(parts, Body::from(bytes));
    }
    if named.is_none() {
        named = request.uri().query().and_then(pair_in);
    }
    if let Some(project) = named.filter(|p| !p.is_empty()) {
        request.extensions_mut().insert(NamedProject(project));
    }
    next.run(request).await
}

/// The id of a named project, or a refusal naming what was wrong with it.
pub fn parse(named: &NamedProject) -> Result<ProjectId, ConsoleError> {
    ProjectId::parse(named.0.trim()).map_err(|error| {
        let message = format!(
            "the address names project '{}', which is not a project id ({error})",
            named.0
        );
        let mut refusal = ConsoleError::invalid(PROJECT, message.clone());
        // Said on the page's error panel too, which shows the message alone.
        refusal.message = message;
        refusal
    })
}

/// The project the current request (a page render or a server function call) names.
pub fn named() -> Result<Option<ProjectId>, ConsoleError> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<NamedProject>().cloned())
        .map(|named| parse(&named))
        .transpose()
}

/// The named project's id as links carry it, when it is one (for the redirects a server
/// function sends a plain form to).
pub fn named_for_links() -> Option<String> {
    named().ok().flatten().map(|id| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_pair_is_found_among_others_and_only_by_its_exact_name() {
        assert_eq!(
            pair_in("id=x&project=c1ev3l5o0aeu6ojco7d0&notice=a").as_deref(),
            Some("c1ev3l5o0aeu6ojco7d0")
        );
        assert_eq!(pair_in("request[project]=x&projects=y"), None);
        assert_eq!(pair_in(""), None);
    }
}
