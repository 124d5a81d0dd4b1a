//! Every API call through the router, on a real SQLite store and the fake engine.

use super::*;
use axum::body::{to_bytes, Body};
use axum::http::{header, Request};
use cairn_core::testkit::{FakeEngine, SnapshotBehaviour};
use cairn_core::{Services, SiteConfig, SystemClock};
use std::sync::Arc;
use tower::ServiceExt;

struct Api {
    app: Router,
    services: Services,
    scope: Scope,
    engine: Arc<FakeEngine>,
    cluster: ClusterId,
    _dir: tempfile::TempDir,
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
    .build();
    let scope = services.start().await.unwrap();
    let network = services.list_networks(&scope).await.unwrap()[0].id.clone();
    let cluster = services
        .create_cluster(&scope, &cairn_core::testkit::cluster_request(network))
        .await
        .unwrap();
    services.settle().await;
    let app = router(Console::new(services.clone(), scope.clone()));
    Api {
        app,
        services,
        scope,
        engine,
        cluster: cluster.id,
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
        let mut request = Request::builder().method(method).uri(path);
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
        .create_project(&api.scope.organization_id, "other")
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
