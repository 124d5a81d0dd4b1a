//! Every API call through the router, on a real SQLite store and the fake engine.

use super::*;
use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use cairn_core::testkit::{FakeEngine, SnapshotBehaviour};
use cairn_core::{Services, SiteConfig, SystemClock};
use cairn_model::{ClusterId, Role};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

mod audit;
mod esc;
mod paging;

const PASSWORD: &str = "correct horse battery";

struct Api {
    app: Router,
    services: Services,
    scope: Scope,
    engine: Arc<FakeEngine>,
    cluster: ClusterId,
    /// An access token of the first admin (admin of the whole organization).
    token: String,
    /// An access token of a user who is a viewer in the default project.
    viewer: String,
    _dir: tempfile::TempDir,
}

/// An access token for a user, the way a client gets one.
async fn access_token(services: &Services, email: &str) -> String {
    let user = services.user_by_email(email).await.unwrap();
    let (_, refresh) = services
        .create_api_token_for(&user.id, "tests", None)
        .await
        .unwrap();
    services
        .exchange_refresh_token(&refresh)
        .await
        .unwrap()
        .access_token
}

async fn api() -> Api {
    let dir = tempfile::tempdir().unwrap();
    let store = cairn_store::SqlStore::open(&format!(
        "sqlite://{}",
        dir.path().join("cairn.db").display()
    ))
    .await
    .unwrap();
    let engine = Arc::new(FakeEngine::default());
    let services = Services::builder(
        Arc::new(store),
        Arc::new(SystemClock),
        SiteConfig::default(),
    )
    .engine(engine.clone())
    .deliverer(Arc::new(
        crate::server::sinks::SinkDeliverer::new().unwrap(),
    ))
    .build();
    let scope = cairn_core::Scope::trusted(services.start().await.unwrap());
    let network = services.list_networks(&scope).await.unwrap()[0].id.clone();
    let cluster = services
        .create_cluster(&scope, &cairn_core::testkit::cluster_request(network))
        .await
        .unwrap();
    services.settle().await;
    services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    services
        .create_user(
            "viewer@example.com",
            PASSWORD,
            Role::Viewer,
            &scope.organization_id,
            Some(&scope.project_id),
        )
        .await
        .unwrap();
    let token = access_token(&services, "ops@example.com").await;
    let viewer = access_token(&services, "viewer@example.com").await;
    let app = router(Console::new(services.clone(), scope.place()));
    Api {
        app,
        services,
        scope,
        engine,
        cluster: cluster.id,
        token,
        viewer,
        _dir: dir,
    }
}

impl Api {
    fn base(&self) -> String {
        format!(
            "/mesdb/v1/organizations/{}/projects/{}",
            self.scope.organization_id, self.scope.project_id
        )
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value, String) {
        self.call_as(Some(&self.token), method, path, body).await
    }

    async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value, String) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        // Real clients send a JSON content type even with an empty body.
        request = request.header(header::CONTENT_TYPE, "application/json");
        let body = body
            .map(|b| Body::from(b.to_string()))
            .unwrap_or_else(Body::empty);
        let response = self
            .app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value, content_type)
    }

    async fn create(&self, description: &str) -> (StatusCode, Value, String) {
        let body = json!({ "sourceClusterId": self.cluster, "description": description });
        self.call("POST", &format!("{}/backups", self.base()), Some(body))
            .await
    }
}

