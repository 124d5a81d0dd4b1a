//! The audit log: every change anyone asked for — who, when, what, from where, and whether it
//! was done or refused (and why). The core records it at the use cases; the console and the
//! API read it a page at a time, newest first.

use crate::ids::{AuditId, OrganizationId, ProjectId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of caller acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// A person signed in to the console.
    User,
    /// An API token (its user behind it is the actor's `email`).
    Token,
    /// Nobody signed in: a failed sign-in, named by the email that was tried.
    Anonymous,
    /// Cairn itself, or its command line on the server (`cairn user create`, …).
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Token => "token",
            ActorKind::Anonymous => "anonymous",
            ActorKind::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<ActorKind> {
        [Self::User, Self::Token, Self::Anonymous, Self::System]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditActor {
    pub kind: ActorKind,
    /// The user's id, the API token's id, the part of Cairn; empty for anonymous.
    pub id: String,
    /// The user's email, the token's description, the email tried, or `cairn <part>`.
    pub name: String,
    /// The person behind it, by email: the user, the token's owner, or (anonymous) the email
    /// that was tried. Filters and "is this mine" go by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl AuditActor {
    /// How the console names the actor: "alice@example.com", "token CI (alice@example.com)".
    pub fn words(&self) -> String {
        match (self.kind, &self.email) {
            (ActorKind::Token, Some(email)) => format!("token {} ({email})", self.name),
            (ActorKind::Token, None) => format!("token {}", self.name),
            (ActorKind::Anonymous, _) => format!("someone trying {}", self.name),
            _ => self.name.clone(),
        }
    }
}

/// Done, or refused with the kind of error and its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum AuditOutcome {
    Ok,
    /// `kind` as the core names error kinds: `not-found`, `conflict`, `invalid`,
    /// `unavailable`, `internal`, `unauthenticated`, `forbidden`.
    Refused {
        kind: String,
        message: String,
    },
}

impl AuditOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, AuditOutcome::Ok)
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    /// Where it happened: a project, a whole organization (no project), or the site (neither:
    /// signing in, API tokens, passwords). A project's audit shows all three.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrganizationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    pub actor: AuditActor,
    /// One of [`actions`], e.g. `backup.create`.
    pub action: String,
    pub resource_kind: String,
    /// What was acted on; for a refused create, what it was to be made from (the cluster of
    /// a backup, say), since the new resource never existed.
    pub resource_id: String,
    pub summary: String,
    /// The client's address (the TCP peer), when the change came over the network. Shown to
    /// the project's admins, and to whoever it is about.
    #[serde(default)]
    pub address: Option<String>,
    pub outcome: AuditOutcome,
}

impl AuditEntry {
    /// Whether the entry is about the person with this email (their own doing, or a sign-in
    /// tried with their email).
    pub fn is_about(&self, email: &str) -> bool {
        self.actor
            .email
            .as_deref()
            .is_some_and(|own| own.eq_ignore_ascii_case(email))
    }
}

/// The actions the audit records, and how the console says them.
pub mod actions {
    pub const CLUSTER_CREATE: &str = "cluster.create";
    pub const CLUSTER_RESTORE: &str = "cluster.restore";
    pub const CLUSTER_DELETE: &str = "cluster.delete";
    pub const CLUSTER_EXPAND_DISK: &str = "cluster.expand-disk";
    pub const CLUSTER_RESIZE: &str = "cluster.resize";
    pub const CLUSTER_UPGRADE: &str = "cluster.upgrade";
    pub const CLUSTER_RENAME: &str = "cluster.rename";
    pub const CLUSTER_PROTECT: &str = "cluster.protect";
    pub const CLUSTER_UNPROTECT: &str = "cluster.unprotect";
    /// A cluster renamed and its protection changed in one request (the API allows both).
    pub const CLUSTER_UPDATE: &str = "cluster.update";
    pub const BACKUP_CREATE: &str = "backup.create";
    pub const BACKUP_DELETE: &str = "backup.delete";
    pub const BACKUP_CANCEL: &str = "backup.cancel";
    pub const BACKUP_VERIFY: &str = "backup.verify";
    pub const JOB_CREATE: &str = "job.create";
    pub const JOB_EDIT: &str = "job.edit";
    pub const JOB_DELETE: &str = "job.delete";
    pub const JOB_RUN: &str = "job.run";
    pub const JOB_PAUSE: &str = "job.pause";
    pub const JOB_RESUME: &str = "job.resume";
    pub const INTEGRATION_CREATE: &str = "integration.create";
    pub const INTEGRATION_UPDATE: &str = "integration.update";
    pub const INTEGRATION_DELETE: &str = "integration.delete";
    pub const INTEGRATION_TEST: &str = "integration.test";
    pub const NETWORK_CREATE: &str = "network.create";
    pub const NETWORK_UPDATE: &str = "network.update";
    pub const NETWORK_DELETE: &str = "network.delete";
    pub const ORGANIZATION_CREATE: &str = "organization.create";
    pub const ORGANIZATION_RENAME: &str = "organization.rename";
    pub const ORGANIZATION_DELETE: &str = "organization.delete";
    pub const PROJECT_CREATE: &str = "project.create";
    pub const PROJECT_RENAME: &str = "project.rename";
    pub const PROJECT_DELETE: &str = "project.delete";
    pub const USER_CREATE: &str = "user.create";
    pub const USER_GRANT: &str = "user.grant";
    pub const TOKEN_CREATE: &str = "token.create";
    pub const TOKEN_REVOKE: &str = "token.revoke";
    pub const SIGN_IN: &str = "session.sign-in";
    pub const SIGN_OUT: &str = "session.sign-out";
    pub const PASSWORD_CHANGE: &str = "account.password-change";

