//! Console sign-in: the session cookie, the pages' gate, and the first-start setup.
//!
//! Pages and server functions need a session (`cairn_session`, HttpOnly, SameSite=Lax); the
//! gate puts the signed-in [`Principal`] into the request for them, or sends the browser to
//! `/login` (to `/setup` while nobody exists). The REST API has its own gate (Bearer tokens).

use super::Console;
use axum::extract::{Form, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cairn_core::Principal;
use serde::Deserialize;
use std::path::Path;

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

/// `POST /login`.
pub async fn sign_in(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = local_next(form.next.as_deref());
    match console.services.sign_in(&form.email, &form.password).await {
        Ok((_, secret)) => signed_in(&secret, is_https(&headers), &next),
        Err(error) => {
            if error.kind() != cairn_core::ErrorKind::Unauthenticated {
                tracing::error!(%error, "sign-in failed");
            }
            Redirect::to(&format!(
                "/login?failed=1&email={}&next={}",
                crate::components::url_encode(form.email.trim()),
                crate::components::url_encode(&next)
            ))
            .into_response()
        }
    }
}

/// `POST /logout`.
pub async fn sign_out(State(console): State<Console>, headers: HeaderMap) -> Response {
    if let Some(secret) = session_secret(&headers) {
        if let Err(error) = console.services.sign_out(&secret).await {
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
pub async fn set_up(
    State(console): State<Console>,
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
            match console.services.sign_in(&user.email, &form.password).await {
                Ok((_, secret)) => signed_in(&secret, is_https(&headers), "/clusters"),
                Err(_) => Redirect::to("/login").into_response(),
            }
        }
        Err(cairn_core::Error::Invalid(fields)) => {
            let (field, message) = fields.into_iter().next().unwrap_or_default();
            back(&field, &message)
        }
        Err(cairn_core::Error::Conflict(_)) => Redirect::to("/login").into_response(),
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
fn same_secret(given: &str, expected: &str) -> bool {
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

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abcd-1234", "abcd-1234"));
        assert!(!same_secret("abcd-1235", "abcd-1234"));
        assert!(!same_secret("abcd", "abcd-1234"));
    }
}
