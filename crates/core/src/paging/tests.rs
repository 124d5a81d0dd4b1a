use crate::testkit::{fixture, SnapshotBehaviour};
use crate::ErrorKind;
use cairn_model::{PageQuery, PageRequest, PageToken};

fn query(status: Option<&str>, cluster: Option<&str>, job: Option<&str>) -> PageRequest {
    PageQuery {
        status: status.map(str::to_owned),
        cluster_id: cluster.map(str::to_owned),
        job_id: job.map(str::to_owned),
        ..Default::default()
    }
    .request()
    .unwrap()
}

fn fields(error: crate::Error) -> Vec<String> {
    match error {
        crate::Error::Invalid(fields) => fields.into_keys().collect(),
        other => panic!("not invalid: {other}"),
    }
}

#[tokio::test]
async fn a_status_word_a_list_does_not_know_is_refused_naming_status_and_the_words_it_takes() {
    let f = fixture().await;
    let error = f
        .services
        .page_backups(&f.scope, &query(Some("deleted"), None, None))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("creating, available"), "{error}");
    assert_eq!(fields(error), ["status"]);
    for (status, ok) in [("running", true), ("available", false)] {
        let answer = f
            .services
            .page_jobs(&f.scope, None, &query(Some(status), None, None))
            .await;
        assert_eq!(answer.is_ok(), ok, "{status}");
    }
    let error = f
        .services
        .page_events(&f.scope, &query(Some("succeeded"), None, None))
        .await
        .unwrap_err();
    assert_eq!(fields(error), ["status"]);
}

#[tokio::test]
async fn a_filter_a_list_does_not_take_is_refused_rather_than_ignored() {
    let f = fixture().await;
    let error = f
        .services
        .page_jobs(
            &f.scope,
            None,
            &query(None, None, Some("c10dvoarh41lb9otkdrg")),
        )
        .await
        .unwrap_err();
    assert_eq!(fields(error), ["jobId"]);
}

#[tokio::test]
async fn runs_of_a_job_that_is_not_the_projects_are_not_found() {
    let f = fixture().await;
    for job in ["c10dvoarh41lb9otkdrg", "not-an-id"] {
        let error = f
            .services
            .page_history(&f.scope, &query(None, None, Some(job)))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound, "{job}");
    }
}

#[tokio::test]
async fn a_backup_being_taken_is_paged_with_its_progress_and_filtered_by_status() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.services
        .create_backup(&f.scope, &cluster.id, "done")
        .await
        .unwrap();
    f.services.settle().await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let running = f
        .services
        .create_backup(&f.scope, &cluster.id, "running")
        .await
        .unwrap();
    let creating = f
        .services
        .page_backups(&f.scope, &query(Some("creating"), None, None))
        .await
        .unwrap();
    assert_eq!(creating.items.len(), 1);
    assert_eq!(creating.items[0].id, running.id);
    assert_eq!(
        creating.items[0].progress,
        f.services
            .get_backup(&f.scope, &running.id)
            .await
            .unwrap()
            .progress
    );
    assert_eq!(creating.next_token, None, "the last page says so");
    f.engine.release_snapshots();
    f.services.settle().await;
}

#[tokio::test]
async fn a_jobs_page_carries_each_jobs_cluster_name_and_its_groups_count_its_backups() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let job = f
        .services
        .create_job(
            &f.scope,
            &cairn_model::CreateJobRequest {
                description: "hourly".into(),
                schedule: "0 * * * *".into(),
                data: cairn_model::ScheduledBackupData {
                    cluster_id: cluster.id.clone(),
                    description: "{cluster} #{index}".into(),
                    max_backup_count: 5,
                },
            },
        )
        .await
        .unwrap();
    for _ in 0..2 {
        f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        f.services.settle().await;
    }
    let page = f
        .services
        .page_job_overviews(&f.scope, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].cluster_description.as_deref(), Some("orders"));
    assert!(page.items[0].last_run.is_some());
    let groups = f.services.backup_job_groups(&f.scope).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].summary(), "hourly - 2 backups - 2 available");

    let runs = f
        .services
        .page_history(&f.scope, &query(None, Some(cluster.id.as_str()), None))
        .await
        .unwrap();
    assert_eq!(runs.items.len(), 2, "runs of the cluster's jobs");
    let mut one = query(None, None, Some(job.id.as_str()));
    one.size = 1;
    let first = f.services.page_history(&f.scope, &one).await.unwrap();
    let token = first.next_token.expect("a second page");
    one.token = Some(PageToken::decode(&token, one.order).unwrap());
    let second = f.services.page_history(&f.scope, &one).await.unwrap();
    assert!(first.items[0].start_time >= second.items[0].start_time);
    assert_ne!(first.items[0].id, second.items[0].id);
}
