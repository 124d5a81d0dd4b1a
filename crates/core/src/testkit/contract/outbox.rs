//! The contract of events, issues and the outbox of deliveries.

use super::{instance, Database};
use crate::testkit::FakeEngine;
use std::sync::Arc;

pub async fn the_outbox_claims_each_due_delivery_once_and_one_issue_stays_open_per_condition(
    db: &dyn Database,
) {
    use cairn_model::{
        Delivery, DeliveryId, DeliveryStatus, Event, EventId, EventKind, EventSource,
        IntegrationRequest, IssueStatus, Sink,
    };
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(db, &engine).await;
    let store = db.open().await;
    let integration = services
        .create_integration(
            &scope,
            &IntegrationRequest {
                description: "ops".into(),
                source: EventSource::Issues,
                data: Sink::Webhook {
                    url: "https://hooks.example.com/x".into(),
                    secret: "0123456789abcdef0123".into(),
                },
            },
        )
        .await
        .unwrap();
    let read = services
        .get_integration(&scope, &integration.id)
        .await
        .unwrap();
    assert_eq!(
        read, integration,
        "the sink and its secret read back exactly"
    );

    let now: chrono::DateTime<chrono::Utc> = "2026-11-24T12:00:00.5Z".parse().unwrap();
    let id = |n: u8| format!("c1ev3l5o0aeu6ojco{n:02}0");
    let issue = |n: u8| Event {
        id: EventId::parse(&id(n)).unwrap(),
        organization_id: scope.organization_id.clone(),
        project_id: scope.project_id.clone(),
        kind: EventKind::Issue,
        category: "cluster-unhealthy".into(),
        subject: "Cluster orders is degraded".into(),
        message: "…".into(),
        resource_id: "c1ev3l5o0aeu6ojco7zz".into(),
        status: Some(IssueStatus::Open),
        created: now,
        closed: None,
    };
    let delivery = |n: u8, event: &Event| Delivery {
        id: DeliveryId::parse(&id(n)).unwrap(),
        integration_id: integration.id.clone(),
        event_id: event.id.clone(),
        summary: "Issue: Cluster orders is degraded".into(),
        announces: Some(IssueStatus::Open),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt: Some(now),
        last_error: None,
        created: now,
        delivered: None,
    };
    let first = issue(10);
    store
        .record_event(&first, &[delivery(20, &first), delivery(21, &first)])
        .await
        .unwrap();
    // Another instance opening the same issue adds nothing.
    let twin = issue(11);
    store
        .record_event(&twin, &[delivery(22, &twin)])
        .await
        .unwrap();
    assert_eq!(
        store.open_issues().await.unwrap(),
        std::slice::from_ref(&first)
    );

    let lease = now + chrono::TimeDelta::seconds(30);
    let early = store
        .claim_deliveries(now - chrono::TimeDelta::milliseconds(1), lease, 10)
        .await
        .unwrap();
    assert!(early.is_empty(), "not due yet");
    let (a, b) = tokio::join!(
        store.claim_deliveries(now, lease, 10),
        store.claim_deliveries(now, lease, 10)
    );
    let mut claimed = [a.unwrap(), b.unwrap()].concat();
    assert_eq!(claimed.len(), 2, "each due delivery claimed exactly once");
    claimed.sort_by(|x, y| x.id.cmp(&y.id));

    let mut delivered = claimed[0].clone();
    delivered.status = DeliveryStatus::Delivered;
    delivered.attempts = 1;
    delivered.next_attempt = None;
    delivered.delivered = Some(now);
    store.finish_delivery(&delivered).await.unwrap();
    let mut retry = claimed[1].clone();
    retry.attempts = 1;
    retry.last_error = Some("the webhook answered 500".into());
    retry.next_attempt = Some(now + chrono::TimeDelta::seconds(1));
    store.finish_delivery(&retry).await.unwrap();
    let again = store
        .claim_deliveries(now + chrono::TimeDelta::seconds(2), lease, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, retry.id);
    assert_eq!(again[0].last_error, retry.last_error);

    assert!(store.close_issue(&first.id, now, &[]).await.unwrap());
    assert!(
        !store.close_issue(&first.id, now, &[]).await.unwrap(),
        "closed once"
    );
    assert!(store.open_issues().await.unwrap().is_empty());
    let log = store.deliveries(&integration.id, 10).await.unwrap();
    assert_eq!(log.len(), 2);

    let mut done = again[0].clone();
    done.status = DeliveryStatus::Delivered;
    done.attempts = 2;
    done.next_attempt = None;
    store.finish_delivery(&done).await.unwrap();

    // Ninety days on: what finished goes; what is still pending stays.
    let later = now + chrono::TimeDelta::days(91);
    let note = Event {
        id: EventId::parse(&id(12)).unwrap(),
        kind: EventKind::Notification,
        category: "backup-failed".into(),
        status: None,
        ..issue(12)
    };
    let pending = Delivery {
        next_attempt: Some(later),
        ..delivery(23, &note)
    };
    store.record_event(&note, &[pending]).await.unwrap();
    assert_eq!(
        store.prune_events(later).await.unwrap(),
        1,
        "the closed issue went"
    );
    let log = store.deliveries(&integration.id, 10).await.unwrap();
    assert_eq!(log.len(), 1, "only the pending delivery is left: {log:?}");
    assert!(
        store.event(&note.id).await.unwrap().is_some(),
        "its event stays with it"
    );

    services
        .delete_integration(&scope, &integration.id)
        .await
        .unwrap();
    let log = store.deliveries(&integration.id, 10).await.unwrap();
    assert!(
        log.iter().all(|d| d.status != DeliveryStatus::Pending),
        "a deleted integration's deliveries are not sent: {log:?}"
    );
    assert!(services.list_integrations(&scope).await.unwrap().is_empty());
}