    /// Every action with its words, in the order the console's filter offers them.
    pub const ALL: &[(&str, &str)] = &[
        (CLUSTER_CREATE, "created a cluster"),
        (CLUSTER_RESTORE, "restored a backup into a new cluster"),
        (CLUSTER_EXPAND_DISK, "expanded a cluster's disk"),
        (CLUSTER_RESIZE, "resized a cluster"),
        (CLUSTER_UPGRADE, "upgraded a cluster"),
        (CLUSTER_RENAME, "renamed a cluster"),
        (CLUSTER_PROTECT, "protected a cluster from deletion"),
        (CLUSTER_UNPROTECT, "turned a cluster's protection off"),
        (CLUSTER_UPDATE, "changed a cluster's name and protection"),
        (CLUSTER_DELETE, "deleted a cluster"),
        (BACKUP_CREATE, "created a backup"),
        (BACKUP_CANCEL, "cancelled a backup"),
        (BACKUP_VERIFY, "started verifying a backup"),
        (BACKUP_DELETE, "deleted a backup"),
        (JOB_CREATE, "created a job"),
        (JOB_EDIT, "edited a job"),
        (JOB_RUN, "ran a job now"),
        (JOB_PAUSE, "paused a job"),
        (JOB_RESUME, "resumed a job"),
        (JOB_DELETE, "deleted a job"),
        (INTEGRATION_CREATE, "created an integration"),
        (INTEGRATION_UPDATE, "changed an integration"),
        (INTEGRATION_TEST, "sent an integration a test message"),
        (INTEGRATION_DELETE, "deleted an integration"),
        (NETWORK_CREATE, "created a network"),
        (NETWORK_UPDATE, "changed a network's description"),
        (NETWORK_DELETE, "deleted a network"),
        (ORGANIZATION_CREATE, "created an organization"),
        (ORGANIZATION_RENAME, "renamed an organization"),
        (ORGANIZATION_DELETE, "deleted an organization"),
        (PROJECT_CREATE, "created a project"),
        (PROJECT_RENAME, "renamed a project"),
        (PROJECT_DELETE, "deleted a project"),
        (USER_CREATE, "created a user"),
        (USER_GRANT, "granted a role"),
        (TOKEN_CREATE, "created an API token"),
        (TOKEN_REVOKE, "revoked an API token"),
        (SIGN_IN, "signed in"),
        (SIGN_OUT, "signed out"),
        (PASSWORD_CHANGE, "changed their password"),
    ];

    /// How the console says an action ("created a backup"); the action itself if unknown.
    pub fn words(action: &str) -> &str {
        ALL.iter()
            .find(|(name, _)| *name == action)
            .map_or(action, |(_, words)| words)
    }
}

/// How many entries a page holds unless asked, and at most.
pub const AUDIT_PAGE_SIZE: u32 = 50;
pub const AUDIT_PAGE_MAX: u32 = 200;

/// Which entries to read: all filters must hold. Newest first, at most `limit`, starting
/// after the entry `after` (the previous page's last).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditFilter {
    /// The actor's email, id or name.
    pub actor: Option<String>,
    /// The resource's id.
    pub resource: Option<String>,
    /// An action (`backup.delete`), or all of a kind (`backup`).
    pub action: Option<String>,
    pub limit: u32,
    pub after: Option<AuditId>,
    /// Which site-wide entries (sign-ins, tokens, passwords: no organization's) the reader
    /// sees: set by the core from who reads, never taken from a request.
    #[serde(skip)]
    pub site_entries: SiteEntries,
}

/// The site-wide entries a reader sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SiteEntries {
    /// None (nobody is reading).
    #[default]
    None,
    /// Those about this person (their email): their own sign-ins, tokens and password.
    Of(String),
    /// All of them: Cairn's own parts and its command line, on the machine itself.
    All,
}

