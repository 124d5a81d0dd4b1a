//! The whole router against abuse of its doors, and the account page's forms: bodies past
//! the limit, password changes, other sessions, token lifetimes.

use super::bodies::MAX_REQUEST_BODY;
use super::config::Config;
use crate::router::router;
use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use leptos::config::LeptosOptions;
use std::collections::HashMap;
use std::time::Duration;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

struct App {
    router: Router,
    _dir: tempfile::TempDir,
}

async fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let env = HashMap::from([
        (
            "CAIRN_DATA_DIR".to_string(),
            dir.path().to_str().unwrap().to_string(),
        ),
        ("CAIRN_ADMIN_EMAIL".into(), "ops@example.com".into()),
        ("CAIRN_ADMIN_PASSWORD".into(), PASSWORD.into()),
    ]);
    let config = Config::load(&env, None).unwrap();
    let console = super::open(&config).await.unwrap();
    let options = LeptosOptions::builder()
        .output_name("cairn")
        .site_root(dir.path().to_str().unwrap())
        .build();
    App {
        router: router(console, options),
        _dir: dir,
    }
}

impl App {
    async fn send(&self, request: Request<Body>) -> axum::response::Response {
        tokio::time::timeout(
            Duration::from_secs(20),
            self.router.clone().oneshot(request),
        )
        .await
        .expect("an answer")
        .unwrap()
    }

    async fn post(&self, path: &str, cookie: &str, form: &str) -> axum::response::Response {
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookie)
                .body(Body::from(form.to_owned()))
                .unwrap(),
        )
        .await
    }

    /// A page's status and HTML. A render caught by the upstream Leptos race (see
    /// `REQUEST_TIMEOUT`) is tried once more.
    async fn page(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let request = || {
            self.router.clone().oneshot(
                Request::get(path)
                    .header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
        };
        let response = match tokio::time::timeout(Duration::from_secs(10), request()).await {
            Ok(response) => response.unwrap(),
            Err(_) => tokio::time::timeout(Duration::from_secs(10), request())
                .await
                .expect("a second render also hung")
                .unwrap(),
        };
        let status = response.status();
        let body = to_bytes(response.into_body(), 4 << 20).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    /// Signs in; the `cairn_session=…` cookie.
    async fn sign_in(&self, password: &str) -> Option<String> {
        let form = format!(
            "email=ops%40example.com&password={}",
            crate::components::url_encode(password)
        );
        let response = self.post("/login", "", &form).await;
        response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("cairn_session=") && !v.contains("Max-Age=0"))
            .map(|v| v.split(';').next().unwrap().to_owned())
    }

    async fn signed_in(&self, cookie: &str) -> bool {
        let (status, _) = self.page("/account", cookie).await;
        status == StatusCode::OK
    }
}

fn location(response: &axum::response::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_past_one_mebibyte_is_answered_413_on_server_functions_and_the_api_alike() {
    let app = app().await;
    let cookie = app.sign_in(PASSWORD).await.unwrap();
    let big = vec![b'a'; 2 << 20];
    for path in [
        "/api/networks/list",
        "/api/account/password",
        "/resources/v1/organizations",
        "/oauth/token",
        "/login",
    ] {
        // As a client that says its size, and as one that does not say (the limit then
        // stops the reading as it passes the limit).
        let sized = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::CONTENT_LENGTH, big.len())
            .header(header::COOKIE, cookie.as_str())
            .body(Body::from(big.clone()))
            .unwrap();
        assert_eq!(
            app.send(sized).await.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}, sized"
        );
        let unsized_ = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie.as_str())
            .body(Body::from(big.clone()))
            .unwrap();
        assert_eq!(
            app.send(unsized_).await.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}, without a length"
        );
    }
    // A body just under the limit is read (and refused for what it says, not its size).
    let fits = format!("id={}", "a".repeat(MAX_REQUEST_BODY - 3));
    let response = app.post("/api/clusters/delete", &cookie, &fits).await;
    assert_ne!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // And the server goes on serving.
    let (status, _) = app.page("/healthz", "").await;
    assert_eq!(status, StatusCode::OK);
    let response = app.post("/api/networks/list", &cookie, "").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_page_changes_the_password_and_signs_out_every_other_session() {
    let app = app().await;
    let here = app.sign_in(PASSWORD).await.unwrap();
    let laptop = app.sign_in(PASSWORD).await.unwrap();
    let (status, html) = app.page("/account", &here).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Change password") && html.contains("in 1 other place"),
        "{html}"
    );

    let new = "a much longer passphrase";
    let mismatch = format!(
        "current_password={}&new_password={}&repeat_password=something+else",
        crate::components::url_encode(PASSWORD),
        crate::components::url_encode(new)
    );
    let response = app.post("/api/account/password", &here, &mismatch).await;
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert!(
        String::from_utf8_lossy(&body).contains("repeatPassword"),
        "{body:?}"
    );
    assert!(app.signed_in(&laptop).await, "nothing changed yet");

    let change = format!(
        "current_password={}&new_password={n}&repeat_password={n}",
        crate::components::url_encode(PASSWORD),
        n = crate::components::url_encode(new)
    );
    let response = app.post("/api/account/password", &here, &change).await;
    assert!(
        location(&response).starts_with("/account?notice=Password+changed")
            || location(&response).starts_with("/account?notice=Password%20changed"),
        "{}",
        location(&response)
    );
    assert!(app.signed_in(&here).await, "this session stays");
    assert!(!app.signed_in(&laptop).await, "the other one ended");
    assert!(app.sign_in(PASSWORD).await.is_none());
    let phone = app.sign_in(new).await.expect("the new password works");

    let response = app
        .post("/api/account/sessions/end-others", &here, "")
        .await;
    assert!(
        location(&response).starts_with("/account?notice="),
        "{response:?}"
    );
    assert!(!app.signed_in(&phone).await);
    assert!(app.signed_in(&here).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_made_on_the_tokens_page_with_a_lifetime_is_listed_with_its_end() {
    let app = app().await;
    let cookie = app.sign_in(PASSWORD).await.unwrap();
    let (_, html) = app.page("/account/tokens", &cookie).await;
    assert!(
        html.contains("In 30 days") && html.contains("Never (until revoked)"),
        "{html}"
    );
    let response = app
        .post(
            "/api/account/tokens/create",
            &cookie,
            "description=CI+backups&expires_in=30d",
        )
        .await;
    assert_eq!(location(&response), "/account/tokens");
    let response = app
        .post(
            "/api/account/tokens/create",
            &cookie,
            "description=esc&expires_in=400d",
        )
        .await;
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert!(
        String::from_utf8_lossy(&body).contains("a token lasts from 1 hour to 366 days"),
        "{body:?}"
    );
    let (_, html) = app.page("/account/tokens", &cookie).await;
    let row = &html[html.find(">CI backups<").expect("the token is listed")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert_eq!(
        row.matches("<time").count(),
        2,
        "made, and ends (never used yet): {row}"
    );
    assert!(row.contains("active"), "{row}");
}
