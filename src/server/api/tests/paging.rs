//! Lists a page at a time through the router: backups, jobs, runs and events, with their
//! tokens, filters and orders; unpaged calls answer exactly as they did before paging.

use super::*;
use cairn_core::EngineError;

impl Api {
    fn orchestrate_base(&self) -> String {
        format!(
            "/orchestrate/v1/organizations/{}/projects/{}",
            self.scope.organization_id, self.scope.project_id
        )
    }

    fn integrate(&self) -> String {
        format!(
            "/integrate/v1/organizations/{}/projects/{}",
            self.scope.organization_id, self.scope.project_id
        )
    }

    /// Every page of `path` (which carries a query), following `nextPageToken`: the items
    /// under `key`, and how many pages there were.
    async fn every_page(&self, path: &str, key: &str) -> (Vec<Value>, usize) {
        let mut items = Vec::new();
        let mut pages = 0;
        let mut token: Option<String> = None;
        loop {
            let asked = match &token {
                Some(token) => format!("{path}&pageToken={token}"),
                None => path.to_owned(),
            };
            let (status, page, _) = self.call("GET", &asked, None).await;
            assert_eq!(status, StatusCode::OK, "{asked}: {page}");
            pages += 1;
            items.extend(page[key].as_array().unwrap().iter().cloned());
            match page.get("nextPageToken") {
                None => break,
                Some(next) => token = Some(next.as_str().expect("a string token").to_owned()),
            }
            assert!(pages < 50, "the pages never end");
        }
        (items, pages)
    }