impl SiteEntries {
    pub fn admits(&self, entry: &AuditEntry) -> bool {
        match self {
            SiteEntries::None => false,
            SiteEntries::Of(email) => entry.is_about(email),
            SiteEntries::All => true,
        }
    }
}

impl AuditFilter {
    /// The filter with empty texts as none and the limit within bounds (0: the default).
    pub fn tidy(mut self) -> AuditFilter {
        let tidy =
            |text: Option<String>| text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        self.actor = tidy(self.actor);
        self.resource = tidy(self.resource);
        self.action = tidy(self.action);
        self.limit = match self.limit {
            0 => AUDIT_PAGE_SIZE,
            n => n.min(AUDIT_PAGE_MAX),
        };
        self
    }

    /// Each filter's fault, by its query name: too long, or holding a control character (a
    /// NUL would fail PostgreSQL's text).
    pub fn faults(&self) -> std::collections::BTreeMap<String, String> {
        [
            ("actor", &self.actor),
            ("resource", &self.resource),
            ("action", &self.action),
        ]
        .into_iter()
        .filter_map(|(field, value)| {
            let fault = crate::paging::filter_fault(value.as_deref()?)?;
            Some((field.to_owned(), fault))
        })
        .collect()
    }

    /// Whether an entry passes the actor, resource and action filters (not the paging).
    pub fn admits(&self, entry: &AuditEntry) -> bool {
        let actor = self.actor.as_deref().is_none_or(|wanted| {
            entry.actor.id == wanted
                || entry.actor.name == wanted
                || entry.actor.email.as_deref() == Some(wanted)
        });
        let resource = self
            .resource
            .as_deref()
            .is_none_or(|wanted| entry.resource_id == wanted);
        let action = self.action.as_deref().is_none_or(|wanted| {
            entry.action == wanted
                || entry
                    .action
                    .strip_prefix(wanted)
                    .is_some_and(|rest| rest.starts_with('.'))
        });
        actor && resource && action
    }
}

/// One page of the audit, and where the next starts (none on the last).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next: Option<AuditId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AuditEntry {
        AuditEntry {
            id: AuditId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
            at: "2026-11-24T12:00:00Z".parse().unwrap(),
            organization_id: None,
            project_id: None,
            actor: AuditActor {
                kind: ActorKind::Token,
                id: "c1ev3l5o0aeu6ojco7c0".into(),
                name: "CI".into(),
                email: Some("alice@example.com".into()),
            },
            action: actions::BACKUP_DELETE.into(),
            resource_kind: "backup".into(),
            resource_id: "c1ev3l5o0aeu6ojco7d0".into(),
            summary: "orders #1".into(),
            address: Some("192.0.2.7".into()),
            outcome: AuditOutcome::Refused {
                kind: "conflict".into(),
                message: "backup c1ev3l5o0aeu6ojco7d0 is deleting".into(),
            },
        }
    }

    #[test]
    fn an_entry_reads_in_camel_case_with_its_outcome_tagged() {
        let json = serde_json::to_value(entry()).unwrap();
        assert_eq!(json["actor"]["kind"], "token");
        assert_eq!(json["resourceKind"], "backup");
        assert_eq!(json["outcome"]["result"], "refused");
        assert_eq!(json["outcome"]["kind"], "conflict");
        let ok = serde_json::to_value(AuditOutcome::Ok).unwrap();
        assert_eq!(ok, serde_json::json!({"result": "ok"}));
        let back: AuditEntry = serde_json::from_value(json).unwrap();
        assert_eq!(back, entry());
    }

    #[test]
    fn a_filter_matches_the_person_behind_a_token_and_every_action_of_a_kind() {
        let e = entry();
        let by = |actor: &str| AuditFilter {
            actor: Some(actor.into()),
            ..Default::default()
        };
        assert!(by("alice@example.com").admits(&e));
        assert!(by("CI").admits(&e));
        assert!(!by("bob@example.com").admits(&e));
        let doing = |action: &str| AuditFilter {
            action: Some(action.into()),
            ..Default::default()
        };
        assert!(doing("backup").admits(&e));
        assert!(doing("backup.delete").admits(&e));
        assert!(!doing("back").admits(&e), "a kind is a whole word");
        assert!(!doing("backup.create").admits(&e));
    }

    #[test]
    fn a_tidy_filter_drops_empty_texts_and_keeps_the_page_size_in_bounds() {
        let filter = AuditFilter {
            actor: Some("  ".into()),
            limit: 10_000,
            ..Default::default()
        }
        .tidy();
        assert_eq!(filter.actor, None);
        assert_eq!(filter.limit, AUDIT_PAGE_MAX);
        assert_eq!(AuditFilter::default().tidy().limit, AUDIT_PAGE_SIZE);
    }
}
