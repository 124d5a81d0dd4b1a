//! The contract of the audit log: entries read back exactly, by place, filtered and paged.

use super::Database;
use cairn_model::{
    ActorKind, AuditActor, AuditEntry, AuditFilter, AuditId, AuditOutcome, OrganizationId,
    ProjectId, RawId, SiteEntries,
};
use chrono::{DateTime, TimeDelta, Utc};

fn id(seconds: u32, counter: u32) -> String {
    RawId::from_parts(1_790_000_000 + seconds, [0; 3], 0, counter).encode()
}

fn entry(n: u32, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        id: AuditId::parse(&id(n, n)).unwrap(),
        at,
        organization_id: None,
        project_id: None,
        actor: AuditActor {
            kind: ActorKind::User,
            id: id(0, 900),
            name: "alice@example.com".into(),
            email: Some("alice@example.com".into()),
        },
        action: "backup.create".into(),
        resource_kind: "backup".into(),
        resource_id: id(0, 800),
        summary: format!("entry {n}"),
        address: Some("192.0.2.7".into()),
        outcome: AuditOutcome::Ok,
    }
}

pub async fn audit_entries_read_back_newest_first_by_place_filtered_and_paged(db: &dyn Database) {
    let store = db.open().await;
    let organization = OrganizationId::parse(&id(0, 1)).unwrap();
    let project = ProjectId::parse(&id(0, 2)).unwrap();
    let sibling = ProjectId::parse(&id(0, 3)).unwrap();
    let stranger = OrganizationId::parse(&id(0, 4)).unwrap();
    let start: DateTime<Utc> = "2026-11-24T12:00:00.125Z".parse().unwrap();
    let at = |n: i64| start + TimeDelta::milliseconds(250 * n);

    let mut in_project = entry(1, at(1));
    in_project.organization_id = Some(organization.clone());
    in_project.project_id = Some(project.clone());
    let mut by_token = entry(2, at(2));
    by_token.organization_id = Some(organization.clone());
    by_token.project_id = Some(project.clone());
    by_token.actor = AuditActor {
        kind: ActorKind::Token,
        id: id(0, 901),
        name: "CI backups".into(),
        email: Some("bob@example.com".into()),
    };
    by_token.action = "backup.delete".into();
    by_token.outcome = AuditOutcome::Refused {
        kind: "conflict".into(),
        message: "backup is being restored".into(),
    };
    by_token.address = None;
    let mut organization_wide = entry(3, at(3));
    organization_wide.organization_id = Some(organization.clone());
    organization_wide.action = "user.grant".into();
    organization_wide.resource_kind = "user".into();
    organization_wide.resource_id = id(0, 902);
    // The site's: a failed sign-in, at the same instant as the next one (ids break the tie).
    let mut site = entry(4, at(4));
    site.actor = AuditActor {
        kind: ActorKind::Anonymous,
        id: String::new(),
        name: "mallory@example.com".into(),
        email: Some("mallory@example.com".into()),
    };
    site.action = "session.sign-in".into();
    let mut same_instant = entry(5, at(4));
    same_instant.organization_id = Some(organization.clone());
    same_instant.project_id = Some(project.clone());
    let mut in_sibling = entry(6, at(5));
    in_sibling.organization_id = Some(organization.clone());
    in_sibling.project_id = Some(sibling.clone());
    let mut elsewhere = entry(7, at(6));
    elsewhere.organization_id = Some(stranger.clone());
    for e in [
        &in_project,
        &by_token,
        &organization_wide,
        &site,
        &same_instant,
        &in_sibling,
        &elsewhere,
    ] {
        store.append_audit(e).await.unwrap();
    }

    // Read as mallory, whose failed sign-in is the site's entry (unless a test names another).
    let read = |mut filter: AuditFilter| {
        if filter.site_entries == SiteEntries::None {
            filter.site_entries = SiteEntries::Of("mallory@example.com".into());
        }
        let store = store.clone();
        let (organization, project) = (organization.clone(), project.clone());
        async move {
            store
                .audit_entries(&organization, &project, &filter)
                .await
                .unwrap()
        }
    };
    let all = AuditFilter {
        limit: 100,
        ..Default::default()
    };
    let everything = read(all.clone()).await;
    assert_eq!(
        everything,
        [
            same_instant.clone(),
            site.clone(),
            organization_wide.clone(),
            by_token.clone(),
            in_project.clone()
        ],
        "the project's, its organization's and the site's, newest first, read back exactly"
    );
    let as_alice = read(AuditFilter {
        site_entries: SiteEntries::Of("alice@example.com".into()),
        ..all.clone()
    })
    .await;
    assert!(
        !as_alice.contains(&site),
        "the site's entries about someone else are not shown"
    );
    assert_eq!(as_alice.len(), everything.len() - 1);

    let ids = |entries: Vec<AuditEntry>| entries.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let of = |filter: AuditFilter| AuditFilter {
        limit: 100,
        ..filter
    };
    let by_bob = of(AuditFilter {
        actor: Some("bob@example.com".into()),
        ..Default::default()
    });
    assert_eq!(ids(read(by_bob).await), [by_token.id.clone()]);
    let by_name = of(AuditFilter {
        actor: Some("CI backups".into()),
        ..Default::default()
    });
    assert_eq!(ids(read(by_name).await), [by_token.id.clone()]);
    let of_user = of(AuditFilter {
        resource: Some(id(0, 902)),
        ..Default::default()
    });
    assert_eq!(ids(read(of_user).await), [organization_wide.id.clone()]);
    let backups = of(AuditFilter {
        action: Some("backup".into()),
        ..Default::default()
    });
    assert_eq!(
        ids(read(backups).await),
        [
            same_instant.id.clone(),
            by_token.id.clone(),
            in_project.id.clone()
        ]
    );
    let deletes = of(AuditFilter {
        action: Some("backup.delete".into()),
        actor: Some("bob@example.com".into()),
        ..Default::default()
    });
    assert_eq!(ids(read(deletes).await), [by_token.id.clone()]);
    let part_of_a_word = of(AuditFilter {
        action: Some("back".into()),
        ..Default::default()
    });
    assert!(read(part_of_a_word).await.is_empty());

    let first = read(AuditFilter {
        limit: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(
        ids(first.clone()),
        [same_instant.id.clone(), site.id.clone()]
    );
    let second = read(AuditFilter {
        limit: 2,
        after: first.last().map(|e| e.id.clone()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        ids(second.clone()),
        [organization_wide.id.clone(), by_token.id.clone()],
        "the page after an entry at the same instant as another goes on where it stopped"
    );
    let unknown = read(AuditFilter {
        limit: 2,
        after: Some(AuditId::parse(&id(99, 99)).unwrap()),
        ..Default::default()
    })
    .await;
    assert!(unknown.is_empty(), "a cursor no entry has reads nothing");
}
