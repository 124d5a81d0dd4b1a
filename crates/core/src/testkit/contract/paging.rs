//! The contract of lists read a page at a time (keyset): every row once, in order, while rows
//! are written between reads; filters; tokens that are not tokens.

use super::{available_cluster, hourly_job, instance, Database};
use crate::testkit::FakeEngine;
use crate::{ErrorKind, Scope, Services, Store};
use cairn_model::{
    Backup, BackupId, BackupStatus, Event, EventId, EventKind, HistoryId, HistoryItem,
    HistoryStatus, IssueStatus, Order, Page, PageQuery, PageRequest, PageToken, RawId,
};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashSet;
use std::sync::Arc;

/// Ids no one else mints: their own machine part, and a counter.
fn raw(at: DateTime<Utc>, n: u32) -> RawId {
    RawId::from_parts(at.timestamp() as u32, [0xca, 0x1e, 0x5d], 12, n)
}

/// A copy of `template` as another backup, made at `at`.
fn backup_like(template: &Backup, at: DateTime<Utc>, n: u32, label: &str) -> Backup {
    Backup {
        id: BackupId::from_raw(raw(at, n)),
        created: at,
        description: label.to_owned(),
        ..template.clone()
    }
}

/// One real backup of a real cluster, to copy.
async fn world(db: &dyn Database) -> (Services, Scope, Arc<dyn Store>, Backup) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    let template = services
        .create_backup(&scope, &cluster.id, "template")
        .await
        .unwrap();
    services.settle().await;
    let template = services.get_backup(&scope, &template.id).await.unwrap();
    (services, scope, db.open().await, template)
}

fn request(size: u32, order: Order) -> PageRequest {
    PageRequest {
        size,
        order,
        ..Default::default()
    }
}

/// The next page's request, or none after the last page.
fn next(request: &PageRequest, page_token: Option<&str>) -> Option<PageRequest> {
    let token = PageToken::decode(page_token?, request.order).expect("a token of this list");
    Some(PageRequest {
        token: Some(token),
        ..request.clone()
    })
}

pub async fn pages_cover_every_backup_once_in_order_while_backups_are_added_between_reads(
    db: &dyn Database,
) {
    let (_services, scope, store, template) = world(db).await;
    let start = template.created + TimeDelta::seconds(10);
    let mut n = 0;
    // 31 backups, two of each second (the id orders those two), plus the template.
    for i in 0..31 {
        n += 1;
        let at = start + TimeDelta::seconds(i / 2) + TimeDelta::milliseconds(250);
        store
            .insert_backup(&backup_like(&template, at, n, &format!("paged #{i}")))
            .await
            .unwrap();
    }
    for order in [Order::Desc, Order::Asc] {
        let existing: HashSet<BackupId> = store
            .backups(&scope.project_id)
            .await
            .unwrap()
            .into_iter()
            .map(|b| b.id)
            .collect();
        assert!(existing.len() >= 32, "{}", existing.len());
        let mut seen: Vec<(DateTime<Utc>, BackupId)> = Vec::new();
        let mut asking = Some(request(7, order));
        let mut pages = 0;
        while let Some(now) = asking {
            let page: Page<Backup> = store.backups_page(&scope.project_id, &now).await.unwrap();
            assert!(page.items.len() <= 7);
            pages += 1;
            seen.extend(page.items.iter().map(|b| (b.created, b.id.clone())));
            // Between two reads, one backup newer than all and one older than all arrive.
            n += 1;
            let newer = start + TimeDelta::days(1) + TimeDelta::seconds(i64::from(n));
            store
                .insert_backup(&backup_like(&template, newer, n, "arrived later"))
                .await
                .unwrap();
            n += 1;
            let older = template.created - TimeDelta::days(1) - TimeDelta::seconds(i64::from(n));
            store
                .insert_backup(&backup_like(&template, older, n, "arrived later"))
                .await
                .unwrap();
            asking = next(&now, page.next_token.as_deref());
            assert!(pages < 100, "the pages never end");
        }
        let ids: Vec<&BackupId> = seen.iter().map(|(_, id)| id).collect();
        let unique: HashSet<&BackupId> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{order:?}: no backup twice");
        for id in &existing {
            assert!(unique.contains(id), "{order:?}: {id} was never listed");
        }
        let in_order = seen.windows(2).all(|w| match order {
            Order::Desc => w[0] > w[1],
            Order::Asc => w[0] < w[1],
        });
        assert!(in_order, "{order:?}: out of order: {seen:?}");
    }
}

