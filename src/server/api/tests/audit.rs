//! `GET …/projects/{project}/audit`: what was done through the API, by which token, from
//! where, and how it went; paged, filtered, and the addresses only for those who may see them.

use super::*;

/// A GET from a client address, as a TCP peer.
async fn get_from(api: &Api, token: &str, peer: &str, path: &str) -> (StatusCode, Value) {
    let mut request = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let peer: std::net::SocketAddr = peer.parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    let response = api.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A call with a body from a client address.
async fn send_from(api: &Api, peer: &str, method: &str, path: &str, body: Value) -> StatusCode {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", api.token))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let peer: std::net::SocketAddr = peer.parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    api.app.clone().oneshot(request).await.unwrap().status()
}

fn audit_path(api: &Api, query: &str) -> String {
    format!(
        "/resources/v1/organizations/{}/projects/{}/audit{query}",
        api.scope.organization_id, api.scope.project_id
    )
}

#[tokio::test]
async fn the_audit_says_what_a_token_did_from_where_newest_first_in_pages() {
    let api = api().await;
    let peer = "192.0.2.7:40000";
    let backups = format!("{}/backups", api.base());
    let body = json!({ "sourceClusterId": api.cluster, "description": "{cluster} by CI" });
    assert_eq!(
        send_from(&api, peer, "POST", &backups, body).await,
        StatusCode::CREATED
    );
    api.services.settle().await;
    let backup = api.services.list_backups(&api.scope).await.unwrap()[0].clone();
    assert_eq!(
        backup.created_by.as_deref(),
        Some("ops@example.com"),
        "a token's backup is its user's"
    );
    let one = format!("{backups}/{}", backup.id);
    assert_eq!(
        send_from(&api, peer, "DELETE", &one, json!({})).await,
        StatusCode::OK
    );
    let locked = json!({ "sourceClusterId": "c1ev3l5o0aeu6ojco7b0", "description": "x" });
    assert_eq!(
        send_from(&api, peer, "POST", &backups, locked).await,
        StatusCode::NOT_FOUND
    );
    api.services.settle().await;

    let (status, page) =
        get_from(&api, &api.token, peer, &audit_path(&api, "?action=backup")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let entries = page["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["backup.create", "backup.delete", "backup.create"]);
    assert!(page["nextPageToken"].is_null());
    let refused = &entries[0];
    assert_eq!(refused["outcome"]["result"], "refused");
    assert_eq!(refused["outcome"]["kind"], "not-found");
    let deleted = &entries[1];
    assert_eq!(deleted["resourceKind"], "backup");
    assert_eq!(deleted["resourceId"], backup.id.as_str());
    assert_eq!(deleted["outcome"], json!({ "result": "ok" }));
    assert_eq!(deleted["actor"]["kind"], "token");
    assert_eq!(deleted["actor"]["name"], "tests");
    assert_eq!(deleted["actor"]["email"], "ops@example.com");
    assert_eq!(deleted["address"], "192.0.2.7");
    assert_eq!(deleted["projectId"], api.scope.project_id.as_str());

    // A viewer reads who did it, not from where.
    let (status, seen) =
        get_from(&api, &api.viewer, peer, &audit_path(&api, "?action=backup")).await;
    assert_eq!(status, StatusCode::OK);
    let seen = seen["entries"].as_array().unwrap();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|e| e["address"].is_null()), "{seen:?}");
    assert_eq!(seen[1]["actor"]["email"], "ops@example.com");

    // Page by page, by the person behind the token.
    let first = audit_path(&api, "?actor=ops%40example.com&action=backup&pageSize=2");
    let (_, page) = get_from(&api, &api.token, peer, &first).await;
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    let token = page["nextPageToken"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let next = audit_path(
        &api,
        &format!("?actor=ops%40example.com&action=backup&pageSize=2&pageToken={token}"),
    );
    let (_, page) = get_from(&api, &api.token, peer, &next).await;
    let rest = page["entries"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["resourceId"], backup.id.as_str());
    assert!(page["nextPageToken"].is_null());
    let of_backup = audit_path(&api, &format!("?resource={}", backup.id));
    let (_, page) = get_from(&api, &api.token, peer, &of_backup).await;
    assert_eq!(page["entries"].as_array().unwrap().len(), 2, "{page}");
}

#[tokio::test]
async fn a_bad_page_size_or_page_token_is_400_naming_the_parameter() {
    let api = api().await;
    for (query, field) in [
        ("?pageSize=0", "pageSize"),
        ("?pageSize=201", "pageSize"),
        ("?pageSize=many", "pageSize"),
        ("?pageToken=not-ours", "pageToken"),
    ] {
        let (status, problem, content_type) = api.call("GET", &audit_path(&api, query), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {problem}");
        assert_eq!(content_type, "application/problem+json");
        assert!(problem["fields"][field].is_string(), "{query}: {problem}");
    }
}

#[tokio::test]
async fn a_viewers_delete_is_403_and_recorded_as_refused_by_them() {
    let api = api().await;
    let backup = api
        .services
        .create_backup(&api.scope, &api.cluster, "kept")
        .await
        .unwrap();
    api.services.settle().await;
    let one = format!("{}/backups/{}", api.base(), backup.id);
    let (status, problem, _) = api.call_as(Some(&api.viewer), "DELETE", &one, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .ends_with("this needs operator"),
        "{problem}"
    );
    // A body the edge cannot read is the same 403 (nothing about the body); one it can read
    // goes to the use case, which refuses it and records that.
    let backups = format!("{}/backups", api.base());
    let (status, problem, _) = api
        .call_as(Some(&api.viewer), "POST", &backups, Some(json!({ "x": 1 })))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(problem["fields"].is_null(), "{problem}");
    let body = json!({ "sourceClusterId": api.cluster, "description": "mine" });
    let (status, problem, _) = api
        .call_as(Some(&api.viewer), "POST", &backups, Some(body))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    api.services.settle().await;

    let (status, page) = get_from(
        &api,
        &api.token,
        "192.0.2.7:40000",
        &audit_path(&api, "?action=backup"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let entries = page["entries"].as_array().unwrap();
    let by_viewer: Vec<&Value> = entries
        .iter()
        .filter(|e| e["actor"]["email"] == "viewer@example.com")
        .collect();
    let actions: Vec<&str> = by_viewer
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["backup.create", "backup.delete"],
        "newest first; the unreadable body never reached the use case: {page}"
    );
    let deleted = by_viewer[1];
    assert_eq!(deleted["resourceId"], backup.id.as_str());
    assert_eq!(deleted["actor"]["kind"], "token");
    assert_eq!(deleted["outcome"]["result"], "refused");
    assert_eq!(deleted["outcome"]["kind"], "forbidden");
    assert!(
        deleted["outcome"]["message"]
            .as_str()
            .unwrap()
            .ends_with("this needs operator"),
        "{deleted}"
    );
    assert_eq!(by_viewer[0]["outcome"]["kind"], "forbidden");
    let kept = api
        .services
        .get_backup(&api.scope, &backup.id)
        .await
        .unwrap();
    assert_eq!(kept.status, cairn_model::BackupStatus::Available);
}
