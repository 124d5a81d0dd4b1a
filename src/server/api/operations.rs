//! The API's route table. The router is built from it and so is the OpenAPI document, so
//! each documented operation is served and each served route is documented.

use super::handlers::{infra, integrate, mesdb, orchestrate, resources};
use crate::server::Console;
use axum::routing::{on, MethodFilter, MethodRouter};
use serde_json::{json, Map, Value};

/// One API call.
pub struct Operation {
    /// The OpenAPI `operationId`.
    pub id: &'static str,
    pub method: Method,
    pub path: &'static str,
    /// Its handler, on a method: `|m| on(m, handler)` (see [`handler`]).
    pub route: fn(MethodFilter) -> MethodRouter<Console>,
    pub summary: &'static str,
    /// The request body's schema (in `schemas.json`), if it takes one.
    pub body: Option<&'static str>,
    /// The success status and the answer's schema.
    pub answer: (u16, &'static str),
    /// Query parameters: name and meaning.
    pub query: &'static [(&'static str, &'static str)],
}

/// An HTTP method an operation is served on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    /// Lowercase, as OpenAPI names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Delete => "delete",
        }
    }

    pub fn filter(self) -> MethodFilter {
        match self {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
            Method::Put => MethodFilter::PUT,
            Method::Delete => MethodFilter::DELETE,
        }
    }
}

/// `op!(id, Method, path, handler, summary, body, status => answer[, query: &[(name, meaning), …]])`:
/// one row of the table.
macro_rules! op {
    (@query) => { &[] };
    (@query $query:expr) => { $query };
    ($id:literal, $method:ident, $path:expr, $handler:path, $summary:literal, $body:expr,
     $status:literal => $answer:literal $(, query: $query:expr)?) => {
        Operation {
            id: $id,
            method: Method::$method,
            path: $path,
            route: |method| on(method, $handler),
            summary: $summary,
            body: $body,
            answer: ($status, $answer),
            query: op!(@query $($query)?),
        }
    };
}

/// Paging (`cairn_model::paging`): how many, from where, in which order.
macro_rules! paging {
    ($($extra:expr),* $(,)?) => {
        &[
            $($extra,)*
            ("pageSize", "Rows on a page, 1 to 500 (default 50). Any paging parameter makes the answer one page, with nextPageToken while more follow"),
            ("pageToken", "The nextPageToken of the previous page"),
            ("order", "desc (newest first, the default) or asc (oldest first)"),
            ("q", "Free text, found in any case in labels, descriptions and ids"),
        ]
    };
}

const BACKUPS_QUERY: &[(&str, &str)] = paging![
    (
        "status",
        "creating, available, defunct, cancelled or deleting"
    ),
    ("clusterId", "Only backups of this cluster"),
    ("jobId", "Only backups this job made"),
];
const JOBS_QUERY: &[(&str, &str)] = paging![
    (
        "type",
        "ScheduledBackup (the default), ScheduledRestoreTest, or all"
    ),
    ("status", "running or paused"),
    ("clusterId", "Only jobs of this cluster"),
];
const HISTORY_QUERY: &[(&str, &str)] = paging![
    ("jobId", "Only the runs of this job"),
    ("status", "started, succeeded or failed"),
    ("clusterId", "Only runs of this cluster's jobs"),
];
const EVENTS_QUERY: &[(&str, &str)] = paging![
    ("status", "open or closed (issues), or notification"),
    ("clusterId", "Only events about this cluster"),
    ("jobId", "Only events about this job"),
];

const RES: &str = "/resources/v1/organizations";
const RES_ONE: &str = "/resources/v1/organizations/{organizationId}";
const PROJECTS: &str = "/resources/v1/organizations/{organizationId}/projects";
const PROJECT: &str = "/resources/v1/organizations/{organizationId}/projects/{projectId}";
const AUDIT: &str = "/resources/v1/organizations/{organizationId}/projects/{projectId}/audit";
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
const CANCEL: &str =
    "/mesdb/v1/organizations/{organizationId}/projects/{projectId}/backups/{backupId}/cancel";
const STORAGE: &str =
    "/mesdb/v1/organizations/{organizationId}/projects/{projectId}/backup-storage";
const JOBS: &str = "/orchestrate/v1/organizations/{organizationId}/projects/{projectId}/jobs";
const JOB: &str =
    "/orchestrate/v1/organizations/{organizationId}/projects/{projectId}/jobs/{jobId}";
const RUN: &str =
    "/orchestrate/v1/organizations/{organizationId}/projects/{projectId}/jobs/{jobId}/run";
const PAUSE: &str =
    "/orchestrate/v1/organizations/{organizationId}/projects/{projectId}/jobs/{jobId}/pause";
