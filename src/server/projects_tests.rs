//! The console in the project its address names: pages, server functions, redirects and the
//! live stream, through the whole router (SQLite, the fake engine), with two projects.

use crate::router::router;
use crate::server::Console;
use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use cairn_core::testkit::FakeEngine;
use cairn_core::{Actor, Place, Scope, Services, SiteConfig, SystemClock};
use cairn_model::{Backup, Cluster, Network, Permission, Project, Role};
use leptos::config::LeptosOptions;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

/// The default project A with a cluster "alpha orders" and an available backup of it, and
/// project B ("Billing") with a network and a cluster "billing ledger"; the admin of the
/// whole organization signed in.
struct World {
    router: Router,
    services: Services,
    a: Place,
    b: Project,
    cluster_b: Cluster,
    backup_a: Backup,
    network_b: Network,
    cookie: String,
    _dir: tempfile::TempDir,
}

async fn cluster_in(services: &Services, scope: &Scope, network: &Network, name: &str) -> Cluster {
    let request = cairn_model::CreateClusterRequest {
        description: name.into(),
        ..cairn_core::testkit::cluster_request(network.id.clone())
    };
    let cluster = services.create_cluster(scope, &request).await.unwrap();
    services.settle().await;
    cluster
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = cairn_store::SqlStore::open(&format!(
        "sqlite://{}",
        dir.path().join("cairn.db").display()
    ))
    .await
    .unwrap();
    let services = Services::builder(
        Arc::new(store),
        Arc::new(SystemClock),
        SiteConfig::default(),
    )
    .engine(Arc::new(FakeEngine::default()))
    .build();
    let a = services.start().await.unwrap();
    let in_a = Scope::trusted(a.clone());
    let network_a = services.list_networks(&in_a).await.unwrap()[0].clone();
    let cluster_a = cluster_in(&services, &in_a, &network_a, "alpha orders").await;
    let backup_a = services
        .create_backup(&in_a, &cluster_a.id, "alpha nightly")
        .await
        .unwrap();
    services.settle().await;

    let admin = services
        .create_first_admin("ops@example.com", PASSWORD)
        .await
        .unwrap();
    let options = LeptosOptions::builder()
        .output_name("cairn")
        .site_root(dir.path().to_str().unwrap())
        .build();
    let router = router(Console::new(services.clone(), a.clone()), options);
    let cookie = sign_in(&router, "ops@example.com").await;
    let principal = services
        .session_principal(cookie.trim_start_matches("cairn_session="))
        .await
        .unwrap();
    assert_eq!(principal.user().id, admin.id);
    let b = services
        .create_project(
            &Actor::Person(Arc::new(principal.clone())),
            &a.organization_id,
            "Billing",
        )
        .await
        .unwrap();
    let in_b = services
        .authorize(&principal, &a.organization_id, &b.id, Permission::Operate)
        .await
        .unwrap();
    let network_b = services
        .create_network(
            &in_b,
            &cairn_core::CreateNetworkRequest {
                provider: "local".into(),
                region: network_a.region.clone(),
                description: "billing network".into(),
                public_access: false,
                cidr_block: None,
            },
        )
        .await
        .unwrap();
    let cluster_b = cluster_in(&services, &in_b, &network_b, "billing ledger").await;
    World {
        router,
        services,
        a,
        b,
        cluster_b,
        backup_a,
        network_b,
        cookie,
        _dir: dir,
    }
}

