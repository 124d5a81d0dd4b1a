//! Console sign-in: the session cookie, the pages' gate, and the first-start setup.
//!
//! Pages and server functions need a session (`cairn_session`, HttpOnly, SameSite=Lax); the
//! gate puts the signed-in [`Principal`] into the request for them, or sends the browser to
//! `/login` (to `/setup` while nobody exists). The REST API has its own gate (Bearer tokens).

use super::throttle::{self, ClientAddress, Throttle};
use super::Console;
use axum::extract::{ConnectInfo, Form, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cairn_core::Principal;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

pub const SESSION_COOKIE: &str = "cairn_session";
/// Where a setup code waits for the operator when no admin was configured.
pub const SETUP_CODE_FILE: &str = "setup-code";

/// Paths anyone may open: the sign-in and setup pages and their posts, the assets, the
/// health probe, and the REST API (which checks its own Bearer tokens).
fn is_public(path: &str) -> bool {
    const EXACT: &[&str] = &[
        "/login",
        "/setup",
        "/logout",
        "/healthz",
        "/favicon.svg",
        "/favicon.ico",
        "/oauth/token",
        "/openapi.json",
    ];
    const PREFIXES: &[&str] = &[
        "/pkg/",
        "/resources/",
        "/infra/",
        "/mesdb/",
        "/orchestrate/",
        "/integrate/",
    ];
    EXACT.contains(&path) || PREFIXES.iter().any(|p| path.starts_with(p))
}

/// The value of the cookie `name` among a request's cookies, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_owned())
}

/// The session secret of a request's cookies, if any.
pub fn session_secret(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// The client's address as the audit records it: the TCP peer's IP (an IPv4 address mapped
/// into IPv6 as IPv4). `X-Forwarded-For` is not trusted, as for the sign-in limits: behind a
/// proxy, the proxy's address is what is recorded.
pub fn peer_address(extensions: &axum::http::Extensions) -> Option<String> {
    let ConnectInfo(peer) = extensions.get::<ConnectInfo<SocketAddr>>()?;
    Some(match peer.ip() {
        std::net::IpAddr::V6(ip) => ip
            .to_ipv4_mapped()
            .map_or_else(|| ip.to_string(), |ip| ip.to_string()),
        ip => ip.to_string(),
    })
}

/// [`peer_address`] as an extractor, for the sign-in doors (which have no principal yet).
pub struct PeerAddress(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PeerAddress(peer_address(&parts.extensions)))
    }
}

/// The gate in front of every page and server function.
pub async fn signed_in_only(
    State(console): State<Console>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if is_public(&path) {
        return next.run(request).await;
    }
    if let Some(secret) = session_secret(request.headers()) {
        if let Ok(principal) = console.services.session_principal(&secret).await {
            let principal = principal.from_address(peer_address(request.extensions()));
            request.extensions_mut().insert(principal);
            return next.run(request).await;
        }
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (
            StatusCode::UNAUTHORIZED,
            "Sign in first: this needs a console session.",
        )
            .into_response();
    }
    let has_users = console.services.has_users().await.unwrap_or(true);
    if !has_users {
        return Redirect::to("/setup").into_response();
    }
    let wanted = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    Redirect::to(&format!(
        "/login?next={}",
        crate::components::url_encode(&wanted)
    ))
    .into_response()
}

/// A local path to go to after signing in (never another site). Browsers drop tabs and
/// newlines from addresses and read `\` as `/`, so `/<tab>/evil` would become `//evil`: any
/// such character, or a space, refuses the path.
fn local_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') =>
        {
            path.to_owned()
        }
        _ => "/clusters".to_owned(),
    }
}

fn session_cookie(secret: &str, https: bool) -> HeaderValue {
    let max_age = cairn_core::access::SESSION_LIFETIME.num_seconds();
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .expect("a session secret is a valid header value")
}

