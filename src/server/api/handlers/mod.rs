//! One function per operation of [`super::operations::OPERATIONS`], a file per service:
//! resolve the scope (with the role the call needs), call one core use case, wrap the answer.
//! Here: what several of them share.

pub mod infra;
pub mod integrate;
pub mod mesdb;
pub mod orchestrate;
pub mod resources;

use super::problem::{ApiError, ApiResult};
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::Json;
use cairn_model::{Backup, ProjectId};
use serde_json::{json, Value};
use std::sync::Arc;

type Created = ApiResult<(StatusCode, Json<Value>)>;
type Answer = ApiResult<Json<Value>>;

fn created(id: impl serde::Serialize) -> Created {
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

fn done() -> Answer {
    Ok(Json(json!({})))
}

/// `{"<key>": value}`: one thing, wrapped as the API wraps it.
fn wrapped(key: &str, value: impl serde::Serialize) -> Answer {
    Ok(Json(json!({ key: value })))
}

/// A handler that is the edge and nothing more: the project's scope ([`InProject`], with the
/// role `$need` names), the path's id ([`PathId`]), one core call on them (and any further
/// arguments), and its answer: `{}`, or what it gave under `key` (as `wire` writes it, where
/// the API's form is another).
///
/// `by_id!(get_network: Reads, NetworkId => get_network() => "network" as wire::network);`
macro_rules! by_id {
    (
        $(#[$doc:meta])* $name:ident: $need:ty, $Id:ty => $call:ident($($arg:expr),*) => {}
    ) => {
        by_id!(@handler $(#[$doc])* $name: $need, $Id => $call($($arg),*)
            => |_| $crate::server::api::handlers::done());
    };
    (
        $(#[$doc:meta])* $name:ident: $need:ty, $Id:ty => $call:ident($($arg:expr),*)
            => $key:literal $(as $wire:path)?
    ) => {
        by_id!(@handler $(#[$doc])* $name: $need, $Id => $call($($arg),*) => |answer| {
            $(let answer = $wire(&answer);)?
            $crate::server::api::handlers::wrapped($key, answer)
        });
    };
    (
        @handler $(#[$doc:meta])* $name:ident: $need:ty, $Id:ty => $call:ident($($arg:expr),*)
            => |$answer:pat_param| $body:expr
    ) => {
        $(#[$doc])*
        pub async fn $name(
            $crate::server::api::InProject { caller, scope, .. }:
                $crate::server::api::InProject<$need>,
            $crate::server::api::PathId(id): $crate::server::api::PathId<$Id>,
        ) -> $crate::server::api::handlers::Answer {
            let $answer = caller.services().$call(&scope, &id $(, $arg)*).await?;
            $body
        }
    };
}
pub(crate) use by_id;

/// An id the request names (a query's, say); one that cannot be an id names nothing, so it is
/// not found.
fn id<T>(
    what: &'static str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, cairn_model::IdError>,
) -> Result<T, cairn_core::Error> {
    parse(text).map_err(|_| cairn_core::Error::not_found(what, text))
}

/// A core field error under the name this call's body uses for it.
fn renamed(error: cairn_core::Error, from: &str, to: &str) -> ApiError {
    match error {
        cairn_core::Error::Invalid(mut fields) => {
            if let Some(message) = fields.remove(from) {
                fields.insert(to.to_owned(), message);
            }
            cairn_core::Error::Invalid(fields).into()
        }
        other => other.into(),
    }
}

/// The JSON last made of each project's shared list of backups (see
/// `Services::shared_backup_list`), made again only when the list is another: two hundred
/// clients listing the same hundred backups cost one serialization, not two hundred.
#[derive(Default)]
pub struct Listings {
    made: std::sync::Mutex<std::collections::HashMap<ProjectId, MadeFrom>>,
}

/// A list, and the JSON made of it.
type MadeFrom = (Arc<Vec<Backup>>, Bytes);

/// Projects whose JSON is kept at most.
const LISTINGS_HELD: usize = 1_000;

impl Listings {
    fn json(
        &self,
        project: &ProjectId,
        list: &Arc<Vec<Backup>>,
        make: impl FnOnce(&[Backup]) -> serde_json::Result<Vec<u8>>,
    ) -> ApiResult<Bytes> {
        if let Some((made_from, json)) = self.made.lock().expect("listings").get(project) {
            if Arc::ptr_eq(made_from, list) {
                return Ok(json.clone());
            }
        }
        let json = Bytes::from(make(list).map_err(|e| {
            cairn_core::Error::internal(format!("writing the list of backups: {e}"))
        })?);
        let mut made = self.made.lock().expect("listings");
        if made.len() >= LISTINGS_HELD {
            made.clear();
        }
        made.insert(project.clone(), (list.clone(), json.clone()));
        Ok(json)
    }
}

/// `{"<key>": [items]}`, serialized straight from the items: a list goes out without first
/// becoming a tree of JSON values (four times the work for a hundred backups, measured).
fn listed<T: serde::Serialize>(key: &'static str, items: &[T]) -> axum::response::Response {
    use axum::response::IntoResponse;
    Json(std::collections::BTreeMap::from([(key, items)])).into_response()
}

/// A list call's query: its paging part (`cairn_model::paging`), and any other part the
/// handler reads itself.
type PageParams =
    Result<axum::extract::Query<cairn_model::PageQuery>, axum::extract::rejection::QueryRejection>;

/// The query as given, or a problem naming `query` when it cannot be read at all.
fn page_query(query: PageParams) -> ApiResult<cairn_model::PageQuery> {
    query
        .map(|q| q.0)
        .map_err(|e| ApiError::invalid("query", e.body_text()))
}

/// One page of a list: `{"<key>": [items], "nextPageToken": "…"}`, the token only while
/// another page follows.
fn paged<T: serde::Serialize>(
    key: &'static str,
    items: &[T],
    next: Option<&str>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    #[derive(serde::Serialize)]
    struct Paged<'a, T> {
        #[serde(flatten)]
        items: std::collections::BTreeMap<&'static str, &'a [T]>,
        #[serde(rename = "nextPageToken", skip_serializing_if = "Option::is_none")]
        next: Option<&'a str>,
    }
    Json(Paged {
        items: std::collections::BTreeMap::from([(key, items)]),
        next,
    })
    .into_response()
}
