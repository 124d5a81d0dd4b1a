//! The API's route table. The router is built from it and so is the OpenAPI document, so
//! each documented operation is served and each served route is documented.

use super::handlers as h;
use crate::server::Console;
use axum::routing::{on, MethodFilter, MethodRouter};
use serde_json::{json, Map, Value};

/// One API call.
pub struct Operation {
    /// The OpenAPI `operationId`, and the key of its handler.
    pub id: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// The request body's schema (in `schemas.json`), if it takes one.
    pub body: Option<&'static str>,
    /// The success status and the answer's schema.
    pub answer: (u16, &'static str),
    /// Query parameters: name and meaning.
    pub query: &'static [(&'static str, &'static str)],
}

macro_rules! op {
    ($id:literal, $method:literal, $path:expr, $summary:literal, $body:expr, $status:literal => $answer:literal) => {
        Operation {
            id: $id,
            method: $method,
            path: $path,
            summary: $summary,
            body: $body,
            answer: ($status, $answer),
            query: &[],
        }
    };
}

const RES: &str = "/resources/v1/organizations";
const RES_ONE: &str = "/resources/v1/organizations/{organizationId}";
const PROJECTS: &str = "/resources/v1/organizations/{organizationId}/projects";
const PROJECT: &str = "/resources/v1/organizations/{organizationId}/projects/{projectId}";
const NETWORKS: &str = "/infra/v1/organizations/{organizationId}/projects/{projectId}/networks";
const NETWORK: &str =
    "/infra/v1/organizations/{organizationId}/projects/{projectId}/networks/{networkId}";
const CLUSTERS: &str = "/mesdb/v1/organizations/{organizationId}/projects/{projectId}/clusters";
const CLUSTER: &str =
    "/mesdb/v1/organizations/{organizationId}/projects/{projectId}/clusters/{clusterId}";
const EXPAND: &str =
    "/mesdb/v1/organizations/{organizationId}/projects/{projectId}/clusters/{clusterId}/disk/expand";
const RESIZE: &str = "/mesdb/v1/organizations/{organizationId}/projects/{projectId}/clusters/{clusterId}/commands/resize";
const UPGRADE: &str = "/mesdb/v1/organizations/{organizationId}/projects/{projectId}/clusters/{clusterId}/commands/upgrade";
const BACKUPS: &str = "/mesdb/v1/organizations/{organizationId}/projects/{projectId}/backups";
const BACKUP: &str =
    "/mesdb/v1/organizations/{organizationId}/projects/{projectId}/backups/{backupId}";
const VERIFY: &str =
    "/mesdb/v1/organizations/{organizationId}/projects/{projectId}/backups/{backupId}/verify";
const STORAGE: &str =
    "/mesdb/v1/organizations/{organizationId}/projects/{projectId}/backup-storage";
const JOBS: &str = "/orchestrate/v1/organizations/{organizationId}/projects/{projectId}/jobs";
const JOB: &str =
    "/orchestrate/v1/organizations/{organizationId}/projects/{projectId}/jobs/{jobId}";
const RUN: &str =
    "/orchestrate/v1/organizations/{organizationId}/projects/{projectId}/jobs/{jobId}/run";
const INTEGRATIONS: &str =
    "/integrate/v1/organizations/{organizationId}/projects/{projectId}/integrations";
const INTEGRATION: &str = "/integrate/v1/organizations/{organizationId}/projects/{projectId}/integrations/{integrationId}";
const INTEGRATION_TEST: &str = "/integrate/v1/organizations/{organizationId}/projects/{projectId}/integrations/{integrationId}/test";
const HISTORY: &str = "/orchestrate/v1/organizations/{organizationId}/projects/{projectId}/history";

pub const OPERATIONS: &[Operation] = &[
    op!("createOrganization", "post", RES, "Create an organization (you become its admin)", Some("NameRequest"), 201 => "IdResponse"),
    op!("listOrganizations", "get", RES, "Organizations you have a role in", None, 200 => "OrganizationList"),
    op!("getOrganization", "get", RES_ONE, "One organization", None, 200 => "OrganizationResponse"),
    op!("updateOrganization", "put", RES_ONE, "Rename an organization (organization admin)", Some("NameRequest"), 200 => "Empty"),
    op!("deleteOrganization", "delete", RES_ONE, "Delete an organization without projects (organization admin)", None, 200 => "Empty"),
    op!("createProject", "post", PROJECTS, "Create a project (organization admin)", Some("NameRequest"), 201 => "IdResponse"),
    op!("listProjects", "get", PROJECTS, "Projects you have a role in", None, 200 => "ProjectList"),
    op!("getProject", "get", PROJECT, "One project", None, 200 => "ProjectResponse"),
    op!("updateProject", "put", PROJECT, "Rename a project (project admin)", Some("NameRequest"), 200 => "Empty"),
    op!("deleteProject", "delete", PROJECT, "Delete an empty project (organization admin)", None, 200 => "Empty"),
    op!("createNetwork", "post", NETWORKS, "Create a network in one of the site's regions", Some("CreateNetworkRequest"), 201 => "IdResponse"),
    op!("listNetworks", "get", NETWORKS, "Networks of the project", None, 200 => "NetworkList"),
    op!("getNetwork", "get", NETWORK, "One network", None, 200 => "NetworkResponse"),
    op!("updateNetwork", "put", NETWORK, "Change a network's description", Some("DescriptionRequest"), 200 => "Empty"),
    op!("deleteNetwork", "delete", NETWORK, "Delete a network no cluster uses", None, 200 => "Empty"),
    op!("createCluster", "post", CLUSTERS, "Create a cluster; with sourceBackupId, restore a backup into it", Some("CreateClusterRequest"), 201 => "IdResponse"),
    op!("listClusters", "get", CLUSTERS, "Clusters of the project (deleted ones leave the list)", None, 200 => "ClusterList"),
    op!("getCluster", "get", CLUSTER, "One cluster (deleted ones too)", None, 200 => "ClusterResponse"),
    op!("updateCluster", "put", CLUSTER, "Change a cluster's description or deletion protection", Some("UpdateClusterRequest"), 200 => "Empty"),
    op!("deleteCluster", "delete", CLUSTER, "Delete a cluster (refused when protected or locked)", None, 200 => "Empty"),
    op!("expandClusterDisk", "put", EXPAND, "Grow a cluster's disk", Some("ExpandDiskRequest"), 200 => "Empty"),
    op!("resizeCluster", "put", RESIZE, "Change a cluster's instance type", Some("ResizeRequest"), 200 => "IdResponse"),
    op!("upgradeCluster", "put", UPGRADE, "Move a cluster to a newer server version", Some("UpgradeRequest"), 200 => "IdResponse"),
    op!("createBackup", "post", BACKUPS, "Back up a cluster now; description is a label template", Some("CreateBackupRequest"), 201 => "IdResponse"),
    op!("listBackups", "get", BACKUPS, "Backups of the project (deleted ones leave the list)", None, 200 => "BackupList"),
    op!("getBackup", "get", BACKUP, "One backup (deleted ones too)", None, 200 => "BackupResponse"),
    op!("deleteBackup", "delete", BACKUP, "Delete a backup and its snapshot", None, 200 => "Empty"),
    op!("verifyBackup", "post", VERIFY, "Read every chunk of an available backup back and check every hash, in the background; the result appears as the backup's verification", None, 202 => "BackupResponse"),
    op!("listBackupStorage", "get", STORAGE, "Where each region keeps its backups, and whether they are encrypted", None, 200 => "RepositoryList"),
    op!("createJob", "post", JOBS, "Schedule backups of a cluster, or restore tests of its backups", Some("CreateJobRequest"), 201 => "IdResponse"),
    Operation {
        id: "listJobs",
        method: "get",
        path: JOBS,
        summary:
            "Jobs of the project: scheduled backups (what Kurrent Cloud lists), or of another type",
        body: None,
        answer: (200, "JobList"),
        query: &[(
            "type",
            "ScheduledBackup (the default), ScheduledRestoreTest, or all",
        )],
    },
    op!("getJob", "get", JOB, "One job", None, 200 => "JobResponse"),
    op!("deleteJob", "delete", JOB, "Delete a job (its backups stay)", None, 200 => "Empty"),
    op!("runJob", "post", RUN, "Run a job now", None, 200 => "RunResponse"),
    op!("createIntegration", "post", INTEGRATIONS, "Send notifications or issues to a webhook, Slack or e-mail", Some("IntegrationRequest"), 201 => "IdResponse"),
    op!("listIntegrations", "get", INTEGRATIONS, "Integrations of the project (secrets masked)", None, 200 => "IntegrationList"),
    op!("getIntegration", "get", INTEGRATION, "One integration (secrets masked)", None, 200 => "IntegrationResponse"),
    op!("updateIntegration", "put", INTEGRATION, "Replace an integration's description, source and sink", Some("IntegrationRequest"), 200 => "Empty"),
    op!("deleteIntegration", "delete", INTEGRATION, "Delete an integration; its queued messages are not sent", None, 200 => "Empty"),
    op!("testIntegration", "post", INTEGRATION_TEST, "Send a sample message now and say how it went", None, 200 => "TestResponse"),
    Operation {
        id: "listHistory",
        method: "get",
        path: HISTORY,
        summary: "Runs of the project's jobs, newest first",
        body: None,
        answer: (200, "HistoryList"),
        query: &[("jobId", "Only the runs of this job")],
    },
];

/// The handler of an operation, on its method. Panics on an operation without one: the
/// router is built at start, so a table entry without a handler never reaches users.
pub fn handler(operation: &Operation) -> MethodRouter<Console> {
    let method = match operation.method {
        "get" => MethodFilter::GET,
        "post" => MethodFilter::POST,
        "put" => MethodFilter::PUT,
        "delete" => MethodFilter::DELETE,
        other => panic!("operation {}: unknown method {other}", operation.id),
    };
    match operation.id {
        "createOrganization" => on(method, h::create_organization),
        "listOrganizations" => on(method, h::list_organizations),
        "getOrganization" => on(method, h::get_organization),
        "updateOrganization" => on(method, h::update_organization),
        "deleteOrganization" => on(method, h::delete_organization),
        "createProject" => on(method, h::create_project),
        "listProjects" => on(method, h::list_projects),
        "getProject" => on(method, h::get_project),
        "updateProject" => on(method, h::update_project),
        "deleteProject" => on(method, h::delete_project),
        "createNetwork" => on(method, h::create_network),
        "listNetworks" => on(method, h::list_networks),
        "getNetwork" => on(method, h::get_network),
        "updateNetwork" => on(method, h::update_network),
        "deleteNetwork" => on(method, h::delete_network),
        "createCluster" => on(method, h::create_cluster),
        "listClusters" => on(method, h::list_clusters),
        "getCluster" => on(method, h::get_cluster),
        "updateCluster" => on(method, h::update_cluster),
        "deleteCluster" => on(method, h::delete_cluster),
        "expandClusterDisk" => on(method, h::expand_disk),
        "resizeCluster" => on(method, h::resize_cluster),
        "upgradeCluster" => on(method, h::upgrade_cluster),
        "createBackup" => on(method, h::create_backup),
        "listBackups" => on(method, h::list_backups),
        "getBackup" => on(method, h::get_backup),
        "deleteBackup" => on(method, h::delete_backup),
        "verifyBackup" => on(method, h::verify_backup),
        "listBackupStorage" => on(method, h::list_backup_storage),
        "createJob" => on(method, h::create_job),
        "listJobs" => on(method, h::list_jobs),
        "getJob" => on(method, h::get_job),
        "deleteJob" => on(method, h::delete_job),
        "runJob" => on(method, h::run_job),
        "listHistory" => on(method, h::list_history),
        "createIntegration" => on(method, h::create_integration),
        "listIntegrations" => on(method, h::list_integrations),
        "getIntegration" => on(method, h::get_integration),
        "updateIntegration" => on(method, h::update_integration),
        "deleteIntegration" => on(method, h::delete_integration),
        "testIntegration" => on(method, h::test_integration),
        other => panic!("operation {other} has no handler"),
    }
}

/// Path parameters named in a path template, in order.
pub fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// The OpenAPI 3.0 document of every operation.
pub fn document() -> Value {
    let schemas: Value =
        serde_json::from_str(include_str!("schemas.json")).expect("schemas.json is JSON");
    let mut paths = Map::new();
    for operation in OPERATIONS {
        let mut parameters: Vec<Value> = path_parameters(operation.path)
            .into_iter()
            .map(|name| {
                json!({"name": name, "in": "path", "required": true,
                       "schema": {"type": "string"}})
            })
            .collect();
        parameters.extend(operation.query.iter().map(|(name, description)| {
            json!({"name": name, "in": "query", "required": false,
                   "description": description, "schema": {"type": "string"}})
        }));
        let (status, answer) = operation.answer;
        let problem = |description: &str| {
            json!({"description": description, "content": {"application/problem+json":
                {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}})
        };
        let mut responses = Map::new();
        responses.insert(
            status.to_string(),
            json!({"description": "Done", "content": {"application/json":
                {"schema": {"$ref": format!("#/components/schemas/{answer}")}}}}),
        );
        responses.insert(
            "400".into(),
            problem("The request is not valid; `fields` says where"),
        );
        responses.insert("401".into(), problem("No valid access token"));
        responses.insert("403".into(), problem("Your role does not allow this"));
        responses.insert(
            "404".into(),
            problem("Not found (or in a project you have no role in)"),
        );
        if operation.method != "get" {
            responses.insert(
                "409".into(),
                problem("Conflicts with the resource's state (a lock, protection)"),
            );
        }
        let mut entry = json!({
            "operationId": operation.id,
            "summary": operation.summary,
            "parameters": parameters,
            "responses": responses,
            "security": [{"bearer": []}],
        });
        if let Some(body) = operation.body {
            entry["requestBody"] = json!({"required": true, "content": {"application/json":
                {"schema": {"$ref": format!("#/components/schemas/{body}")}}}});
        }
        paths
            .entry(operation.path.to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a path item is an object")
            .insert(operation.method.to_owned(), entry);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Cairn API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Kurrent Cloud's Backup & Restore API, self-hosted. Get an access \
                token from POST /oauth/token (grant_type=refresh_token) with an API token made \
                in the console or by `cairn token create`.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    })
}