    /// Makes `n` backups labelled `label #i`, one after the other (the cluster's lock).
    async fn backups(&self, n: usize, label: &str) -> Vec<String> {
        let mut ids = Vec::new();
        for i in 0..n {
            let (status, created, _) = self.create(&format!("{label} #{i}")).await;
            assert_eq!(status, StatusCode::CREATED, "{created}");
            ids.push(created["id"].as_str().unwrap().to_owned());
            self.services.settle().await;
        }
        ids
    }
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn backups_come_a_page_at_a_time_newest_first_each_once_and_the_unpaged_list_is_as_before() {
    let api = api().await;
    let mut made = api.backups(5, "paged").await;
    let (items, pages) = api
        .every_page(&format!("{}/backups?pageSize=2", api.base()), "backups")
        .await;
    assert_eq!(pages, 3, "2 + 2 + 1");
    let listed: Vec<String> = items
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect();
    made.reverse();
    assert_eq!(listed, made, "newest first, each once");
    assert_eq!(items[0]["cancelled"], false, "in the list's wire shape");
    assert_eq!(items[0]["linkedResource"], "");

    let (oldest_first, _) = api
        .every_page(
            &format!("{}/backups?pageSize=4&order=asc", api.base()),
            "backups",
        )
        .await;
    let ascending: Vec<&str> = oldest_first
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    made.reverse();
    assert_eq!(ascending, made);

    let (status, unpaged, _) = api
        .call("GET", &format!("{}/backups", api.base()), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        keys(&unpaged),
        ["backups"],
        "no paging asked, none answered"
    );
    assert_eq!(unpaged["backups"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_bad_page_size_token_order_or_status_is_a_400_naming_each_field() {
    let api = api().await;
    let (status, problem, content_type) = api
        .call(
            "GET",
            &format!(
                "{}/backups?pageSize=501&pageToken=nope!&order=up",
                api.base()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(keys(&problem["fields"]), ["order", "pageSize", "pageToken"]);
    assert!(
        problem["fields"]["pageSize"]
            .as_str()
            .unwrap()
            .contains("1 to 500"),
        "{problem}"
    );
    let (status, problem, _) = api
        .call("GET", &format!("{}/backups?status=lost", api.base()), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["fields"]["status"].is_string(), "{problem}");
    let (status, problem, _) = api
        .call(
            "GET",
            &format!("{}/jobs?jobId=x", api.orchestrate_base()),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "jobs are not filtered by job"
    );
    assert!(problem["fields"]["jobId"].is_string(), "{problem}");

    // A token of one order is not one of the other.
    api.backups(2, "token").await;
    let (_, first, _) = api
        .call("GET", &format!("{}/backups?pageSize=1", api.base()), None)
        .await;
    let token = first["nextPageToken"].as_str().unwrap();
    let (status, problem, _) = api
        .call(
            "GET",
            &format!(
                "{}/backups?pageSize=1&order=asc&pageToken={token}",
                api.base()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(keys(&problem["fields"]), ["pageToken"]);
}

#[tokio::test]
async fn backups_are_filtered_by_text_status_cluster_and_job() {
    let api = api().await;
    api.backups(3, "nightly").await;
    api.backups(2, "weekly").await;
    let (status, page, _) = api
        .call("GET", &format!("{}/backups?q=NIGHT", api.base()), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["backups"].as_array().unwrap().len(), 3);
    assert!(page.get("nextPageToken").is_none(), "the last page");
    let (_, page, _) = api
        .call(
            "GET",
            &format!(
                "{}/backups?status=available&clusterId={}",
                api.base(),
                api.cluster
            ),
            None,
        )
        .await;
    assert_eq!(page["backups"].as_array().unwrap().len(), 5);
    let (_, page, _) = api
        .call(
            "GET",
            &format!("{}/backups?status=defunct", api.base()),
            None,
        )
        .await;
    assert!(page["backups"].as_array().unwrap().is_empty());
    let (_, page, _) = api
        .call(
            "GET",
            &format!("{}/backups?jobId=c10dvoarh41lb9otkdrg", api.base()),
            None,
        )
        .await;
    assert!(
        page["backups"].as_array().unwrap().is_empty(),
        "no such job's"
    );
}

#[tokio::test]
async fn jobs_and_their_runs_are_paged_and_filtered_and_history_by_job_alone_stays_unpaged() {
    let api = api().await;
    let jobs = format!("{}/jobs", api.orchestrate_base());
    let mut ids = Vec::new();
    for description in ["first", "second", "third"] {
        let body = json!({
            "type": "ScheduledBackup", "description": description, "schedule": "0 */1 * * *",
            "data": {"clusterId": api.cluster, "description": "{cluster} #{index}", "maxBackupCount": 5}
        });
        let (status, created, _) = api.call("POST", &jobs, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    api.call("POST", &format!("{jobs}/{}/pause", ids[1]), None)
        .await;
    let (listed, pages) = api.every_page(&format!("{jobs}?pageSize=2"), "jobs").await;
    assert_eq!((listed.len(), pages), (3, 2));
    let (_, paused, _) = api
        .call("GET", &format!("{jobs}?status=paused"), None)
        .await;
    assert_eq!(paused["jobs"][0]["id"], ids[1].as_str());
    assert_eq!(paused["jobs"].as_array().unwrap().len(), 1);
    let (_, unpaged, _) = api.call("GET", &jobs, None).await;
    assert_eq!(keys(&unpaged), ["jobs"]);

    for _ in 0..3 {
        let (status, run, _) = api
            .call("POST", &format!("{jobs}/{}/run", ids[0]), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{run}");
        api.services.settle().await;
    }
    let history = format!("{}/history", api.orchestrate_base());
    let (runs, pages) = api
        .every_page(&format!("{history}?pageSize=1&jobId={}", ids[0]), "items")
        .await;
    assert_eq!((runs.len(), pages), (3, 3));
    assert!(runs
        .windows(2)
        .all(|w| w[0]["startTime"].as_str() >= w[1]["startTime"].as_str()));
    let (_, succeeded, _) = api
        .call(
            "GET",
            &format!("{history}?status=succeeded&q=available"),
            None,
        )
        .await;
    assert_eq!(
        succeeded["items"].as_array().unwrap().len(),
        3,
        "{succeeded}"
    );
    let (_, by_job, _) = api
        .call("GET", &format!("{history}?jobId={}", ids[0]), None)
        .await;
    assert_eq!(keys(&by_job), ["items"]);
    assert_eq!(by_job["items"].as_array().unwrap().len(), 3);
    let (status, _, _) = api
        .call(
            "GET",
            &format!("{history}?pageSize=5&jobId=c10dvoarh41lb9otkdrg"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another project's job, or none"
    );
}

#[tokio::test]
async fn events_are_listed_a_page_at_a_time_and_filtered_by_state() {
    let api = api().await;
    api.engine
        .snapshots(SnapshotBehaviour::Fail(EngineError::Failed(
            "the disk is full".into(),
        )));
    api.backups(3, "failing").await;
    let events = format!("{}/events", api.integrate());
    let (listed, pages) = api
        .every_page(&format!("{events}?pageSize=2"), "events")
        .await;
    assert_eq!((listed.len(), pages), (3, 2), "{listed:?}");
    assert!(listed.iter().all(|e| e["category"] == "backup-failed"));
    assert!(listed.iter().all(|e| e["kind"] == "notification"));
    let (status, open, _) = api
        .call("GET", &format!("{events}?status=open"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(open["events"].as_array().unwrap().is_empty());
    let (_, first, _) = api
        .call("GET", &format!("{events}?q=failing%20%232"), None)
        .await;
    assert_eq!(first["events"].as_array().unwrap().len(), 1, "{first}");
    let (status, _, _) = api.call_as(Some(&api.viewer), "GET", &events, None).await;
    assert_eq!(status, StatusCode::OK, "a viewer reads events");
}
