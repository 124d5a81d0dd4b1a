//! resources/v1: organizations and projects.

use super::{created, done, Answer, Created};
use crate::server::api::problem::{ApiError, ApiResult, JsonBody};
use crate::server::api::{wire, Administers, Caller, InProject, PathId, Reads};
use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::Json;
use cairn_model::{AuditFilter, AuditId, OrganizationId, ProjectId, AUDIT_PAGE_MAX};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
pub struct NameRequest {
    name: String,
}

/// The body; one that cannot be read is, for a caller the core's check `allowed` refuses,
/// that refusal instead: a refused caller hears 403, not what is wrong with their body. A
/// body that can be read goes on to the use case, which checks again and records a refusal.
fn read_if_allowed<T>(body: &JsonBody<T>, allowed: cairn_core::Result<()>) -> ApiResult<&T> {
    match body.read() {
        Ok(request) => Ok(request),
        Err(fault) => {
            allowed?;
            Err(fault)
        }
    }
}

/// Organizations hold clusters that run on this machine: making one is for admins of a
/// whole organization, who become admin of the new one too (the core's rule).
pub async fn create_organization(caller: Caller, body: JsonBody<NameRequest>) -> Created {
    let actor = caller.actor();
    let request = read_if_allowed(&body, actor.require_organization_maker())?;
    let organization = caller
        .services()
        .create_organization(&actor, &request.name)
        .await?;
    created(organization.id)
}

pub async fn list_organizations(caller: Caller) -> Answer {
    let organizations: Vec<Value> = caller
        .services()
        .list_organizations(&caller.actor())
        .await?
        .iter()
        .map(wire::organization)
        .collect();
    Ok(Json(json!({ "organizations": organizations })))
}

pub async fn get_organization(
    caller: Caller,
    PathId(organization): PathId<OrganizationId>,
) -> Answer {
    let organization = caller
        .services()
        .get_organization(&caller.actor(), &organization)
        .await?;
    Ok(Json(
        json!({ "organization": wire::organization(&organization) }),
    ))
}

pub async fn update_organization(
    caller: Caller,
    PathId(organization): PathId<OrganizationId>,
    body: JsonBody<NameRequest>,
) -> Answer {
    let actor = caller.actor();
    let request = read_if_allowed(&body, actor.require_organization_admin(&organization))?;
    caller
        .services()
        .rename_organization(&actor, &organization, &request.name)
        .await?;
    done()
}

pub async fn delete_organization(
    caller: Caller,
    PathId(organization): PathId<OrganizationId>,
) -> Answer {
    caller
        .services()
        .delete_organization(&caller.actor(), &organization)
        .await?;
    done()
}

pub async fn create_project(
    caller: Caller,
    PathId(organization): PathId<OrganizationId>,
    body: JsonBody<NameRequest>,
) -> Created {
    let actor = caller.actor();
    let request = read_if_allowed(&body, actor.require_organization_admin(&organization))?;
    let project = caller
        .services()
        .create_project(&actor, &organization, &request.name)
        .await?;
    created(project.id)
}

pub async fn list_projects(caller: Caller, PathId(organization): PathId<OrganizationId>) -> Answer {
    let projects = caller
        .services()
        .list_projects(&caller.actor(), &organization)
        .await?;
    Ok(Json(json!({ "projects": projects })))
}

pub async fn get_project(InProject { caller, scope, .. }: InProject<Reads>) -> Answer {
    let project = caller.services().get_project(&scope).await?;
    Ok(Json(json!({ "project": project })))
}

pub async fn update_project(
    InProject { caller, scope, .. }: InProject<Administers>,
    body: JsonBody<NameRequest>,
) -> Answer {
    caller
        .services()
        .rename_project(&scope, &body.read()?.name)
        .await?;
    done()
}

/// Not [`InProject`]: deleting is for organization admins, whom the core checks.
pub async fn delete_project(
    caller: Caller,
    PathId(organization_id): PathId<OrganizationId>,
    PathId(project_id): PathId<ProjectId>,
) -> Answer {
    let place = cairn_core::Place {
        organization_id,
        project_id,
    };
    caller
        .services()
        .delete_project(&caller.actor(), &place, &caller.console.place)
        .await?;
    done()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    #[serde(default)]
    page_size: Option<String>,
    #[serde(default)]
    page_token: Option<String>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    action: Option<String>,
}

/// A page of the project's audit log, newest first (Cairn's own); `nextPageToken` reads the
/// next one, and is null on the last.
pub async fn list_audit(
    InProject { caller, scope, .. }: InProject<Reads>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Answer {
    let Query(query) = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let limit = match query.page_size.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=AUDIT_PAGE_MAX).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    "pageSize",
                    format!("a whole number from 1 to {AUDIT_PAGE_MAX}, not '{text}'"),
                )
            })?,
    };
    let after = match query.page_token.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(token) => Some(AuditId::parse(token).map_err(|_| {
            ApiError::invalid(
                "pageToken",
                "not a page token this API gave: start without one",
            )
        })?),
    };
    let filter = AuditFilter {
        actor: query.actor,
        resource: query.resource,
        action: query.action,
        limit,
        after,
        ..AuditFilter::default()
    };
    let page = caller.services().audit(&scope, filter).await?;
    Ok(Json(
        json!({ "entries": page.entries, "nextPageToken": page.next }),
    ))
}