/// Signs in through the form; the `cairn_session=…` cookie.
async fn sign_in(router: &Router, email: &str) -> String {
    let form = format!(
        "email={}&password={}",
        crate::components::url_encode(email),
        crate::components::url_encode(PASSWORD)
    );
    let response = router
        .clone()
        .oneshot(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await
        .unwrap();
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cairn_session=") && !v.contains("Max-Age=0"))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("signed in")
}

struct Answer {
    status: StatusCode,
    body: String,
    location: Option<String>,
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = tokio::time::timeout(Duration::from_secs(20), router.clone().oneshot(request))
        .await
        .expect("an answer")
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = to_bytes(response.into_body(), 4 << 20).await.unwrap();
    Answer {
        status,
        body: String::from_utf8(body.to_vec()).unwrap(),
        location,
    }
}

impl World {
    /// A page as `cookie` sees it. A render caught by the upstream Leptos race (see
    /// `REQUEST_TIMEOUT`) is tried once more.
    async fn page_as(&self, cookie: &str, path: &str) -> Answer {
        let request = || {
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap()
        };
        match tokio::time::timeout(Duration::from_secs(10), send(&self.router, request())).await {
            Ok(answer) => answer,
            Err(_) => send(&self.router, request()).await,
        }
    }

    async fn page(&self, path: &str) -> Answer {
        self.page_as(&self.cookie, path).await
    }

    /// A server function called as a plain form posts it (no JavaScript: it redirects).
    async fn post_as(&self, cookie: &str, path: &str, form: &str) -> Answer {
        send(
            &self.router,
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookie)
                .body(Body::from(form.to_owned()))
                .unwrap(),
        )
        .await
    }

    fn b(&self) -> String {
        self.b.id.to_string()
    }
}

