//! The HTTP surface, assembled: Leptos pages (server-rendered, then hydrated), server functions, the
//! built assets, and a health probe.

use crate::app::{shell, App};
use crate::server::Console;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Json, Router};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::time::Duration;
use tower_http::timeout::TimeoutLayer;

/// No request waits forever. Leptos 0.8.23 still has a rare lost wake-up in `<Suspense>` during
/// server rendering (the family of leptos#4851 / #4673, about 2 % of renders on a loaded machine
/// in our router tests): such a render never ends. With this limit the user gets an answer and
/// a reload renders the page.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the router; `options.site_root` is where the browser assets are served from.
pub fn router(console: Console, options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let api = crate::server::api::router(console.clone());
    let gate =
        axum::middleware::from_fn_with_state(console.clone(), crate::server::auth::signed_in_only);
    let sessions = Router::new()
        .route("/login", post(crate::server::auth::sign_in))
        .route("/logout", post(crate::server::auth::sign_out))
        .route("/setup", post(crate::server::auth::set_up))
        .with_state(console.clone());
    let metrics_console = console.clone();
    let live_console = console.clone();
    let context = move || provide_context(console.clone());
    Router::new()
        .merge(api)
        .merge(sessions)
        // `/` is not a page of its own: the console opens on the clusters list.
        .route("/", get(|| async { Redirect::temporary("/clusters") }))
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .route_layer(axum::middleware::from_fn_with_state(
            metrics_console.clone(),
            crate::server::metrics::time_requests,
        ))
        // After the request timer (a stream lasts minutes), inside the sign-in gate.
        .route(
            "/live",
            get(crate::server::live::events).with_state(live_console),
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        // Which project a page, a server function call or the live stream names (see
        // server/project.rs); inside the sign-in gate.
        .layer(axum::middleware::from_fn(
            crate::server::project::named_project,
        ))
        .layer(gate)
        // Outside the sign-in gate: monitoring is loopback or its own token (see metrics.rs).
        .route(
            "/metrics",
            get(crate::server::metrics::metrics).with_state(metrics_console),
        )
        .layer(axum::middleware::from_fn(same_site_posts_only))
        // Every body at most 1 MiB, answered 413 (see bodies.rs).
        .layer(axum::middleware::from_fn(
            crate::server::bodies::unsized_bodies_read_first,
        ))
        .layer(crate::server::bodies::limit())
        // Outermost, so that reading a body counts too: a client sending one byte every
        // few seconds is cut off like any other slow request.
        .layer(time_limit())
        .with_state(options)
}

/// Server functions change things, and a page on another site could post a form to them
/// (cross-site request forgery). Browsers say where a request comes from: posts that another
/// site made are refused. Tools (curl, the tests' API client) send neither header and pass.
async fn same_site_posts_only(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, Method, StatusCode};
    use axum::response::IntoResponse;
    if request.method() == Method::POST {
        let headers = request.headers();
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let cross_site =
            text(header::HeaderName::from_static("sec-fetch-site")) == Some("cross-site");
        let foreign_origin = match (text(header::ORIGIN), text(header::HOST)) {
            (Some(origin), Some(host)) if origin != "null" => {
                origin.split_once("://").map(|(_, authority)| authority) != Some(host)
            }
            _ => false,
        };
        if cross_site || foreign_origin {
            return (
                StatusCode::FORBIDDEN,
                "Cairn refuses changes requested by another site's page.",
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// Answers 503 to any request still running after [`REQUEST_TIMEOUT`].
fn time_limit() -> TimeoutLayer {
    TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::Config;
    use axum::body::{to_bytes, Body};
    use axum::http::{header, Request, StatusCode};
    use std::collections::HashMap;
    use tower::ServiceExt;

    const PASSWORD: &str = "correct horse battery";

    /// A router over a fresh data directory, and the session cookie of its first admin
    /// (none when `admin` is false: nobody exists yet).
    struct TestApp {
        router: Router,
        cookie: String,
        dir: tempfile::TempDir,
    }

    async fn app_with(admin: bool) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut env = HashMap::from([(
            "CAIRN_DATA_DIR".to_string(),
            dir.path().to_str().unwrap().to_string(),
        )]);
        if admin {
            env.insert("CAIRN_ADMIN_EMAIL".into(), "ops@example.com".into());
            env.insert("CAIRN_ADMIN_PASSWORD".into(), PASSWORD.into());
        }
        let config = Config::load(&env, None).unwrap();
        let console = crate::server::open(&config).await.unwrap();
        let options = LeptosOptions::builder()
            .output_name("cairn")
            .site_root(dir.path().to_str().unwrap())
            .build();
        let mut app = TestApp {
            router: router(console, options),
            cookie: String::new(),
            dir,
        };
        if admin {
            app.cookie = sign_in(&app, "ops@example.com", PASSWORD).await.unwrap();
        }
        app
    }

    async fn app() -> TestApp {
        app_with(true).await
    }

    async fn post_form(app: &TestApp, path: &str, form: &str) -> axum::response::Response {
        app.router
            .clone()
            .oneshot(
                Request::post(path)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::COOKIE, app.cookie.as_str())
                    .body(Body::from(form.to_owned()))
                    .unwrap(),
            )
            .await
            .unwrap()
    }

    /// The `name=value` of the session cookie a response sets, if any.
    fn session_cookie(response: &axum::response::Response) -> Option<String> {
        response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("cairn_session=") && !v.contains("Max-Age=0"))
            .map(|v| v.split(';').next().unwrap().to_owned())
    }

    async fn sign_in(app: &TestApp, email: &str, password: &str) -> Option<String> {
        let form = format!(
            "email={}&password={}&next=%2Fjobs",
            crate::components::url_encode(email),
            crate::components::url_encode(password)
        );
        session_cookie(&post_form(app, "/login", &form).await)
    }

    async fn get(app: &TestApp, path: &str) -> (StatusCode, String, Option<String>) {
        // A render caught by the upstream race (see REQUEST_TIMEOUT) never ends: wait a bounded
        // time and try once more. Only a hang is retried, never a wrong answer.
        let request = || {
            app.router.clone().oneshot(
                Request::get(path)
                    .header(header::COOKIE, app.cookie.as_str())
                    .body(Body::empty())
                    .unwrap(),
            )
        };
        let response = match tokio::time::timeout(Duration::from_secs(10), request()).await {
            Ok(response) => response.unwrap(),
            Err(_) => {
                eprintln!("{path}: render hung (upstream Leptos race); retrying once");
                tokio::time::timeout(Duration::from_secs(10), request())
                    .await
                    .expect("a second render also hung")
                    .unwrap()
            }
        };
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap(), location)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_live_stream_is_an_event_stream_for_the_signed_in_and_a_sign_in_for_others() {
        let mut app = app().await;
        let response = app
            .router
            .clone()
            .oneshot(
                Request::get("/live")
                    .header(header::COOKIE, app.cookie.as_str())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/event-stream"
        );

        app.cookie.clear();
        let (status, _, location) = get(&app, "/live").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location.as_deref(), Some("/login?next=%2Flive"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_root_redirects_to_the_clusters_page() {
        let app = app().await;
        let (status, _, location) = get(&app, "/").await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(location.as_deref(), Some("/clusters"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_networks_page_is_rendered_on_the_server_with_the_seeded_networks() {
        let app = app().await;
        let (status, html, _) = get(&app, "/networks").await;
        assert_eq!(status, StatusCode::OK);
        for expected in ["local-1 network", "local-2 network", "available"] {
            assert!(html.contains(expected), "{expected} missing from {html}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_audit_page_shows_who_signed_in_and_filters_with_a_plain_get_form() {
        let app = app().await;
        let (status, html, _) = get(&app, "/audit").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(r#"<form method="get" action="/audit""#),
            "a filter that works without JavaScript: {html}"
        );
        assert!(html.contains(r#"data-action="session.sign-in""#), "{html}");
        assert!(html.contains("ops@example.com"), "{html}");
        assert!(
            html.contains(r#"href="/audit""#),
            "the navigation links to it"
        );
        let (status, html, _) = get(&app, "/audit?action=backup").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Nothing matches"), "{html}");
        assert!(
            html.contains(r#"<option value="backup" selected"#),
            "the form keeps what was asked: {html}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_clusters_page_shows_its_empty_state() {
        let app = app().await;
        let (status, html, _) = get(&app, "/clusters").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("No clusters yet"), "{html}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unknown_page_answers_404_inside_the_console_layout() {
        let app = app().await;
        let (status, html, _) = get(&app, "/no-such-page").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("Page not found"), "{html}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_still_running_after_the_limit_is_answered_503() {
        let slow = Router::new()
            .route(
                "/slow",
                axum::routing::get(|| async {
                    tokio::time::sleep(REQUEST_TIMEOUT * 2).await;
                    "too late"
                }),
            )
            .layer(time_limit());
        // Not through `get`: its own hang guard would fire first on the paused clock.
        let response = slow
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_post_from_another_sites_page_is_refused_and_our_own_goes_through() {
        let app = app().await;
        let post = |origin: Option<&str>, site: Option<&str>| {
            let mut request = Request::post("/api/networks/list")
                .header(header::HOST, "127.0.0.1:3000")
                .header(header::COOKIE, app.cookie.as_str());
            if let Some(origin) = origin {
                request = request.header(header::ORIGIN, origin);
            }
            if let Some(site) = site {
                request = request.header("sec-fetch-site", site);
            }
            app.router
                .clone()
                .oneshot(request.body(Body::empty()).unwrap())
        };
        let status = |r: Result<axum::response::Response, _>| r.unwrap().status();
        assert_eq!(
            status(post(Some("https://evil.example"), None).await),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(post(None, Some("cross-site")).await),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(post(Some("http://127.0.0.1:3000"), Some("same-origin")).await),
            StatusCode::OK
        );
        assert_eq!(status(post(None, None).await), StatusCode::OK);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_health_probe_answers_ok() {
        let app = app().await;
        let (status, body, _) = get(&app, "/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, r#"{"status":"ok"}"#);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_a_session_pages_send_to_sign_in_and_come_back_after() {
        let mut app = app().await;
        app.cookie.clear();
        let (status, _, location) = get(&app, "/jobs").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location.as_deref(), Some("/login?next=%2Fjobs"));
        let (status, html, _) = get(&app, "/login?next=%2Fjobs").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Sign in to Cairn"), "{html}");

        let refused = post_form(&app, "/login", "email=ops%40example.com&password=wrong").await;
        assert_eq!(session_cookie(&refused), None);
        let back = refused.headers()[header::LOCATION].to_str().unwrap();
        assert!(back.starts_with("/login?failed=1"), "{back}");

        let response = post_form(
            &app,
            "/login",
            "email=ops%40example.com&password=correct+horse+battery&next=%2Fjobs",
        )
        .await;
        assert_eq!(response.headers()[header::LOCATION], "/jobs");
        let cookie = session_cookie(&response).expect("a session cookie");
        let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        app.cookie = cookie;
        let (status, html, _) = get(&app, "/jobs").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("ops@example.com"),
            "the page names who is signed in"
        );

        let out = post_form(&app, "/logout", "").await;
        assert_eq!(out.headers()[header::LOCATION], "/login");
        let (status, _, _) = get(&app, "/jobs").await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "the session ended on the server too"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_function_without_a_session_is_refused() {
        let mut app = app().await;
        app.cookie.clear();
        let response = post_form(&app, "/api/networks/list", "").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_first_admin_is_made_on_the_setup_page_with_the_code_from_the_data_directory() {
        let mut app = app_with(false).await;
        let (status, _, location) = get(&app, "/clusters").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location.as_deref(), Some("/setup"));
        let (_, html, _) = get(&app, "/setup").await;
        assert!(html.contains("Set up Cairn"), "{html}");

        let code = std::fs::read_to_string(app.dir.path().join("setup-code")).unwrap();
        let wrong = post_form(
            &app,
            "/setup",
            "code=aaaa-bbbb-cccc&email=ops%40example.com&password=correct+horse+battery",
        )
        .await;
        let back = wrong.headers()[header::LOCATION].to_str().unwrap();
        assert!(back.contains("field=code"), "{back}");
        assert_eq!(session_cookie(&wrong), None);

        let short = post_form(
            &app,
            "/setup",
            &format!("code={code}&email=ops%40example.com&password=short"),
        )
        .await;
        let back = short.headers()[header::LOCATION].to_str().unwrap();
        assert!(back.contains("field=password"), "{back}");

        let done = post_form(
            &app,
            "/setup",
            &format!("code={code}&email=ops%40example.com&password=correct+horse+battery"),
        )
        .await;
        assert_eq!(done.headers()[header::LOCATION], "/clusters");
        app.cookie = session_cookie(&done).expect("signed in at once");
        let (status, _, _) = get(&app, "/clusters").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !app.dir.path().join("setup-code").exists(),
            "the code is spent"
        );

        // Setup is over: the code no longer makes admins.
        let mut stranger = post_form(
            &app,
            "/setup",
            &format!("code={code}&email=x%40example.com&password=correct+horse+battery"),
        )
        .await;
        assert_eq!(session_cookie(&stranger), None);
        assert_eq!(
            stranger.headers_mut().remove(header::LOCATION).unwrap(),
            "/login"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_viewer_sees_pages_but_cannot_change_anything() {
        let mut app = app().await;
        let (services, scope) = {
            let config = Config::load(
                &HashMap::from([(
                    "CAIRN_DATA_DIR".to_string(),
                    app.dir.path().to_str().unwrap().to_string(),
                )]),
                None,
            )
            .unwrap();
            let store = cairn_store::SqlStore::open(&config.database_url)
                .await
                .unwrap();
            let services = cairn_core::Services::builder(
                std::sync::Arc::new(store),
                std::sync::Arc::new(cairn_core::SystemClock),
                config.site,
            )
            .build();
            let scope = services.seed().await.unwrap();
            (services, scope)
        };
        services
            .create_user(
                "viewer@example.com",
                PASSWORD,
                cairn_model::Role::Viewer,
                &scope.organization_id,
                Some(&scope.project_id),
            )
            .await
            .unwrap();
        app.cookie = sign_in(&app, "viewer@example.com", PASSWORD).await.unwrap();
        let (status, html, _) = get(&app, "/networks").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("viewer"), "the role is shown");
        let response = post_form(&app, "/api/clusters/delete", "id=c1ev3l5o0aeu6ojco7b0").await;
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("this needs operator"), "{body}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_integrations_and_events_pages_render_on_the_server() {
        let app = app().await;
        let (status, html, _) = get(&app, "/integrations").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("No integrations yet") && html.contains("Add integration"),
            "{html}"
        );
        let (status, html, _) = get(&app, "/events").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Nothing has happened yet"), "{html}");
        let (status, _, _) = get(&app, "/integrations/c0000000000000000000").await;
        assert_eq!(
            status,
            StatusCode::OK,
            "an unknown id renders the console's error panel"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lists_render_their_filters_from_the_address_and_say_what_is_wrong_with_it() {
        let app = app().await;
        let (status, html, _) = get(&app, "/events?status=open&q=disk").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("No events match"), "{html}");
        assert!(
            html.contains(r#"name="q""#) && html.contains(r#"value="disk""#),
            "the form shows the filter the address carries: {html}"
        );
        let (_, html, _) = get(&app, "/backups?q=nothing").await;
        assert!(html.contains("No backups match"), "{html}");
        let (_, html, _) = get(&app, "/events?pageToken=nope").await;
        assert!(html.contains("is not a page token"), "{html}");
        let (_, html, _) = get(&app, "/jobs?pageSize=0").await;
        assert!(html.contains("from 1 to 500"), "{html}");
    }
}