/// Behind a TLS-terminating proxy the cookie must say Secure.
fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn signed_in(secret: &str, https: bool, to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(secret, https));
    response
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`. Attempts are limited per client address and failures per email (see
/// [`throttle`]); a refused one goes back to the form saying how long to wait.
pub async fn sign_in(
    State(console): State<Console>,
    address: ClientAddress,
    PeerAddress(peer): PeerAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = local_next(form.next.as_deref());
    let back = |why: &str| {
        Redirect::to(&format!(
            "/login?{why}&email={}&next={}",
            crate::components::url_encode(form.email.trim()),
            crate::components::url_encode(&next)
        ))
        .into_response()
    };
    let account = throttle::email_key(&form.email);
    let admitted = Throttle::at(&console.throttle.login, |door| {
        door.enter(&address.0, Some(&account), Instant::now())
    });
    if let Err(refused) = admitted {
        tracing::debug!(client.address = %address.0, ?refused, "sign-in attempt refused: too many");
        return back(&format!("wait={}", refused.wait().seconds()));
    }
    let signed_in_now = console
        .services
        .sign_in_from(&form.email, &form.password, peer)
        .await;
    match signed_in_now {
        Ok((_, secret)) => {
            Throttle::at(&console.throttle.login, |door| {
                door.succeeded(&address.0, &account, Instant::now())
            });
            signed_in(&secret, is_https(&headers), &next)
        }
        Err(error) if error.kind() == cairn_core::ErrorKind::Unauthenticated => back("failed=1"),
        Err(error) => {
            Throttle::at(&console.throttle.login, |door| {
                door.not_judged(&account, Instant::now())
            });
            if error.kind() == cairn_core::ErrorKind::Unavailable {
                back("busy=1")
            } else {
                tracing::error!(%error, "sign-in failed");
                back("failed=1")
            }
        }
    }
}

/// `POST /logout`.
pub async fn sign_out(
    State(console): State<Console>,
    PeerAddress(peer): PeerAddress,
    headers: HeaderMap,
) -> Response {
    if let Some(secret) = session_secret(&headers) {
        if let Err(error) = console.services.sign_out_from(&secret, peer).await {
            tracing::error!(%error, "sign-out failed");
        }
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("cairn_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    code: String,
    email: String,
    password: String,
}

/// `POST /setup`: the first admin, by whoever has the setup code from the server's log or
/// data directory (so a stranger who finds a fresh Cairn first cannot take it over).
/// Attempts are limited per client address, like signing in.
pub async fn set_up(
    State(console): State<Console>,
    address: ClientAddress,
    PeerAddress(peer): PeerAddress,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    let back = |field: &str, message: &str| {
        Redirect::to(&format!(
            "/setup?email={}&field={field}&error={}",
            crate::components::url_encode(form.email.trim()),
            crate::components::url_encode(message)
        ))
        .into_response()
    };
    let Some(code) = console.setup_code.as_deref() else {
        return Redirect::to("/login").into_response();
    };
    let admitted = Throttle::at(&console.throttle.setup, |door| {
        door.enter(&address.0, None, Instant::now())
    });
    if let Err(refused) = admitted {
        tracing::debug!(client.address = %address.0, ?refused, "setup attempt refused: too many");
        return Redirect::to(&format!(
            "/setup?email={}&wait={}",
            crate::components::url_encode(form.email.trim()),
            refused.wait().seconds()
        ))
        .into_response();
    }
    if !same_secret(form.code.trim(), code) {
        return back(
            "code",
            "not this server's setup code: it is in the server's log and in the data directory's setup-code file",
        );
    }
    match console
        .services
        .create_first_admin(&form.email, &form.password)
        .await
    {
        Ok(user) => {
            forget_setup_code(console.data_dir.as_deref());
            let signed_in_now = console
                .services
                .sign_in_from(&user.email, &form.password, peer)
                .await;
            match signed_in_now {
                Ok((_, secret)) => signed_in(&secret, is_https(&headers), "/clusters"),
                Err(_) => Redirect::to("/login").into_response(),
            }
        }
        Err(cairn_core::Error::Invalid(fields)) => {
            let (field, message) = fields.into_iter().next().unwrap_or_default();
            back(&field, &message)
        }
        Err(cairn_core::Error::Conflict { .. }) => Redirect::to("/login").into_response(),
        Err(cairn_core::Error::Unavailable(_)) => Redirect::to(&format!(
            "/setup?email={}&busy=1",
            crate::components::url_encode(form.email.trim())
        ))
        .into_response(),
        Err(error) => {
            tracing::error!(%error, "setup failed");
            back(
                "email",
                "the server could not save the admin; its log has the details",
            )
        }
    }
}

/// Compares without stopping at the first difference.
pub(crate) fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// On first start: creates the configured admin, or, when none is configured and nobody
/// exists, makes a setup code (logged, and written to `setup-code` in the data directory).
pub async fn first_start(
    services: &cairn_core::Services,
    first_admin: Option<&(String, String)>,
    data_dir: &Path,
) -> anyhow::Result<Option<String>> {
    if services.has_users().await? {
        forget_setup_code(Some(data_dir));
        if first_admin.is_some() {
            tracing::info!(
                "{} is ignored: users exist already (add more with `cairn user create`)",
                super::config::ADMIN_EMAIL
            );
        }
        return Ok(None);
    }
    if let Some((email, password)) = first_admin {
        let user = services
            .create_first_admin(email, password)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", super::config::ADMIN_EMAIL))?;
        tracing::info!(user.email = %user.email, "first admin created");
        return Ok(None);
    }
    let code = cairn_core::access::setup_code();
    let path = data_dir.join(SETUP_CODE_FILE);
    write_private(&path, &code)?;
    tracing::warn!(
        "nobody can sign in yet: open /setup and enter the setup code {code} (also in {})",
        path.display()
    );
    Ok(Some(code))
}

fn forget_setup_code(data_dir: Option<&Path>) {
    if let Some(dir) = data_dir {
        let _ = std::fs::remove_file(dir.join(SETUP_CODE_FILE));
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// The principal of the request being served (page render or server function).
pub fn principal() -> Option<Principal> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_signing_in() {
        assert_eq!(local_next(Some("/backups?expand=x")), "/backups?expand=x");
        assert_eq!(local_next(Some("//evil.example/")), "/clusters");
        assert_eq!(local_next(Some("https://evil.example/")), "/clusters");
        assert_eq!(local_next(None), "/clusters");
        assert_eq!(local_next(Some("/\t/evil.example")), "/clusters");
        assert_eq!(local_next(Some("/\\evil.example")), "/clusters");
        assert_eq!(local_next(Some("/a\r\nSet-Cookie:x")), "/clusters");
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; cairn_session=cairn_s_abc; x=1"),
        );
        assert_eq!(session_secret(&headers).as_deref(), Some("cairn_s_abc"));
    }

    const PASSWORD: &str = "correct horse battery";

    /// The sign-in and setup routes over a fresh SQLite store with one admin (and, for
    /// setup, a console that still offers it).
    async fn doors(setup_code: Option<&str>) -> (axum::Router, tempfile::TempDir) {
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let store = cairn_store::SqlStore::open(&format!(
            "sqlite://{}",
            dir.path().join("cairn.db").display()
        ))
        .await
        .unwrap();
        let services = cairn_core::Services::builder(
            Arc::new(store),
            Arc::new(cairn_core::SystemClock),
            cairn_core::SiteConfig::default(),
        )
        .engine(Arc::new(cairn_core::testkit::FakeEngine::default()))
        .build();
        let scope = services.start().await.unwrap();
        let mut console = Console::new(services.clone(), scope);
        match setup_code {
            Some(code) => console = console.with_setup_code(code),
            None => {
                services
                    .create_first_admin("ops@example.com", PASSWORD)
                    .await
                    .unwrap();
            }
        }
        let router = axum::Router::new()
            .route("/login", axum::routing::post(sign_in))
            .route("/setup", axum::routing::post(set_up))
            .with_state(console);
        (router, dir)
    }

    /// Posts a form from a client address; where the answer sends the browser, and whether
    /// it signed in.
    async fn post_from(
        router: &axum::Router,
        peer: &str,
        path: &str,
        form: &str,
    ) -> (String, bool) {
        use tower::ServiceExt;
        let mut request = axum::http::Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(form.to_owned()))
            .unwrap();
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let response = router.clone().oneshot(request).await.unwrap();
        let location = response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        (
            location,
            response.headers().contains_key(header::SET_COOKIE),
        )
    }

    fn sign_in_form(email: &str, password: &str) -> String {
        format!(
            "email={}&password={}",
            crate::components::url_encode(email),
            crate::components::url_encode(password)
        )
    }

    /// The seconds of a `wait=N` in an address.
    fn waited(location: &str) -> Option<u64> {
        let (_, rest) = location.split_once("wait=")?;
        rest.split('&').next()?.parse().ok()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sign_ins_beyond_twenty_a_minute_from_one_address_go_back_saying_how_long_to_wait() {
        let (router, _dir) = doors(None).await;
        for n in 0..20 {
            let form = sign_in_form(&format!("guess{n}@example.com"), "wrong password");
            let (location, _) = post_from(&router, "192.0.2.1:40000", "/login", &form).await;
            assert!(
                location.starts_with("/login?failed=1"),
                "attempt {n}: {location}"
            );
        }
        let form = sign_in_form("ops@example.com", PASSWORD);
        let (location, signed_in) = post_from(&router, "192.0.2.1:40001", "/login", &form).await;
        assert!(!signed_in, "refused before the password is looked at");
        assert!(location.starts_with("/login?wait="), "{location}");
        assert!(
            location.contains("email=ops%40example.com"),
            "the form keeps the email: {location}"
        );
        let seconds = waited(&location).unwrap();
        assert!((1..=3).contains(&seconds), "{seconds}");

        let (_, signed_in) = post_from(&router, "192.0.2.2:40000", "/login", &form).await;
        assert!(signed_in, "another address is not held up");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ten_failed_sign_ins_of_an_account_hold_it_back_from_any_address_and_a_success_forgives(
    ) {
        let (router, _dir) = doors(None).await;
        let wrong = sign_in_form("Ops@Example.com", "wrong password");
        let right = sign_in_form("ops@example.com", PASSWORD);
        for n in 0..9 {
            let peer = format!("192.0.2.{n}:40000");
            let (location, _) = post_from(&router, &peer, "/login", &wrong).await;
            assert!(location.starts_with("/login?failed=1"), "{location}");
        }
        let (_, signed_in) = post_from(&router, "192.0.2.50:40000", "/login", &right).await;
        assert!(signed_in, "successes are not counted against the account");
        for n in 0..10 {
            let peer = format!("198.51.100.{n}:40000");
            let (location, _) = post_from(&router, &peer, "/login", &wrong).await;
            assert!(
                location.starts_with("/login?failed=1"),
                "the success forgave the failures before it: {location}"
            );
        }
        let (location, signed_in) = post_from(&router, "203.0.113.1:40000", "/login", &right).await;
        assert!(
            !signed_in,
            "the right password too waits, from a fresh address too"
        );
        let seconds = waited(&location).unwrap();
        assert!((25..=30).contains(&seconds), "{location}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn setup_attempts_beyond_twenty_a_minute_from_one_address_are_refused_and_say_how_long() {
        let (router, _dir) = doors(Some("aaaa-bbbb-cccc")).await;
        let form = format!(
            "code=xxxx-yyyy-zzzz&{}",
            sign_in_form("ops@example.com", PASSWORD)
        );
        for n in 0..20 {
            let (location, _) = post_from(&router, "192.0.2.1:40000", "/setup", &form).await;
            assert!(location.contains("field=code"), "attempt {n}: {location}");
        }
        let right = format!(
            "code=aaaa-bbbb-cccc&{}",
            sign_in_form("ops@example.com", PASSWORD)
        );
        let (location, signed_in) = post_from(&router, "192.0.2.1:40000", "/setup", &right).await;
        assert!(!signed_in);
        assert!(
            location.starts_with("/setup?email=ops%40example.com&wait="),
            "{location}"
        );
        let (location, signed_in) = post_from(&router, "192.0.2.2:40000", "/setup", &right).await;
        assert!(signed_in, "{location}");
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abcd-1234", "abcd-1234"));
        assert!(!same_secret("abcd-1235", "abcd-1234"));
        assert!(!same_secret("abcd", "abcd-1234"));
    }
}
