//! Every request body is bounded, pages, server functions and API calls alike: 1 MiB is far
//! more than any form or JSON request of the console needs (the largest, an integration with
//! its SMTP settings, is well under a KiB), and a server reading whatever it is sent can be
//! made to hold gigabytes.
//!
//! `RequestBodyLimitLayer` answers 413 at once to a body that says it is too long
//! (`Content-Length`), and makes a longer one fail while it is read. Axum's extractors turn
//! that failure into 413; server functions read bodies their own way and would answer 500.
//! So a body that does not say its length is read here first, up to the limit: past it the
//! answer is 413, before any handler runs.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Largest request body accepted.
pub const MAX_REQUEST_BODY: usize = 1 << 20;

/// The limit, answering 413.
pub fn limit() -> tower_http::limit::RequestBodyLimitLayer {
    tower_http::limit::RequestBodyLimitLayer::new(MAX_REQUEST_BODY)
}

fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        "Request bodies are limited to 1 MiB.",
    )
        .into_response()
}

/// Reads a body of unstated length whole (at most [`MAX_REQUEST_BODY`]) before the handlers
/// see it. Runs inside [`limit`].
pub async fn unsized_bodies_read_first(request: Request, next: Next) -> Response {
    use axum::body::HttpBody;
    let stated = request.headers().contains_key(header::CONTENT_LENGTH);
    let empty = request.body().size_hint().exact() == Some(0);
    if stated || empty || request.method() == Method::GET || request.method() == Method::HEAD {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_REQUEST_BODY).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        // Past the limit; or the client stopped sending, and nobody will read the answer.
        Err(_) => too_large(),
    }
}
