//! The REST API, wire-compatible with Kurrent Cloud's (domain.md §1–2, §8): paths scoped
//! `/{service}/v1/organizations/{org}/projects/{project}/…`, camelCase JSON, wrapped answers
//! (`{"backup": …}`, `{"backups": […]}`, `{"id": …}`), errors as RFC 7807 ProblemDetails with
//! a `fields` map.
//!
//! The route table is [`operations::OPERATIONS`]: the router is built from it and so is the
//! OpenAPI document served at `/openapi.json`, so the two cannot disagree. Every call needs
//! `Authorization: Bearer <access token>` (from `POST /oauth/token`); handlers are thin:
//! take the scope from the path with [`InProject`] (the caller needs a role there) and ids
//! with [`PathId`], call one core use case (which checks that the role allows it, and records
//! a refusal in the audit like any outcome), wrap.

mod handlers;
mod oauth;
pub mod operations;
mod problem;
mod wire;

pub(crate) use handlers::Listings;

use crate::server::Console;
use axum::extract::{FromRef, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use cairn_core::{Principal, Scope};
use cairn_model::{OrganizationId, Permission, ProjectId};
use problem::{ApiError, ApiResult, Refused};
use std::marker::PhantomData;

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
    let principal = console
        .services
        .access_principal(&token)
        .await?
        .from_address(crate::server::auth::peer_address(request.extensions()));
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

    /// The organization and project of the path, checked to exist together and the caller to
    /// have a role there. A project the caller has no role in is a 404, like any id of
    /// another project; what the role allows is the use case's to check.
    async fn scope(&self, org: &str, project: &str) -> ApiResult<Scope> {
        let organization_id = OrganizationId::parse(org)
            .map_err(|_| cairn_core::Error::not_found("organization", org))?;
        let project_id = ProjectId::parse(project)
            .map_err(|_| cairn_core::Error::not_found("project", project))?;
        Ok(self
            .services()
            .authorize(
                &self.principal,
                &organization_id,
                &project_id,
                Permission::Read,
            )
            .await?)
    }
}

/// What a call needs of the caller's role in the path's project: what its use case asks of
/// the scope (the core checks it, and records a refusal); the edge only keeps a caller whose
/// role does not allow it from hearing what is wrong with their request.
pub trait Need: Send + Sync + 'static {
    const PERMISSION: Permission;
}

/// Seeing the project's resources.
pub struct Reads;
/// Creating, changing and deleting them.
pub struct Operates;
/// Changing the project itself.
pub struct Administers;

impl Need for Reads {
    const PERMISSION: Permission = Permission::Read;
}

impl Need for Operates {
    const PERMISSION: Permission = Permission::Operate;
}

impl Need for Administers {
    const PERMISSION: Permission = Permission::Administer;
}

/// A call in the project of its path (`{organizationId}`, `{projectId}`): who calls, and the
/// scope, for a caller with any role there (none: 404, before anything else). Whether the
/// role allows what `N` names is decided by the use case, inside the audit, so that a refused
/// call is recorded like any other. A caller whose role does not allow it still learns
/// nothing from their request's validation: a body the edge cannot read answers the core's
/// 403 instead ([`problem::JsonBody`]), and so does any other fault the edge finds first
/// ([`InProject::fault`]).
pub struct InProject<N: Need> {
    pub caller: Caller,
    pub scope: Scope,
    /// Why the role does not allow what `N` names (the core's words), if it does not.
    refused: Option<ApiError>,
    need: PhantomData<N>,
}

impl<N: Need> InProject<N> {
    /// A fault in the request the edge finds before the use case sees it (a value that
    /// cannot be one): told to a caller whose role allows the call, while any other hears
    /// the 403 the use case would give.
    pub fn fault(&self, fault: impl Into<ApiError>) -> ApiError {
        match &self.refused {
            Some(refused) => refused.clone(),
            None => fault.into(),
        }
    }
}

impl<N: Need, S: Send + Sync> FromRequestParts<S> for InProject<N>
where
    Console: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = <Caller as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        let organization = path_parameter(parts, "organizationId").await?;
        let project = path_parameter(parts, "projectId").await?;
        let scope = caller.scope(&organization, &project).await?;
        let refused = scope.require(N::PERMISSION).err().map(ApiError::from);
        if let Some(refused) = &refused {
            // For the body, read after this (see `JsonBody`).
            parts.extensions.insert(Refused(refused.clone()));
        }
        Ok(InProject {
            caller,
            scope,
            refused,
            need: PhantomData,
        })
    }
}

/// An id of the path, found by its type: `PathId<BackupId>` is the `{backupId}`. One that
/// cannot be an id names nothing, so it is not found.
pub struct PathId<T>(pub T);

/// An id that paths name: its parameter, and what a "not found" calls it.
pub trait InPath: Sized + Send + 'static {
    const PARAMETER: &'static str;
    const WHAT: &'static str;
    fn parse(text: &str) -> Result<Self, cairn_model::IdError>;
}

macro_rules! in_path {
    ($($id:ident: $parameter:literal, $what:literal;)*) => {$(
        impl InPath for cairn_model::$id {
            const PARAMETER: &'static str = $parameter;
            const WHAT: &'static str = $what;
            fn parse(text: &str) -> Result<Self, cairn_model::IdError> {
                cairn_model::$id::parse(text)
            }
        }
    )*};
}

in_path! {
    OrganizationId: "organizationId", "organization";
    ProjectId: "projectId", "project";
    NetworkId: "networkId", "network";
    ClusterId: "clusterId", "cluster";
    BackupId: "backupId", "backup";
    JobId: "jobId", "job";
    IntegrationId: "integrationId", "integration";
}

impl<T: InPath, S: Send + Sync> FromRequestParts<S> for PathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let text = path_parameter(parts, T::PARAMETER).await?;
        let id = T::parse(&text).map_err(|_| cairn_core::Error::not_found(T::WHAT, &text))?;
        Ok(PathId(id))
    }
}

/// A parameter of the matched path, percent-decoded. A path that does not decode to text
/// names nothing: not found, a ProblemDetails like every answer (axum's is plain text).
async fn path_parameter(parts: &mut Parts, name: &str) -> ApiResult<String> {
    let Ok(parameters) =
        <RawPathParams as FromRequestParts<()>>::from_request_parts(parts, &()).await
    else {
        return Err(cairn_core::Error::not_found("path", parts.uri.path()).into());
    };
    parameters
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| {
            ApiError::from(cairn_core::Error::internal(format!(
                "the route has no {{{name}}}"
            )))
        })
}

#[cfg(test)]
mod tests;