pub async fn a_backup_page_token_outlives_its_row_and_pages_are_filtered_as_asked(
    db: &dyn Database,
) {
    let (services, scope, store, template) = world(db).await;
    let cluster = available_cluster(&services, &scope).await;
    let job = hourly_job(&services, &scope, &cluster).await;
    let at = |s: i64| template.created + TimeDelta::seconds(s);
    let rows = [
        backup_like(&template, at(1), 1, "orders NIGHTLY #1"),
        Backup {
            status: BackupStatus::Defunct,
            ..backup_like(&template, at(2), 2, "orders nightly #2")
        },
        Backup {
            source_cluster_id: cluster.id.clone(),
            linked_resource: Some(job.id.clone()),
            ..backup_like(&template, at(3), 3, "orders hourly #1")
        },
        Backup {
            status: BackupStatus::Deleted,
            linked_resource: Some(job.id.clone()),
            ..backup_like(&template, at(4), 4, "orders nightly #3")
        },
        backup_like(&template, at(5), 5, "100% done_"),
    ];
    for row in &rows {
        store.insert_backup(row).await.unwrap();
    }
    let counts = store.job_backup_counts(&scope.project_id).await.unwrap();
    assert_eq!(
        counts,
        [crate::ports::JobBackupCount {
            job_id: job.id.clone(),
            count: 1,
            available: 1,
            newest: at(3),
        }],
        "a job's backups counted, the deleted one not"
    );
    let labels = |page: Page<Backup>| -> Vec<String> {
        page.items.into_iter().map(|b| b.description).collect()
    };
    let filtered =
        |status: Option<&str>, cluster: Option<&str>, job: Option<&str>, q: Option<&str>| {
            let mut request = request(50, Order::Asc);
            request.filters.status = status.map(str::to_owned);
            request.filters.cluster_id = cluster.map(str::to_owned);
            request.filters.job_id = job.map(str::to_owned);
            request.filters.q = q.map(str::to_owned);
            request
        };
    let read = |request: PageRequest| {
        let store = store.clone();
        let project = scope.project_id.clone();
        async move { store.backups_page(&project, &request).await.unwrap() }
    };
    assert_eq!(
        labels(read(filtered(None, None, None, Some("Night"))).await),
        ["orders NIGHTLY #1", "orders nightly #2"],
        "any case; deleted backups are not listed"
    );
    assert_eq!(
        labels(read(filtered(Some("defunct"), None, None, None)).await),
        ["orders nightly #2"]
    );
    assert_eq!(
        labels(read(filtered(None, Some(cluster.id.as_str()), None, None)).await),
        ["orders hourly #1"]
    );
    assert_eq!(
        labels(read(filtered(None, None, Some(job.id.as_str()), None)).await),
        ["orders hourly #1"]
    );
    assert_eq!(
        labels(read(filtered(None, None, None, Some(job.id.as_str()))).await),
        ["orders hourly #1"],
        "the job's id is searched"
    );
    assert_eq!(
        labels(read(filtered(None, None, None, Some(rows[0].id.as_str()))).await),
        ["orders NIGHTLY #1"],
        "the backup's id is searched"
    );
    assert_eq!(
        labels(read(filtered(None, None, None, Some("0%"))).await),
        ["100% done_"],
        "% is itself"
    );
    assert_eq!(
        labels(read(filtered(None, None, None, Some("e_"))).await),
        ["100% done_"],
        "_ is itself"
    );
    assert!(read(filtered(
        Some("available"),
        Some(cluster.id.as_str()),
        Some(job.id.as_str()),
        Some("nightly")
    ))
    .await
    .items
    .is_empty());

    // The first page ends at #2; #2 is deleted before the second page is read.
    let first = read(request(2, Order::Asc)).await;
    assert_eq!(labels(first.clone()), ["template", "orders NIGHTLY #1"]);
    let mut gone = store
        .backup(&scope.project_id, &rows[0].id)
        .await
        .unwrap()
        .unwrap();
    gone.status = BackupStatus::Deleted;
    store.update_backup(&gone).await.unwrap();
    let second = read(next(&request(2, Order::Asc), first.next_token.as_deref()).unwrap()).await;
    assert_eq!(labels(second), ["orders nightly #2", "orders hourly #1"]);
}