const RESUME: &str =
    "/orchestrate/v1/organizations/{organizationId}/projects/{projectId}/jobs/{jobId}/resume";
const INTEGRATIONS: &str =
    "/integrate/v1/organizations/{organizationId}/projects/{projectId}/integrations";
const INTEGRATION: &str = "/integrate/v1/organizations/{organizationId}/projects/{projectId}/integrations/{integrationId}";
const INTEGRATION_TEST: &str = "/integrate/v1/organizations/{organizationId}/projects/{projectId}/integrations/{integrationId}/test";
const HISTORY: &str = "/orchestrate/v1/organizations/{organizationId}/projects/{projectId}/history";
const EVENTS: &str = "/integrate/v1/organizations/{organizationId}/projects/{projectId}/events";

pub const OPERATIONS: &[Operation] = &[
    op!("createOrganization", Post, RES, resources::create_organization, "Create an organization (you become its admin)", Some("NameRequest"), 201 => "IdResponse"),
    op!("listOrganizations", Get, RES, resources::list_organizations, "Organizations you have a role in", None, 200 => "OrganizationList"),
    op!("getOrganization", Get, RES_ONE, resources::get_organization, "One organization", None, 200 => "OrganizationResponse"),
    op!("updateOrganization", Put, RES_ONE, resources::update_organization, "Rename an organization (organization admin)", Some("NameRequest"), 200 => "Empty"),
    op!("deleteOrganization", Delete, RES_ONE, resources::delete_organization, "Delete an organization without projects (organization admin)", None, 200 => "Empty"),
    op!("createProject", Post, PROJECTS, resources::create_project, "Create a project (organization admin)", Some("NameRequest"), 201 => "IdResponse"),
    op!("listProjects", Get, PROJECTS, resources::list_projects, "Projects you have a role in", None, 200 => "ProjectList"),
    op!("getProject", Get, PROJECT, resources::get_project, "One project", None, 200 => "ProjectResponse"),
    op!("updateProject", Put, PROJECT, resources::update_project, "Rename a project (project admin)", Some("NameRequest"), 200 => "Empty"),
    op!("deleteProject", Delete, PROJECT, resources::delete_project, "Delete an empty project (organization admin)", None, 200 => "Empty"),
    op!("listAudit", Get, AUDIT, resources::list_audit, "The project's audit log, newest first: every change asked for in it, in its organization and on the site (sign-ins, tokens), who asked, from where (for admins, and for whoever it is about) and how it went (Cairn's own)", None, 200 => "AuditPage",
        query: &[("pageSize", "Entries per page: 1 to 200 (50 when not given)"),
                ("pageToken", "The nextPageToken of the previous page"),
                ("actor", "Only what this person did: an email, a user or API token id, or a token's description"),
                ("resource", "Only what was done to this resource id"),
                ("action", "Only this action (backup.delete), or every action of a kind (backup)")]),
    op!("createNetwork", Post, NETWORKS, infra::create_network, "Create a network in one of the site's regions", Some("CreateNetworkRequest"), 201 => "IdResponse"),
    op!("listNetworks", Get, NETWORKS, infra::list_networks, "Networks of the project", None, 200 => "NetworkList"),
    op!("getNetwork", Get, NETWORK, infra::get_network, "One network", None, 200 => "NetworkResponse"),
    op!("updateNetwork", Put, NETWORK, infra::update_network, "Change a network's description", Some("DescriptionRequest"), 200 => "Empty"),
    op!("deleteNetwork", Delete, NETWORK, infra::delete_network, "Delete a network no cluster uses", None, 200 => "Empty"),
    op!("createCluster", Post, CLUSTERS, mesdb::create_cluster, "Create a cluster; with sourceBackupId, restore a backup into it", Some("CreateClusterRequest"), 201 => "IdResponse"),
    op!("listClusters", Get, CLUSTERS, mesdb::list_clusters, "Clusters of the project (deleted ones leave the list)", None, 200 => "ClusterList"),
    op!("getCluster", Get, CLUSTER, mesdb::get_cluster, "One cluster (deleted ones too)", None, 200 => "ClusterResponse"),
    op!("updateCluster", Put, CLUSTER, mesdb::update_cluster, "Change a cluster's description or deletion protection", Some("UpdateClusterRequest"), 200 => "Empty"),
    op!("deleteCluster", Delete, CLUSTER, mesdb::delete_cluster, "Delete a cluster (refused when protected or locked)", None, 200 => "Empty"),
    op!("expandClusterDisk", Put, EXPAND, mesdb::expand_disk, "Grow a cluster's disk", Some("ExpandDiskRequest"), 200 => "Empty"),
    op!("resizeCluster", Put, RESIZE, mesdb::resize_cluster, "Change a cluster's instance type", Some("ResizeRequest"), 200 => "IdResponse"),
    op!("upgradeCluster", Put, UPGRADE, mesdb::upgrade_cluster, "Move a cluster to a newer server version", Some("UpgradeRequest"), 200 => "IdResponse"),
    op!("createBackup", Post, BACKUPS, mesdb::create_backup, "Back up a cluster now; description is a label template", Some("CreateBackupRequest"), 201 => "IdResponse"),
    op!("listBackups", Get, BACKUPS, mesdb::list_backups, "Backups of the project (deleted ones leave the list); a page of them, newest first, when paging is asked for", None, 200 => "BackupList",
        query: BACKUPS_QUERY),
    op!("getBackup", Get, BACKUP, mesdb::get_backup, "One backup (deleted ones too)", None, 200 => "BackupResponse"),
    op!("deleteBackup", Delete, BACKUP, mesdb::delete_backup, "Delete a backup and its snapshot", None, 200 => "Empty"),
    op!("cancelBackup", Post, CANCEL, mesdb::cancel_backup, "Stop a backup being created: its partial data is collected and it ends cancelled (status defunct with cancelled: true, as Kurrent Cloud's clients know no cancelled status)", None, 200 => "BackupResponse"),
    op!("verifyBackup", Post, VERIFY, mesdb::verify_backup, "Read every chunk of an available backup back and check every hash, in the background; the result appears as the backup's verification", None, 202 => "BackupResponse"),
    op!("listBackupStorage", Get, STORAGE, mesdb::list_backup_storage, "Where each region keeps its backups, and whether they are encrypted", None, 200 => "RepositoryList"),
    op!("createJob", Post, JOBS, orchestrate::create_job, "Schedule backups of a cluster, or restore tests of its backups", Some("CreateJobRequest"), 201 => "IdResponse"),
    op!("listJobs", Get, JOBS, orchestrate::list_jobs, "Jobs of the project: scheduled backups (what Kurrent Cloud lists), or of another type; a page of them when paging is asked for", None, 200 => "JobList",
        query: JOBS_QUERY),
    op!("getJob", Get, JOB, orchestrate::get_job, "One job", None, 200 => "JobResponse"),
    op!("updateJob", Put, JOB, orchestrate::update_job, "Change a job's description, schedule, label template or keep count (never its cluster); a new schedule counts from now", Some("UpdateJobRequest"), 200 => "JobResponse"),
    op!("deleteJob", Delete, JOB, orchestrate::delete_job, "Delete a job (its backups stay)", None, 200 => "Empty"),
    op!("runJob", Post, RUN, orchestrate::run_job, "Run a job now", None, 200 => "RunResponse"),
    op!("pauseJob", Post, PAUSE, orchestrate::pause_job, "Pause a job: no runs until it is resumed", None, 200 => "JobResponse"),
    op!("resumeJob", Post, RESUME, orchestrate::resume_job, "Resume a paused job; runs missed while paused are not made up", None, 200 => "JobResponse"),
    op!("createIntegration", Post, INTEGRATIONS, integrate::create_integration, "Send notifications or issues to a webhook, Slack or e-mail", Some("IntegrationRequest"), 201 => "IdResponse"),
    op!("listIntegrations", Get, INTEGRATIONS, integrate::list_integrations, "Integrations of the project (secrets masked)", None, 200 => "IntegrationList"),
    op!("getIntegration", Get, INTEGRATION, integrate::get_integration, "One integration (secrets masked)", None, 200 => "IntegrationResponse"),
    op!("updateIntegration", Put, INTEGRATION, integrate::update_integration, "Replace an integration's description, source and sink", Some("IntegrationRequest"), 200 => "Empty"),
    op!("deleteIntegration", Delete, INTEGRATION, integrate::delete_integration, "Delete an integration; its queued messages are not sent", None, 200 => "Empty"),
    op!("testIntegration", Post, INTEGRATION_TEST, integrate::test_integration, "Send a sample message now and say how it went", None, 200 => "TestResponse"),
    op!("listHistory", Get, HISTORY, orchestrate::list_history, "Runs of the project's jobs, newest first (the latest 1000); a page of them when paging is asked for (jobId alone does not ask)", None, 200 => "HistoryList",
        query: HISTORY_QUERY),
    op!("listEvents", Get, EVENTS, integrate::list_events, "The project's issues and notifications, a page at a time, newest first", None, 200 => "EventList",
        query: EVENTS_QUERY),
];

/// The handler of an operation, on its method.
pub fn handler(operation: &Operation) -> MethodRouter<Console> {
    (operation.route)(operation.method.filter())
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
        if operation.method != Method::Get {
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
            .insert(operation.method.as_str().to_owned(), entry);
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