#[tokio::test]
async fn a_backup_is_created_read_listed_and_deleted_in_the_wire_shapes() {
    let api = api().await;
    let (status, created, _) = api.create("{cluster} on demand").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    api.services.settle().await;

    let (status, got, _) = api
        .call("GET", &format!("{}/backups/{id}", api.base()), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let backup = &got["backup"];
    assert_eq!(backup["description"], "orders on demand");
    assert_eq!(backup["status"], "available");
    assert_eq!(backup["provider"], "local");
    assert_eq!(backup["linkedResource"], "", "always a string");
    assert_eq!(backup["sourceClusterId"], api.cluster.as_str());

    let (_, listed, _) = api
        .call("GET", &format!("{}/backups", api.base()), None)
        .await;
    assert_eq!(listed["backups"].as_array().unwrap().len(), 1);

    let (status, _, _) = api
        .call("DELETE", &format!("{}/backups/{id}", api.base()), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    api.services.settle().await;
    let (_, listed, _) = api
        .call("GET", &format!("{}/backups", api.base()), None)
        .await;
    assert!(
        listed["backups"].as_array().unwrap().is_empty(),
        "deleted leaves the list"
    );
    let (status, got, _) = api
        .call("GET", &format!("{}/backups/{id}", api.base()), None)
        .await;
    assert_eq!(
        (status, got["backup"]["status"].as_str()),
        (StatusCode::OK, Some("deleted"))
    );
}

#[tokio::test]
async fn bad_requests_are_problem_details_naming_each_field() {
    let api = api().await;
    let (status, problem, content_type) = api.create("{nope}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(problem["status"], 400);
    assert!(
        problem["fields"]["description"]
            .as_str()
            .unwrap()
            .contains("nope"),
        "{problem}"
    );
    assert_eq!(problem["instance"], format!("{}/backups", api.base()));

    let body = json!({ "sourceClusterId": "not-an-id", "description": "x" });
    let (status, problem, _) = api
        .call("POST", &format!("{}/backups", api.base()), Some(body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["fields"]["sourceClusterId"].is_string(),
        "{problem}"
    );

    let (status, problem, _) = api
        .call(
            "POST",
            &format!("{}/backups", api.base()),
            Some(json!({"x": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["fields"]["body"].as_str().unwrap().contains("JSON"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_second_backup_of_a_locked_cluster_is_409_naming_the_holder() {
    let api = api().await;
    api.engine.snapshots(SnapshotBehaviour::Hold);
    let (_, first, _) = api.create("first").await;

    let (status, problem, _) = api.create("second").await;

    assert_eq!(status, StatusCode::CONFLICT);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(first["id"].as_str().unwrap()), "{detail}");
    api.engine.release_snapshots();
    api.services.settle().await;
}

#[tokio::test]
async fn another_projects_backup_and_unknown_ids_are_404() {
    let api = api().await;
    let (_, created, _) = api.create("mine").await;
    let id = created["id"].as_str().unwrap();
    let other = api
        .services
        .create_project(api.scope.actor(), &api.scope.organization_id, "other")
        .await
        .unwrap();
    let elsewhere = format!(
        "/mesdb/v1/organizations/{}/projects/{}/backups/{id}",
        api.scope.organization_id, other.id
    );

    let (status, problem, _) = api.call("GET", &elsewhere, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let (status, _, _) = api
        .call(
            "GET",
            &format!("{}/backups/c0000000000000000000", api.base()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = api
        .call("GET", "/mesdb/v1/organizations/x/projects/y/backups", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    api.services.settle().await;
}

#[tokio::test]
async fn a_cluster_is_restored_from_a_backup_read_listed_expanded_and_deleted() {
    let api = api().await;
    let (_, created, _) = api.create("nightly").await;
    let backup = created["id"].as_str().unwrap().to_owned();
    api.services.settle().await;
    let network = api.services.list_networks(&api.scope).await.unwrap()[0]
        .id
        .clone();
    let request = json!({
        "description": "restored", "networkId": network, "topology": "three-node-multi-zone",
        "instanceType": "F1", "diskSizeGb": 16, "diskType": "local-ssd", "serverVersion": "24.10",
        "projectionLevel": "off", "sourceBackupId": backup
    });

    let (status, created, _) = api
        .call("POST", &format!("{}/clusters", api.base()), Some(request))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    api.services.settle().await;
    let (status, got, _) = api
        .call("GET", &format!("{}/clusters/{id}", api.base()), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let cluster = &got["cluster"];
    assert_eq!(cluster["status"], "available");
    assert_eq!(cluster["instanceType"], "f1", "lower case in answers");
    assert_eq!(cluster["sourceBackupId"], backup.as_str());
    let (_, listed, _) = api
        .call("GET", &format!("{}/clusters", api.base()), None)
        .await;
    assert_eq!(listed["clusters"].as_array().unwrap().len(), 2);

    let expand = |gb: u32| json!({ "diskSizeGb": gb });
    let path = format!("{}/clusters/{id}/disk/expand", api.base());
    let (status, problem, _) = api
        .call(
            "PUT",
            &path,
            Some(json!({"diskSizeGb": 32, "diskIops": 3000, "diskType": "gp3"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["fields"]["diskIops"].is_string() && problem["fields"]["diskType"].is_string(),
        "{problem}"
    );
    let (status, _, _) = api.call("PUT", &path, Some(expand(32))).await;
    assert_eq!(status, StatusCode::OK);
    api.services.settle().await;
    let (status, problem, _) = api.call("PUT", &path, Some(expand(8))).await;
    assert!(
        status.is_client_error(),
        "disks only grow: {status} {problem}"
    );

    let (status, _, _) = api
        .call("DELETE", &format!("{}/clusters/{id}", api.base()), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    api.services.settle().await;
    let (_, listed, _) = api
        .call("GET", &format!("{}/clusters", api.base()), None)
        .await;
    assert_eq!(
        listed["clusters"].as_array().unwrap().len(),
        1,
        "deleted leaves the list"
    );
}

#[tokio::test]
async fn a_restore_breaking_rules_names_every_field_at_once() {
    let api = api().await;
    let (_, created, _) = api.create("nightly").await;
    api.services.settle().await;
    let request = json!({
        "description": "", "networkId": "c0000000000000000000", "topology": "single-node",
        "instanceType": "c4", "diskSizeGb": 4, "diskType": "local-ssd", "serverVersion": "23.10",
        "projectionLevel": "off", "sourceBackupId": created["id"]
    });

    let (status, problem, _) = api
        .call("POST", &format!("{}/clusters", api.base()), Some(request))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    for field in ["description", "networkId", "diskSizeGb", "serverVersion"] {
        assert!(
            problem["fields"][field].is_string(),
            "{field} missing from {problem}"
        );
    }
}

/// An operation's path with every `{parameter}` filled from `ids` (by name), else a
/// well-formed id that names nothing.
fn fill(path: &str, ids: &[(&str, &str)]) -> String {
    let mut filled = path.to_owned();
    for name in operations::path_parameters(path) {
        let value = ids
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("c0000000000000000000", |(_, v)| v);
        filled = filled.replace(&format!("{{{name}}}"), value);
    }
    filled
}

fn method(operation: &operations::Operation) -> String {
    operation.method.as_str().to_uppercase()
}

#[tokio::test]
async fn every_operation_needs_a_valid_bearer_token() {
    let api = api().await;
    let ids = [
        ("organizationId", api.scope.organization_id.as_str()),
        ("projectId", api.scope.project_id.as_str()),
    ];
    for operation in operations::OPERATIONS {
        let path = fill(operation.path, &ids);
        for token in [None, Some("cairn_at_not-a-token")] {
            let (status, problem, content_type) = api
                .call_as(token, &method(operation), &path, Some(json!({})))
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {path}", operation.id);
            assert_eq!(content_type, "application/problem+json");
            assert_eq!(problem["status"], 401);
        }
    }
    let response = api
        .app
        .clone()
        .oneshot(
            Request::get(format!("{}/backups", api.base()))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
}

#[tokio::test]
async fn a_viewer_reads_and_every_write_is_403_naming_the_role_needed() {
    let api = api().await;
    let network = api.services.list_networks(&api.scope).await.unwrap()[0]
        .id
        .to_string();
    let backup = api
        .services
        .create_backup(&api.scope, &api.cluster, "viewed")
        .await
        .unwrap()
        .id
        .to_string();
    api.services.settle().await;
    let job = api
        .services
        .create_job(
            &api.scope,
            &cairn_model::CreateJobRequest {
                description: "hourly".into(),
                schedule: "0 * * * *".into(),
                data: cairn_model::ScheduledBackupData {
                    cluster_id: api.cluster.clone(),
                    description: "{cluster}".into(),
                    max_backup_count: 2,
                },
            },
        )
        .await
        .unwrap()
        .id
        .to_string();
    let integration = api
        .services
        .create_integration(
            &api.scope,
            &cairn_model::IntegrationRequest {
                description: "ops".into(),
                source: cairn_model::EventSource::Notifications,
                data: cairn_model::Sink::Slack {
                    url: "https://hooks.slack.com/services/T/B/secret".into(),
                },
            },
        )
        .await
        .unwrap()
        .id
        .to_string();
    let ids = [
        ("organizationId", api.scope.organization_id.as_str()),
        ("projectId", api.scope.project_id.as_str()),
        ("clusterId", api.cluster.as_str()),
        ("networkId", network.as_str()),
        ("backupId", backup.as_str()),
        ("jobId", job.as_str()),
        ("integrationId", integration.as_str()),
    ];
    for operation in operations::OPERATIONS {
        let path = fill(operation.path, &ids);
        let (status, problem, _) = api
            .call_as(
                Some(&api.viewer),
                &method(operation),
                &path,
                Some(json!({})),
            )
            .await;
        if operation.method == operations::Method::Get {
            assert_eq!(status, StatusCode::OK, "{} {path}: {problem}", operation.id);
        } else {
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{} {path}: {problem}",
                operation.id
            );
            assert!(
                problem["detail"].as_str().unwrap().contains("needs"),
                "{problem}"
            );
        }
    }
    let (status, listed, _) = api
        .call_as(
            Some(&api.viewer),
            "GET",
            &format!("{}/clusters", api.base()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["clusters"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn everything_in_a_project_the_caller_has_no_role_in_is_404() {
    let api = api().await;
    // Someone else's organization, made through the API by its owner.
    api.services
        .create_user(
            "other@example.com",
            PASSWORD,
            Role::Viewer,
            &api.scope.organization_id,
            Some(&api.scope.project_id),
        )
        .await
        .unwrap();
    let other = api
        .services
        .user_by_email("other@example.com")
        .await
        .unwrap();
    let theirs = api
        .services
        .create_organization(api.scope.actor(), "theirs")
        .await
        .unwrap();
    api.services
        .grant(&cairn_model::Grant {
            user_id: other.id.clone(),
            organization_id: theirs.id.clone(),
            project_id: None,
            role: Role::Admin,
        })
        .await
        .unwrap();
    let org = theirs.id.to_string();
    let project = api
        .services
        .create_project(api.scope.actor(), &theirs.id, "theirs")
        .await
        .unwrap()
        .id
        .to_string();

    let ids = [
        ("organizationId", org.as_str()),
        ("projectId", project.as_str()),
    ];
    for operation in operations::OPERATIONS {
        if !operation.path.contains("{organizationId}") {
            continue;
        }
        let path = fill(operation.path, &ids);
        let (status, problem, _) = api
            .call(&method(operation), &path, Some(json!({"name": "x"})))
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{} {path}: {problem}",
            operation.id
        );
    }
    let (_, listed, _) = api.call("GET", "/resources/v1/organizations", None).await;
    let names: Vec<&str> = listed["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(names, [api.scope.organization_id.as_str()]);
}

#[tokio::test]
async fn organizations_and_projects_are_created_read_renamed_and_deleted() {
    let api = api().await;
    let (status, created, _) = api
        .call(
            "POST",
            "/resources/v1/organizations",
            Some(json!({"name": "Acme"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let org = created["id"].as_str().unwrap().to_owned();
    let one = format!("/resources/v1/organizations/{org}");
    let (_, got, _) = api.call("GET", &one, None).await;
    assert_eq!(got["organization"]["name"], "Acme");
    assert_eq!(got["organization"]["provisioningEnabled"], true);
    let (status, _, _) = api
        .call("PUT", &one, Some(json!({"name": "Acme Ltd"})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed, _) = api.call("GET", "/resources/v1/organizations", None).await;
    assert!(listed["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["name"] == "Acme Ltd"));
    let (status, problem, _) = api.call("PUT", &one, Some(json!({"name": " "}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["fields"]["name"].is_string(), "{problem}");

    let (status, created, _) = api
        .call(
            "POST",
            &format!("{one}/projects"),
            Some(json!({"name": "prod"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let project = created["id"].as_str().unwrap().to_owned();
    let project_path = format!("{one}/projects/{project}");
    let (_, got, _) = api.call("GET", &project_path, None).await;
    assert_eq!(got["project"]["organizationId"], org.as_str());
    api.call("PUT", &project_path, Some(json!({"name": "production"})))
        .await;
    let (_, listed, _) = api.call("GET", &format!("{one}/projects"), None).await;
    assert_eq!(listed["projects"][0]["name"], "production");

    let (status, problem, _) = api.call("DELETE", &one, None).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "not while it has a project: {problem}"
    );
    assert_eq!(
        api.call("DELETE", &project_path, None).await.0,
        StatusCode::OK
    );
    assert_eq!(api.call("DELETE", &one, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn networks_are_created_listed_described_and_deleted() {
    let api = api().await;
    let base = format!(
        "/infra/v1/organizations/{}/projects/{}/networks",
        api.scope.organization_id, api.scope.project_id
    );
    let (status, created, _) = api
        .call(
            "POST",
            &base,
            Some(json!({"provider": "local", "region": "local-1", "description": "spare"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, got, _) = api.call("GET", &format!("{base}/{id}"), None).await;
    assert_eq!(got["network"]["description"], "spare");
    assert_eq!(got["network"]["cidrBlock"], "127.0.0.0/8");
    api.call(
        "PUT",
        &format!("{base}/{id}"),
        Some(json!({"description": "renamed"})),
    )
    .await;
    let (_, listed, _) = api.call("GET", &base, None).await;
    assert!(listed["networks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["description"] == "renamed"));
    let (status, problem, _) = api
        .call(
            "POST",
            &base,
            Some(json!({"provider": "aws", "region": "mars-1", "description": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["fields"]["region"].is_string(), "{problem}");
    assert_eq!(
        api.call("DELETE", &format!("{base}/{id}"), None).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_cluster_is_updated_resized_and_upgraded_and_protection_refuses_deletion() {
    let api = api().await;
    let one = format!("{}/clusters/{}", api.base(), api.cluster);
    let (status, _, _) = api
        .call(
            "PUT",
            &one,
            Some(json!({"description": "orders-prod", "protected": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, got, _) = api.call("GET", &one, None).await;
    let cluster = &got["cluster"];
    assert_eq!(cluster["description"], "orders-prod");
    assert_eq!(cluster["protected"], true);
    for field in [
        "canExpandDisk",
        "patchAvailable",
        "cloudIntegratedAuthentication",
    ] {
        assert!(
            cluster[field].is_boolean(),
            "{field} is required by esc: {cluster}"
        );
    }
    let (status, problem, _) = api.call("DELETE", &one, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("protected"));

    let (status, problem, _) = api
        .call(
            "PUT",
            &format!("{one}/commands/resize"),
            Some(json!({"targetSize": "X9"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["fields"]["targetSize"].is_string(), "{problem}");
    let (status, answer, _) = api
        .call(
            "PUT",
            &format!("{one}/commands/resize"),
            Some(json!({"targetSize": "M8"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["id"], api.cluster.as_str());
    api.services.settle().await;
    let (_, got, _) = api.call("GET", &one, None).await;
    assert_eq!(got["cluster"]["instanceType"], "m8");

    let (status, problem, _) = api
        .call(
            "PUT",
            &format!("{one}/commands/upgrade"),
            Some(json!({"targetTag": "23.10.3"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["fields"]["targetTag"].is_string(), "{problem}");
    let (status, _, _) = api
        .call(
            "PUT",
            &format!("{one}/commands/upgrade"),
            Some(json!({"targetTag": "25.0.1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    api.services.settle().await;
    let (_, got, _) = api.call("GET", &one, None).await;
    assert_eq!(got["cluster"]["serverVersionTag"], "25.0.1");
}

#[tokio::test]
async fn a_job_is_created_run_and_its_history_listed_then_deleted() {
    let api = api().await;
    let jobs = format!(
        "/orchestrate/v1/organizations/{}/projects/{}/jobs",
        api.scope.organization_id, api.scope.project_id
    );
    let job = |kind: &str, schedule: &str| {
        json!({
            "type": kind, "description": "My Hourly Backup", "schedule": schedule,
            "data": {"clusterId": api.cluster, "description": "{cluster} Hourly Backup {datetime:RFC3339}", "maxBackupCount": 2}
        })
    };
    let (status, problem, _) = api
        .call("POST", &jobs, Some(job("Cleanup", "every hour")))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["fields"]["type"].is_string(), "{problem}");
    let (status, problem, _) = api
        .call("POST", &jobs, Some(job("ScheduledBackup", "every hour")))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["fields"]["schedule"].is_string(), "{problem}");

    let (status, created, _) = api
        .call("POST", &jobs, Some(job("ScheduledBackup", "0 */1 * * *")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, got, _) = api.call("GET", &format!("{jobs}/{id}"), None).await;
    assert_eq!(got["job"]["type"], "ScheduledBackup");
    assert_eq!(got["job"]["status"], "running");
    assert_eq!(got["job"]["data"]["maxBackupCount"], 2);
    let (_, listed, _) = api.call("GET", &jobs, None).await;
    assert_eq!(listed["jobs"].as_array().unwrap().len(), 1);

    let (status, run, _) = api.call("POST", &format!("{jobs}/{id}/run"), None).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let history_id = run["historyId"].as_str().unwrap().to_owned();
    api.services.settle().await;
    let history = format!(
        "/orchestrate/v1/organizations/{}/projects/{}/history",
        api.scope.organization_id, api.scope.project_id
    );
    let (status, items, _) = api
        .call("GET", &format!("{history}?jobId={id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let item = &items["items"][0];
    assert_eq!(item["id"], history_id.as_str());
    assert_eq!(item["status"], "succeeded");
    assert!(item["linkedResource"].is_string());
    let (_, all, _) = api.call("GET", &history, None).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);

    let (status, paused, _) = api.call("POST", &format!("{jobs}/{id}/pause"), None).await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    assert_eq!(paused["job"]["status"], "paused");
    let (status, again, _) = api.call("POST", &format!("{jobs}/{id}/pause"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "pausing twice: {again}");
    let (status, resumed, _) = api.call("POST", &format!("{jobs}/{id}/resume"), None).await;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    assert_eq!(resumed["job"]["status"], "running");

    assert_eq!(
        api.call("DELETE", &format!("{jobs}/{id}"), None).await.0,
        StatusCode::OK
    );
    let (_, listed, _) = api.call("GET", &jobs, None).await;
    assert!(listed["jobs"].as_array().unwrap().is_empty());
}

async fn post_token_form(api: &Api, form: &str, content_type: &str) -> (StatusCode, Value) {
    let response = api
        .app
        .clone()
        .oneshot(
            Request::post("/oauth/token")
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(form.to_owned()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_refresh_token_is_exchanged_for_an_access_token_the_api_accepts() {
    let api = api().await;
    let user = api.services.user_by_email("ops@example.com").await.unwrap();
    let (_, refresh) = api
        .services
        .create_api_token_for(&user.id, "esc", None)
        .await
        .unwrap();
    let form = "application/x-www-form-urlencoded";

    let (status, token) = post_token_form(
        &api,
        &format!("grant_type=refresh_token&client_id=esc&refresh_token={refresh}"),
        form,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    assert!(token["scope"].is_string());
    let access = token["access_token"].as_str().unwrap();
    let (status, _, _) = api
        .call_as(
            Some(access),
            "GET",
            &format!("{}/backups", api.base()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, error) = post_token_form(
        &api,
        "grant_type=refresh_token&client_id=esc&refresh_token=cairn_rt_nope",
        form,
    )
    .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (_, error) = post_token_form(&api, "grant_type=password&client_id=esc", form).await;
    assert_eq!(error["error"], "unsupported_grant_type");
    let (_, error) = post_token_form(
        &api,
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
        form,
    )
    .await;
    assert_eq!(error["error"], "invalid_request");
    assert!(error["error_description"]
        .as_str()
        .unwrap()
        .contains("client_id"));
    let (_, error) = post_token_form(&api, "{}", "application/json").await;
    assert_eq!(error["error"], "invalid_request");
}

#[tokio::test]
async fn a_request_in_absolute_form_is_routed_by_its_path() {
    let api = api().await;
    let (status, listed, _) = api
        .call(
            "GET",
            &format!("http://cairn.example:8080{}/clusters", api.base()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["clusters"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_served_operations() {
    let api = api().await;
    let (status, document, _) = api.call_as(None, "GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let mut documented = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            documented += 1;
            // Served: an API answer (JSON), never the pages' 404 or a 405.
            let filled = fill(path, &[]);
            let (status, _, content_type) = api
                .call(&method.to_uppercase(), &filled, Some(json!({})))
                .await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                content_type.contains("json"),
                "{method} {path}: {status} {content_type}"
            );
            // Every schema it refers to exists.
            let text = operation.to_string();
            for reference in text.split("#/components/schemas/").skip(1) {
                let name: String = reference
                    .chars()
                    .take_while(|c| c.is_alphanumeric())
                    .collect();
                assert!(schemas.contains_key(&name), "{name} is not in the document");
            }
        }
    }
    assert_eq!(documented, operations::OPERATIONS.len());
    for schema in schemas.values() {
        let text = schema.to_string();
        for reference in text.split("#/components/schemas/").skip(1) {
            let name: String = reference
                .chars()
                .take_while(|c| c.is_alphanumeric())
                .collect();
            assert!(schemas.contains_key(&name), "{name} is not in the document");
        }
    }
}

#[test]
fn every_operation_of_the_table_has_a_handler_and_a_unique_id() {
    let mut ids = std::collections::HashSet::new();
    for operation in operations::OPERATIONS {
        assert!(ids.insert(operation.id), "{} twice", operation.id);
        let _ = operations::handler(operation);
    }
}

#[tokio::test]
async fn an_integration_is_created_read_with_its_secret_masked_tested_updated_and_deleted() {
    let api = api().await;
    let base = format!(
        "/integrate/v1/organizations/{}/projects/{}/integrations",
        api.scope.organization_id, api.scope.project_id
    );
    // A receiver for the test message.
    let received = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let app = Router::new().route(
        "/hook",
        axum::routing::post({
            let received = received.clone();
            move |body: String| {
                received.lock().unwrap().push(body);
                async { StatusCode::NO_CONTENT }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (status, problem, _) = api
        .call(
            "POST",
            &base,
            Some(json!({"description": "", "source": "notifications",
                        "data": {"sink": "webhook", "url": "ftp://x", "secret": "short"}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in ["description", "data.url", "data.secret"] {
        assert!(problem["fields"][field].is_string(), "{field}: {problem}");
    }

    let secret = "whsec_0123456789abcdef";
    let (status, created, _) = api
        .call(
            "POST",
            &base,
            Some(json!({"description": "ops hook", "source": "notifications",
                        "data": {"sink": "webhook", "url": url, "secret": secret}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, got, _) = api.call("GET", &format!("{base}/{id}"), None).await;
    let integration = &got["integration"];
    assert_eq!(integration["data"]["sink"], "webhook");
    assert_eq!(integration["data"]["secretDisplay"], "••••cdef");
    let (_, listed, _) = api.call("GET", &base, None).await;
    for answer in [got.to_string(), listed.to_string()] {
        assert!(
            !answer.contains(secret),
            "the secret is never returned: {answer}"
        );
    }

    let (status, tested, _) = api.call("POST", &format!("{base}/{id}/test"), None).await;
    assert_eq!(status, StatusCode::OK, "{tested}");
    assert_eq!(tested["delivery"]["status"], "delivered");
    assert_eq!(received.lock().unwrap().len(), 1);

    let (status, _, _) = api
        .call(
            "PUT",
            &format!("{base}/{id}"),
            Some(json!({"description": "ops slack", "source": "issues",
                        "data": {"sink": "slack", "url": "https://hooks.slack.com/services/T/B/abcd1234"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, got, _) = api.call("GET", &format!("{base}/{id}"), None).await;
    assert_eq!(got["integration"]["source"], "issues");
    assert_eq!(got["integration"]["data"]["urlDisplay"], "••••1234");

    assert_eq!(
        api.call("DELETE", &format!("{base}/{id}"), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        api.call("GET", &format!("{base}/{id}"), None).await.0,
        StatusCode::NOT_FOUND
    );
}

// ---- /oauth/token: limits and expiry ----

/// `POST /oauth/token` from a client address: status, `Retry-After`, body.
async fn exchange_from(
    app: &Router,
    peer: &str,
    refresh: &str,
) -> (StatusCode, Option<u64>, Value) {
    let mut request = Request::post("/oauth/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "grant_type=refresh_token&client_id=ci&refresh_token={refresh}"
        )))
        .unwrap();
    let peer: std::net::SocketAddr = peer.parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (
        status,
        retry_after,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn exchanges_of_one_refresh_token_beyond_ten_a_minute_are_answered_429_with_the_seconds_to_wait(
) {
    let api = api().await;
    let user = api.services.user_by_email("ops@example.com").await.unwrap();
    let (_, refresh) = api
        .services
        .create_api_token_for(&user.id, "CI", None)
        .await
        .unwrap();
    for n in 0..10 {
        // From ten addresses: the token's own budget is what runs out.
        let (status, _, body) =
            exchange_from(&api.app, &format!("192.0.2.{n}:4000"), &refresh).await;
        assert_eq!(status, StatusCode::OK, "exchange {n}: {body}");
    }
    let (status, retry_after, body) = exchange_from(&api.app, "192.0.2.99:4000", &refresh).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "slow_down");
    let seconds = retry_after.expect("a Retry-After header");
    assert!((1..=6).contains(&seconds), "{seconds}");
    assert_eq!(
        body["error_description"],
        format!("too many token requests for this refresh token: try again in {seconds} s")
    );
    let (_, other) = api
        .services
        .create_api_token_for(&user.id, "esc", None)
        .await
        .unwrap();
    let (status, _, _) = exchange_from(&api.app, "192.0.2.99:4000", &other).await;
    assert_eq!(status, StatusCode::OK, "another token has its own budget");
}

#[tokio::test]
async fn token_requests_beyond_twenty_a_minute_from_one_address_are_answered_429_and_others_pass() {
    let api = api().await;
    for n in 0..20 {
        let guess = format!("cairn_rt_{n:064x}");
        let (status, _, body) = exchange_from(&api.app, "198.51.100.7:5000", &guess).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "guess {n}: {body}");
        assert_eq!(body["error"], "invalid_grant");
    }
    let (status, retry_after, body) =
        exchange_from(&api.app, "198.51.100.7:5001", "cairn_rt_one_more").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let seconds = retry_after.unwrap();
    assert_eq!(
        body["error_description"],
        format!("too many token requests from this address: try again in {seconds} s")
    );
    let (status, _, _) = exchange_from(&api.app, "198.51.100.8:5000", "cairn_rt_x").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "another address is not held up"
    );
}

#[tokio::test]
async fn an_expired_api_token_is_answered_invalid_grant_saying_it_has_expired() {
    let dir = tempfile::tempdir().unwrap();
    let store = cairn_store::SqlStore::open(&format!(
        "sqlite://{}",
        dir.path().join("cairn.db").display()
    ))
    .await
    .unwrap();
    let clock = Arc::new(cairn_core::testkit::ManualClock::at("2026-11-24T12:00:00Z"));
    let services = Services::builder(Arc::new(store), clock.clone(), SiteConfig::default())
        .engine(Arc::new(FakeEngine::default()))
        .build();
    let scope = cairn_core::Scope::trusted(services.start().await.unwrap());
    let admin = services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let (_, refresh) = services
        .create_api_token_for(&admin.id, "CI", Some(chrono::Duration::days(30)))
        .await
        .unwrap();
    let app = router(Console::new(services.clone(), scope.place()));
    let (status, _, body) = exchange_from(&app, "192.0.2.1:4000", &refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    clock.advance(chrono::Duration::days(30));
    let (status, _, body) = exchange_from(&app, "192.0.2.1:4000", &refresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "the refresh token has expired"})
    );
}

#[tokio::test]
async fn a_job_is_edited_with_put_and_a_bad_edit_names_each_field() {
    let api = api().await;
    let jobs = format!(
        "/orchestrate/v1/organizations/{}/projects/{}/jobs",
        api.scope.organization_id, api.scope.project_id
    );
    let body = json!({
        "type": "ScheduledBackup", "description": "My Hourly Backup", "schedule": "0 */1 * * *",
        "data": {"clusterId": api.cluster, "description": "{cluster} hourly", "maxBackupCount": 2}
    });
    let (_, created, _) = api.call("POST", &jobs, Some(body)).await;
    let one = format!("{jobs}/{}", created["id"].as_str().unwrap());

    let edit = json!({"schedule": "30 2 * * *", "data": {"maxBackupCount": 7}});
    let (status, edited, _) = api.call("PUT", &one, Some(edit)).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let job = &edited["job"];
    assert_eq!(
        (
            &job["schedule"],
            &job["data"]["maxBackupCount"],
            &job["description"]
        ),
        (&json!("30 2 * * *"), &json!(7), &json!("My Hourly Backup"))
    );
    assert_eq!(job["data"]["clusterId"], api.cluster.as_str());

    let bad = json!({"schedule": "often", "data": {"maxBackupCount": 0}});
    let (status, problem, _) = api.call("PUT", &one, Some(bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["fields"]["schedule"].is_string(), "{problem}");
    assert!(
        problem["fields"]["data.maxBackupCount"].is_string(),
        "{problem}"
    );
    let (status, problem, _) = api
        .call("PUT", &one, Some(json!({"data": {"clusterId": "c1"}})))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the cluster cannot change: {problem}"
    );
    let (status, _, _) = api
        .call_as(
            Some(&api.viewer),
            "PUT",
            &one,
            Some(json!({"description": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_backup_restores_by_id_alone_into_another_project_of_its_organization_for_roles_in_both()
{
    let api = api().await;
    let (_, created, _) = api.create("nightly").await;
    let backup = created["id"].as_str().unwrap().to_owned();
    api.services.settle().await;
    let org = api.scope.organization_id.to_string();
    let (status, project, _) = api
        .call(
            "POST",
            &format!("/resources/v1/organizations/{org}/projects"),
            Some(json!({"name": "billing"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let other = project["id"].as_str().unwrap().to_owned();
    let (status, network, _) = api
        .call(
            "POST",
            &format!("/infra/v1/organizations/{org}/projects/{other}/networks"),
            Some(json!({"provider": "local", "region": "local-1", "description": "billing"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{network}");
    // Kurrent Cloud's request: the backup by id, the cluster in the URL's project.
    let request = json!({
        "description": "restored in billing", "networkId": network["id"],
        "topology": "single-node", "instanceType": "F1", "diskSizeGb": 16,
        "diskType": "local-ssd", "serverVersion": "24.10", "projectionLevel": "off",
        "sourceBackupId": backup
    });
    let clusters = format!("/mesdb/v1/organizations/{org}/projects/{other}/clusters");

    // An operator of the target alone does not see the source's backup.
    let other_id = cairn_model::ProjectId::parse(&other).unwrap();
    api.services
        .create_user(
            "billing@example.com",
            PASSWORD,
            Role::Operator,
            &api.scope.organization_id,
            Some(&other_id),
        )
        .await
        .unwrap();
    let billing = access_token(&api.services, "billing@example.com").await;
    let (status, problem, _) = api
        .call_as(Some(&billing), "POST", &clusters, Some(request.clone()))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(
        problem["fields"]["sourceBackupId"]
            .as_str()
            .is_some_and(|m| m.contains("was not found")),
        "{problem}"
    );

    // The organization's admin operates in both: the cluster is made in the URL's project.
    let (status, created, _) = api.call("POST", &clusters, Some(request)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    api.services.settle().await;
    let id = created["id"].as_str().unwrap();
    let (status, got, _) = api.call("GET", &format!("{clusters}/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["cluster"]["projectId"], other.as_str());
    assert_eq!(got["cluster"]["sourceBackupId"], backup.as_str());
    let (status, _, _) = api
        .call("GET", &format!("{}/clusters/{id}", api.base()), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not in the backup's project");
}
