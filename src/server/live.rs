//! `GET /live`: the console's event stream. A visible tab follows its project's pulse (see
//! `cairn_core::live`) and reads its page again when an event says something changed; the
//! server computes one digest a second per followed project, whatever the number of tabs.
//!
//! A stream lasts [`STREAM_FOR`] and then ends: the browser reconnects by itself, through
//! the sign-in gate again, so a session that ended or a role that was taken away stops the
//! events within that time.

use super::Console;
use crate::error::{ConsoleError, ConsoleErrorKind};
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use cairn_core::Principal;
use std::convert::Infallible;
use std::time::Duration;

/// How long one stream lives before the browser is made to reconnect.
pub const STREAM_FOR: Duration = Duration::from_secs(300);
/// A comment every so often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `GET /live[?project=<id>]`: the events of the project the tab's page works in (the same
/// choice as its page's: see [`super::current_place`]).
pub async fn events(
    State(console): State<Console>,
    Extension(principal): Extension<Principal>,
    named: Option<Extension<super::project::NamedProject>>,
) -> Response {
    let followed = async {
        let named = match named {
            Some(Extension(named)) => Some(super::project::parse(&named)?),
            None => None,
        };
        let place = console
            .services
            .place_for(&principal, named.as_ref(), &console.place)
            .await?;
        let scope = console
            .services
            .authorize(
                &principal,
                &place.organization_id,
                &place.project_id,
                cairn_model::Permission::Read,
            )
            .await?;
        Ok::<_, ConsoleError>(console.services.follow_project(&scope).await?)
    };
    let receiver = match followed.await {
        Ok(receiver) => receiver,
        Err(error) => {
            let status = match error.kind {
                ConsoleErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
                ConsoleErrorKind::Forbidden => StatusCode::FORBIDDEN,
                ConsoleErrorKind::NotFound => StatusCode::NOT_FOUND,
                ConsoleErrorKind::Invalid => StatusCode::BAD_REQUEST,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            return (status, error.message).into_response();
        }
    };
    let until = tokio::time::Instant::now() + STREAM_FOR;
    let stream = futures::stream::unfold(receiver, move |mut receiver| async move {
        tokio::select! {
            changed = receiver.changed() => changed.ok()?,
            _ = tokio::time::sleep_until(until) => return None,
        }
        let digest = *receiver.borrow_and_update();
        let event = Event::default()
            .event("change")
            .data(format!("{digest:016x}"));
        Some((Ok::<_, Infallible>(event), receiver))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}