pub async fn pages_of_jobs_runs_and_events_cover_each_once_and_are_filtered_as_asked(
    db: &dyn Database,
) {
    let (services, scope, store, template) = world(db).await;
    let cluster = available_cluster(&services, &scope).await;
    let first = hourly_job(
        &services,
        &scope,
        &template_cluster(&services, &scope, &template).await,
    )
    .await;
    let second = hourly_job(&services, &scope, &cluster).await;
    services
        .change_job(&scope, &second.id, crate::lifecycle::JobEvent::Pause)
        .await
        .unwrap();

    // Jobs.
    let ids = |page: &Page<cairn_model::Job>| -> Vec<String> {
        page.items.iter().map(|j| j.id.to_string()).collect()
    };
    let all = store
        .jobs_page(&scope.project_id, None, &request(1, Order::Asc))
        .await
        .unwrap();
    assert_eq!(ids(&all), [first.id.to_string()]);
    let rest = store
        .jobs_page(
            &scope.project_id,
            None,
            &next(&request(1, Order::Asc), all.next_token.as_deref()).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        (ids(&rest), rest.next_token),
        (vec![second.id.to_string()], None)
    );
    let mut paused = request(10, Order::Desc);
    paused.filters.status = Some("paused".into());
    let page = store
        .jobs_page(&scope.project_id, None, &paused)
        .await
        .unwrap();
    assert_eq!(ids(&page), [second.id.to_string()]);
    let mut of_cluster = request(10, Order::Desc);
    of_cluster.filters.cluster_id = Some(cluster.id.to_string());
    let page = store
        .jobs_page(&scope.project_id, None, &of_cluster)
        .await
        .unwrap();
    assert_eq!(ids(&page), [second.id.to_string()]);
    let restore_tests = store
        .jobs_page(
            &scope.project_id,
            Some(cairn_model::JobType::ScheduledRestoreTest),
            &request(10, Order::Desc),
        )
        .await
        .unwrap();
    assert!(restore_tests.items.is_empty());

    // Runs: 9 of the first job, 3 of the second; pages of 5, newest first, while runs start.
    let start = template.created + TimeDelta::minutes(5);
    let run = |job: &cairn_model::Job, i: i64, status: HistoryStatus, details: &str| HistoryItem {
        id: HistoryId::from_raw(raw(start + TimeDelta::seconds(i), 1000 + i as u32)),
        job_id: job.id.clone(),
        organization_id: job.organization_id.clone(),
        project_id: job.project_id.clone(),
        status,
        details: details.to_owned(),
        linked_resource: None,
        start_time: start + TimeDelta::seconds(i),
        end_time: None,
    };
    let mut runs = Vec::new();
    for i in 0..12 {
        let (job, status) = if i % 4 == 3 {
            (&second, HistoryStatus::Failed)
        } else {
            (&first, HistoryStatus::Succeeded)
        };
        runs.push(run(
            job,
            i,
            status,
            &format!("run {i} of {}", job.description),
        ));
    }
    for item in &runs {
        store.insert_history(item).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut asking = Some(request(5, Order::Desc));
    let mut later = 100;
    while let Some(now) = asking {
        let page = store.history_page(&scope.project_id, &now).await.unwrap();
        seen.extend(page.items.iter().map(|h| h.id.clone()));
        later += 1;
        store
            .insert_history(&run(&first, later, HistoryStatus::Started, "started later"))
            .await
            .unwrap();
        asking = next(&now, page.next_token.as_deref());
    }
    let expected: Vec<HistoryId> = runs.iter().rev().map(|h| h.id.clone()).collect();
    // The template's own cluster made no runs; history holds only these, and the ones added.
    seen.retain(|id| expected.contains(id));
    assert_eq!(seen, expected, "each run once, newest first");
    let filtered =
        |status: Option<&str>, job: Option<&str>, cluster: Option<&str>, q: Option<&str>| {
            let mut request = request(50, Order::Desc);
            request.filters.status = status.map(str::to_owned);
            request.filters.job_id = job.map(str::to_owned);
            request.filters.cluster_id = cluster.map(str::to_owned);
            request.filters.q = q.map(str::to_owned);
            request
        };
    let count = |request: PageRequest| {
        let store = store.clone();
        let project = scope.project_id.clone();
        async move {
            store
                .history_page(&project, &request)
                .await
                .unwrap()
                .items
                .len()
        }
    };
    assert_eq!(count(filtered(Some("failed"), None, None, None)).await, 3);
    assert_eq!(
        count(filtered(None, Some(second.id.as_str()), None, None)).await,
        3
    );
    assert_eq!(
        count(filtered(None, None, Some(cluster.id.as_str()), None)).await,
        3
    );
    assert_eq!(
        count(filtered(None, None, None, Some("RUN 1"))).await,
        3,
        "run 1, 10, 11"
    );
    assert_eq!(
        count(filtered(Some("started"), None, None, Some("later"))).await,
        3,
        "one started after each of the three pages"
    );

    // Events: a notification, an open and a closed issue, and a test message (never listed).
    let event =
        |n: i64, kind: EventKind, status: Option<IssueStatus>, category: &str, resource: &str| {
            Event {
                id: EventId::from_raw(raw(start + TimeDelta::seconds(n), 2000 + n as u32)),
                organization_id: scope.organization_id.clone(),
                project_id: scope.project_id.clone(),
                kind,
                category: category.to_owned(),
                subject: format!("{category} subject"),
                message: format!("about {resource}"),
                resource_id: resource.to_owned(),
                status,
                created: start + TimeDelta::seconds(n),
                closed: None,
            }
        };
    let events = [
        event(
            1,
            EventKind::Notification,
            None,
            "backup-failed",
            template.id.as_str(),
        ),
        event(
            2,
            EventKind::Issue,
            Some(IssueStatus::Open),
            "cluster-unhealthy",
            cluster.id.as_str(),
        ),
        event(
            3,
            EventKind::Issue,
            Some(IssueStatus::Closed),
            "job-overdue",
            second.id.as_str(),
        ),
        event(4, EventKind::Notification, None, "test", "an integration"),
    ];
    for e in &events {
        store.record_event(e, &[]).await.unwrap();
    }
    let categories =
        |status: Option<&str>, cluster: Option<&str>, job: Option<&str>, q: Option<&str>| {
            let mut request = request(2, Order::Desc);
            request.filters.status = status.map(str::to_owned);
            request.filters.cluster_id = cluster.map(str::to_owned);
            request.filters.job_id = job.map(str::to_owned);
            request.filters.q = q.map(str::to_owned);
            let store = store.clone();
            let project = scope.project_id.clone();
            async move {
                let mut all = Vec::new();
                let mut asking = Some(request);
                while let Some(now) = asking {
                    let page = store.events_page(&project, &now).await.unwrap();
                    all.extend(page.items.into_iter().map(|e| e.category));
                    asking = next(&now, page.next_token.as_deref());
                }
                all
            }
        };
    assert_eq!(
        categories(None, None, None, None).await,
        ["job-overdue", "cluster-unhealthy", "backup-failed"],
        "newest first, over two pages, without the test message"
    );
    assert_eq!(
        categories(Some("notification"), None, None, None).await,
        ["backup-failed"]
    );
    assert_eq!(
        categories(Some("open"), None, None, None).await,
        ["cluster-unhealthy"]
    );
    assert_eq!(
        categories(Some("closed"), None, None, None).await,
        ["job-overdue"]
    );
    assert_eq!(
        categories(None, Some(cluster.id.as_str()), None, None).await,
        ["cluster-unhealthy"]
    );
    assert_eq!(
        categories(None, None, Some(second.id.as_str()), None).await,
        ["job-overdue"]
    );
    assert_eq!(
        categories(None, None, None, Some("BACKUP-F")).await,
        ["backup-failed"]
    );
}

/// The cluster the template backup was made of.
async fn template_cluster(
    services: &Services,
    scope: &Scope,
    template: &Backup,
) -> cairn_model::Cluster {
    services
        .get_cluster(scope, &template.source_cluster_id)
        .await
        .unwrap()
}

pub async fn a_page_token_that_is_not_one_or_of_the_other_order_is_refused_naming_it(
    db: &dyn Database,
) {
    let (services, scope, _store, _template) = world(db).await;
    let refused = |query: PageQuery| {
        let services = services.clone();
        let scope = scope.clone();
        async move {
            let error = match crate::paging::page_request(&query) {
                Err(error) => error,
                Ok(request) => services.page_backups(&scope, &request).await.unwrap_err(),
            };
            assert_eq!(error.kind(), ErrorKind::Invalid);
            match error {
                crate::Error::Invalid(fields) => fields.into_keys().collect::<Vec<_>>(),
                _ => unreachable!(),
            }
        }
    };
    assert_eq!(
        refused(PageQuery {
            page_token: Some("not-a-token".into()),
            ..Default::default()
        })
        .await,
        ["pageToken"]
    );
    let page = services
        .page_backups(&scope, &PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.next_token.as_deref()), (1, None));
    // A token as a newest-first page makes it, given to an oldest-first read.
    let token = PageToken {
        created: page.items[0].created,
        id: page.items[0].id.to_string(),
    }
    .encode(Order::Desc);
    assert_eq!(
        refused(PageQuery {
            page_token: Some(token),
            order: Some("asc".into()),
            ..Default::default()
        })
        .await,
        ["pageToken"]
    );
    assert_eq!(
        refused(PageQuery {
            page_size: Some("501".into()),
            ..Default::default()
        })
        .await,
        ["pageSize"]
    );
}
