//! resources/v1: organizations and projects.

use super::{created, done, id, Answer, Created};
use crate::server::api::problem::JsonBody;
use crate::server::api::{wire, Caller};
use axum::extract::Path;
use axum::Json;
use cairn_model::{OrganizationId, Permission, ProjectId};
use serde::Deserialize;
use serde_json::{json, Value};
use Permission::{Administer, Read};

#[derive(Debug, Deserialize)]
pub struct NameRequest {
    name: String,
}

fn organization_id(text: &str) -> Result<OrganizationId, cairn_core::Error> {
    id("organization", text, OrganizationId::parse)
}

/// Organizations hold clusters that run on this machine: making one is for admins of a
/// whole organization, who become admin of the new one too (the core's rule).
pub async fn create_organization(caller: Caller, body: JsonBody<NameRequest>) -> Created {
    // The core decides; asked first so that a refused caller's body is never read.
    caller.actor().require_organization_maker()?;
    let organization = caller
        .services()
        .create_organization(&caller.actor(), &body.read()?.name)
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

pub async fn get_organization(caller: Caller, Path(org): Path<String>) -> Answer {
    let organization = caller
        .services()
        .get_organization(&caller.actor(), &organization_id(&org)?)
        .await?;
    Ok(Json(
        json!({ "organization": wire::organization(&organization) }),
    ))
}

pub async fn update_organization(
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody<NameRequest>,
) -> Answer {
    caller
        .actor()
        .require_organization_admin(&organization_id(&org)?)?;
    caller
        .services()
        .rename_organization(&caller.actor(), &organization_id(&org)?, &body.read()?.name)
        .await?;
    done()
}

pub async fn delete_organization(caller: Caller, Path(org): Path<String>) -> Answer {
    caller
        .services()
        .delete_organization(&caller.actor(), &organization_id(&org)?)
        .await?;
    done()
}

pub async fn create_project(
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody<NameRequest>,
) -> Created {
    caller
        .actor()
        .require_organization_admin(&organization_id(&org)?)?;
    let project = caller
        .services()
        .create_project(&caller.actor(), &organization_id(&org)?, &body.read()?.name)
        .await?;
    created(project.id)
}

pub async fn list_projects(caller: Caller, Path(org): Path<String>) -> Answer {
    let projects = caller
        .services()
        .list_projects(&caller.actor(), &organization_id(&org)?)
        .await?;
    Ok(Json(json!({ "projects": projects })))
}

pub async fn get_project(caller: Caller, Path((org, project)): Path<(String, String)>) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let project = caller.services().get_project(&scope).await?;
    Ok(Json(json!({ "project": project })))
}

pub async fn update_project(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody<NameRequest>,
) -> Answer {
    let scope = caller.scope(&org, &project, Administer).await?;
    caller
        .services()
        .rename_project(&scope, &body.read()?.name)
        .await?;
    done()
}

pub async fn delete_project(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
) -> Answer {
    let place = cairn_core::Place {
        organization_id: organization_id(&org)?,
        project_id: id("project", &project, ProjectId::parse)?,
    };
    caller
        .services()
        .delete_project(&caller.actor(), &place, &caller.console.place)
        .await?;
    done()
}