/// The values of every `name="…"` attribute of the HTML (`href`, `action`).
fn attributes<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!("{name}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_under_project_b_shows_bs_clusters_and_not_as() {
    let w = world().await;
    let in_b = w.page(&format!("/clusters?project={}", w.b())).await;
    assert_eq!(in_b.status, StatusCode::OK);
    assert!(in_b.body.contains("billing ledger"), "{}", in_b.body);
    assert!(
        !in_b.body.contains("alpha orders"),
        "A's cluster leaked into B"
    );

    let unnamed = w.page("/clusters").await;
    assert!(
        unnamed.body.contains("alpha orders"),
        "no project named: the first"
    );
    assert!(!unnamed.body.contains("billing ledger"));

    let networks = w.page(&format!("/networks?project={}", w.b())).await;
    assert!(networks.body.contains("billing network"));
    assert!(!networks.body.contains("local-1 network"));

    // The server function the page's browser would call, with the project in its form.
    let listed = send(
        &w.router,
        Request::post("/api/clusters/list")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, w.cookie.as_str())
            .body(Body::from(format!("project={}", w.b())))
            .unwrap(),
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert!(listed.body.contains("billing ledger") && !listed.body.contains("alpha orders"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_link_and_form_of_a_page_in_project_b_carries_the_project_on() {
    let w = world().await;
    let b = w.b();
    let pages = [
        "/clusters".to_owned(),
        format!("/clusters/{}", w.cluster_b.id),
        format!("/clusters/{}/backup", w.cluster_b.id),
        "/clusters/new".to_owned(),
        "/backups".to_owned(),
        "/jobs".to_owned(),
        "/networks".to_owned(),
        "/integrations".to_owned(),
        "/events".to_owned(),
        "/audit".to_owned(),
        "/account".to_owned(),
        "/account/tokens".to_owned(),
    ];
    for path in pages {
        let page = w.page(&format!("{path}?project={b}")).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        for href in attributes(&page.body, "href") {
            let ours = href.starts_with('/') && !href.starts_with("/pkg/") && !href.contains('.');
            if ours {
                assert!(
                    href.contains("project="),
                    "{path}: link {href} drops the project"
                );
            }
        }
        // GET forms' fields are their query, POST forms' reach the server function: each
        // carries the project as a hidden field (signing out is no project's).
        let forms =
            page.body.matches("<form").count() - page.body.matches("action=\"/logout\"").count();
        let carried = page
            .body
            .matches(&format!("name=\"project\" value=\"{b}\""))
            .count();
        assert!(
            carried >= forms,
            "{path}: {forms} forms, {carried} carry the project"
        );
    }
    // The switcher lists both projects, and the sidebar says where the page works.
    let page = w
        .page(&format!("/clusters/{}?project={b}", w.cluster_b.id))
        .await;
    assert!(page.body.contains("data-testid=\"project-switcher\""));
    assert!(
        page.body
            .contains(&format!("href=\"/clusters?project={}\"", w.a.project_id)),
        "switching from a cluster's page goes to the other project's list"
    );
    assert!(page.body.contains("Cairn / Billing"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_without_a_role_is_refused_clearly_and_shows_no_data() {
    let w = world().await;
    w.services
        .create_user(
            "viewer@example.com",
            PASSWORD,
            Role::Viewer,
            &w.a.organization_id,
            Some(&w.a.project_id),
        )
        .await
        .unwrap();
    let viewer = sign_in(&w.router, "viewer@example.com").await;
    let page = w
        .page_as(&viewer, &format!("/clusters?project={}", w.b()))
        .await;
    assert!(
        page.body
            .contains(&format!("project {} was not found", w.b())),
        "{}",
        page.body
    );
    assert!(!page.body.contains("billing ledger"));
    let call = w
        .post_as(
            &viewer,
            "/api/clusters/get",
            &format!("id={}&project={}", w.cluster_b.id, w.b()),
        )
        .await;
    assert!(!call.body.contains("billing ledger"), "{}", call.body);
    let live = w
        .page_as(&viewer, &format!("/live?project={}", w.b()))
        .await;
    assert_eq!(live.status, StatusCode::NOT_FOUND);
    let junk = w.page_as(&viewer, "/clusters?project=nonsense").await;
    assert!(junk.body.contains("is not a project id"), "{}", junk.body);

    // Someone whose only role is in B works there when no project is named.
    w.services
        .create_user(
            "billing@example.com",
            PASSWORD,
            Role::Viewer,
            &w.a.organization_id,
            Some(&w.b.id),
        )
        .await
        .unwrap();
    let billing = sign_in(&w.router, "billing@example.com").await;
    let page = w.page_as(&billing, "/clusters").await;
    assert!(page.body.contains("billing ledger"), "{}", page.body);
    assert!(!page.body.contains("alpha orders"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_form_in_project_b_comes_back_to_project_b() {
    let w = world().await;
    let renamed = w
        .post_as(
            &w.cookie,
            "/api/clusters/change",
            &format!(
                "project={}&id={}&edit=rename&value=billing+ledger+2",
                w.b(),
                w.cluster_b.id
            ),
        )
        .await;
    let location = renamed.location.expect("a redirect");
    assert!(
        location.starts_with(&format!("/clusters/{}?project={}", w.cluster_b.id, w.b())),
        "{location}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_project_a_restores_into_project_b_from_the_restore_form() {
    let w = world().await;
    let form = w
        .page(&format!(
            "/backups/{}/restore?target={}",
            w.backup_a.id,
            w.b()
        ))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("billing network"),
        "B's networks are offered"
    );
    assert!(!form.body.contains("local-1 network"), "not A's");
    assert!(
        form.body.contains("(the backup&#x27;s project)")
            || form.body.contains("(the backup's project)")
    );
    assert!(form
        .body
        .contains(&format!("name=\"project\" value=\"{}\"", w.b())));

    let backup = w
        .services
        .get_backup(&Scope::trusted(w.a.clone()), &w.backup_a.id)
        .await
        .unwrap();
    let request = [
        format!("project={}", w.b()),
        format!("request[sourceBackupProjectId]={}", w.a.project_id),
        format!("request[sourceBackupId]={}", backup.id),
        "request[description]=restored+in+billing".into(),
        format!("request[networkId]={}", w.network_b.id),
        "request[topology]=single-node".into(),
        "request[instanceType]=c4".into(),
        format!("request[diskSizeGb]={}", backup.size_gb),
        "request[diskType]=local-ssd".into(),
        format!("request[serverVersion]={}", backup.server_version),
        "request[projectionLevel]=system".into(),
    ]
    .join("&");
    let created = w.post_as(&w.cookie, "/api/clusters/create", &request).await;
    let location = created
        .location
        .unwrap_or_else(|| panic!("{}", created.body));
    assert!(
        location.contains(&format!("project={}", w.b())),
        "{location}"
    );
    w.services.settle().await;

    let page = w.page(location.split("&notice").next().unwrap()).await;
    assert!(page.body.contains("restored in billing"), "{}", page.body);
    assert!(
        page.body
            .contains("restored from alpha nightly in Default project"),
        "{}",
        page.body
    );
    let in_a = w.page("/clusters").await;
    assert!(!in_a.body.contains("restored in billing"), "it lives in B");
}
