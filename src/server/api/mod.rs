//! The REST API, wire-compatible with Kurrent Cloud's (domain.md §1–2, §8): paths scoped
//! `/{service}/v1/organizations/{org}/projects/{project}/…`, camelCase JSON, wrapped answers
//! (`{"backup": …}`, `{"backups": […]}`, `{"id": …}`), errors as RFC 7807 ProblemDetails with
//! a `fields` map.
//!
//! The route table is [`operations::OPERATIONS`]: the router is built from it and so is the
//! OpenAPI document served at `/openapi.json`, so the two cannot disagree. Every call needs
//! `Authorization: Bearer <access token>` (from `POST /oauth/token`); handlers are thin:
//! resolve the scope (checking the caller's role there), call one core use case, wrap.

mod handlers;
mod oauth;
pub mod operations;
mod problem;
mod wire;

pub(crate) use handlers::Listings;

use crate::server::Console;
use axum::extract::{FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use cairn_core::{Principal, Scope};
use cairn_model::{OrganizationId, Permission, ProjectId};
use problem::{ApiError, ApiResult};

/// The API's routes, over the console's services.
pub fn router<S: Clone + Send + Sync + 'static>(console: Console) -> Router<S> {
    let mut api = Router::new();
    for operation in operations::OPERATIONS {
        api = api.route(operation.path, operations::handler(operation));
    }
    let public = Router::new()
        .route("/oauth/token", axum::routing::post(oauth::token))
        .route(
            "/openapi.json",
            axum::routing::get(|| async { axum::Json(operations::document()) }),
        );
    api.layer(axum::middleware::from_fn_with_state(
        console.clone(),
        bearer_only,
    ))
    .merge(public)
    .layer(axum::middleware::from_fn(problem::problem_details))
    .with_state(console)
}

/// Every API call names its user with `Authorization: Bearer <access token>`.
async fn bearer_only(
    axum::extract::State(console): axum::extract::State<Console>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or_else(|| {
            ApiError::from(cairn_core::Error::Unauthenticated(
                "this call needs `Authorization: Bearer <access token>`; get one from \
                 POST /oauth/token with an API token"
                    .into(),
            ))
        })?
        .to_owned();
    let principal = console.services.access_principal(&token).await?;
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}

/// What every handler starts from: the services, and who is calling.
pub struct Caller {
    console: Console,
    principal: Principal,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller
where
    Console: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| cairn_core::Error::Unauthenticated("not signed in".into()))?;
        Ok(Caller {
            console: Console::from_ref(state),
            principal,
        })
    }
}

impl Caller {
    fn services(&self) -> &cairn_core::Services {
        &self.console.services
    }

    /// Who calls, as the core records and checks them.
    fn actor(&self) -> cairn_core::Actor {
        cairn_core::Actor::Person(std::sync::Arc::new(self.principal.clone()))
    }

    /// The organization and project of the path, checked to exist together and the caller's
    /// role there to allow `need`. A project the caller has no role in is a 404, like any
    /// id of another project.
    async fn scope(&self, org: &str, project: &str, need: Permission) -> ApiResult<Scope> {
        let organization_id = OrganizationId::parse(org)
            .map_err(|_| cairn_core::Error::not_found("organization", org))?;
        let project_id = ProjectId::parse(project)
            .map_err(|_| cairn_core::Error::not_found("project", project))?;
        Ok(self
            .services()
            .authorize(&self.principal, &organization_id, &project_id, need)
            .await?)
    }
}

#[cfg(test)]
mod tests;
