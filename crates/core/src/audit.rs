//! The audit log. Every change that someone asks for is recorded at its use case — who, when
//! (the [`Clock`](crate::Clock)), what, from where, and how it went: done, or refused with the
//! error's kind and message — so the console, the API and the command line cannot differ in
//! what they record. A use case wraps its work in [`Services::audited`], which records the
//! outcome of the work whatever it is (also when the request goes away before it ends).
//!
//! Reading is by project ([`Services::audit`]): its entries, its organization's as a whole and
//! the site's (signing in, tokens, passwords), newest first. The client's address of an entry
//! is shown to the project's admins, and to the person the entry is about; other readers see
//! who did what, not where they were.

use crate::error::{Error, ErrorKind, Result};
use crate::scope::{Actor, Part, Principal, Scope};
use crate::services::Services;
use cairn_model::{
    ActorKind, AuditActor, AuditEntry, AuditFilter, AuditId, AuditOutcome, AuditPage,
    OrganizationId, Permission, ProjectId, Role, SiteEntries, User,
};
use std::future::Future;

/// What an audited use case acts on: the resource's kind and id, and a few words about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subject {
    kind: &'static str,
    id: String,
    summary: String,
}

/// `text` without control characters, cut to `max` characters (the cut marked with "…").
fn tidy(text: &str, max: usize) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// The longest summary kept: two descriptions and a few words ("orders: renamed to …").
pub const MAX_SUMMARY_CHARS: usize = 300;

impl Subject {
    /// A subject whose words are kept within [`MAX_SUMMARY_CHARS`] and free of control
    /// characters: a record is made before the use case judges the request, so its text is
    /// whatever was sent, also by someone whose role refuses it.
    pub(crate) fn new(kind: &'static str, id: impl ToString, summary: impl Into<String>) -> Self {
        Subject {
            kind,
            id: tidy(&id.to_string(), 100),
            summary: tidy(&summary.into(), MAX_SUMMARY_CHARS),
        }
    }

    /// The same subject under its id, once it has one (a new user's).
    pub(crate) fn with_id(mut self, id: impl ToString) -> Self {
        self.id = id.to_string();
        self
    }
}

/// Who does what, where, before it is known how it goes.
pub(crate) struct Record {
    actor: AuditActor,
    address: Option<String>,
    organization_id: Option<OrganizationId>,
    project_id: Option<ProjectId>,
    action: &'static str,
    subject: Subject,
}

impl Record {
    /// An action in a scope's project, by the scope's actor.
    pub(crate) fn in_scope(scope: &Scope, action: &'static str, subject: Subject) -> Record {
        Record {
            actor: scope.actor().audit_actor(),
            address: scope.actor().address().map(str::to_owned),
            organization_id: Some(scope.organization_id.clone()),
            project_id: Some(scope.project_id.clone()),
            action,
            subject,
        }
    }

    /// An action by `actor`, in no place yet: an organization's own changes (its projects,
    /// its name) are placed with [`Record::within`].
    pub(crate) fn of(actor: &Actor, action: &'static str, subject: Subject) -> Record {
        Record {
            actor: actor.audit_actor(),
            address: actor.address().map(str::to_owned),
            organization_id: None,
            project_id: None,
            action,
            subject,
        }
    }

    /// A person's action on their own account (signing out, their password, their tokens):
    /// the site's, in no project.
    pub(crate) fn by(principal: &Principal, action: &'static str, subject: Subject) -> Record {
        Record {
            actor: principal.audit_actor(),
            address: principal.address().map(str::to_owned),
            organization_id: None,
            project_id: None,
            action,
            subject,
        }
    }

    /// A user acting from `address`, once they are known (a sign-in that succeeded).
    pub(crate) fn user(
        user: &User,
        address: Option<String>,
        action: &'static str,
        subject: Subject,
    ) -> Record {
        Record {
            actor: Principal::new(user.clone(), Vec::new()).audit_actor(),
            address,
            organization_id: None,
            project_id: None,
            action,
            subject,
        }
    }

    /// What the server itself was told, with nobody signed in: `cairn user …` and `cairn
    /// token create` on its command line, the first admin from its configuration or setup.
    pub(crate) fn on_server(action: &'static str, subject: Subject) -> Record {
        let part = Part::named("server");
        Record {
            actor: AuditActor {
                kind: ActorKind::System,
                id: part.name().to_owned(),
                name: format!("cairn {}", part.name()),
                email: None,
            },
            address: None,
            organization_id: None,
            project_id: None,
            action,
            subject,
        }
    }

    /// Somebody not signed in, trying `email` from `address` (a sign-in): the email as
    /// stored when what was typed is one, else none (the caller tidies it: this module does
    /// not import `access`, which imports it).
    pub(crate) fn anonymous(
        email: Option<String>,
        address: Option<String>,
        action: &'static str,
        subject: Subject,
    ) -> Record {
        Record {
            actor: AuditActor {
                kind: ActorKind::Anonymous,
                id: String::new(),
                name: email
                    .clone()
                    .unwrap_or_else(|| "not an email address".to_owned()),
                email,
            },
            address,
            organization_id: None,
            project_id: None,
            action,
            subject,
        }
    }

    /// The same record, in an organization (and one of its projects, or all of them).
    pub(crate) fn within(
        mut self,
        organization: &OrganizationId,
        project: Option<&ProjectId>,
    ) -> Record {
        self.organization_id = Some(organization.clone());
        self.project_id = project.cloned();
        self
    }

    /// The same record, about `subject` (what the work made, once it is known).
    pub(crate) fn about(mut self, subject: Subject) -> Record {
        self.subject = subject;
        self
    }
}

/// How a result is recorded: done, or refused with the error's kind and message — never an
/// internal error's details (they are for the log, as everywhere).
pub(crate) fn outcome_of<T>(result: &Result<T>) -> AuditOutcome {
    match result {
        Ok(_) => AuditOutcome::Ok,
        Err(error) => refused(error),
    }
}

fn refused(error: &Error) -> AuditOutcome {
    let message = match error.kind() {
        ErrorKind::Internal => "internal error (the server's log has the details)".to_owned(),
        _ => error.to_string(),
    };
    AuditOutcome::Refused {
        kind: error.kind().as_str().to_owned(),
        message,
    }
}

/// What is recorded when the request goes away before its work ends (the client closed the
/// connection, say): it may have been done or not, so neither is claimed.
fn interrupted() -> AuditOutcome {
    AuditOutcome::Refused {
        kind: "interrupted".to_owned(),
        message: "the request ended before its work did: it may or may not have been done"
            .to_owned(),
    }
}

/// A record whose work is under way: dropped before [`Services::audited`] records how it
/// went, it records that it was interrupted.
struct Pending {
    services: Services,
    record: Option<Record>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(record) = self.record.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_err() {
            tracing::error!(
                audit.action = record.action,
                "an interrupted change could not be recorded"
            );
            return;
        }
        let services = self.services.clone();
        self.services.spawn(async move {
            services.append_audit(record, interrupted()).await;
        });
    }
}

impl Services {
    /// Runs `work` and records how it went: done — with what `done` says it acted on (a new
    /// resource's id, say), given the record's subject — or refused, with the error. The answer
    /// is the work's. A record that cannot be written is logged; the work's answer stands.
    pub(crate) async fn audited<T>(
        &self,
        record: Record,
        work: impl Future<Output = Result<T>>,
        done: impl FnOnce(&T, Subject) -> Subject,
    ) -> Result<T> {
        self.audited_with(record, work, |value, mut record| {
            record.subject = done(value, record.subject.clone());
            record
        })
        .await
    }

    /// [`Services::audited`] where what the work did may also say where it is recorded: `done`
    /// is given the whole record (a new organization's creation is recorded in it).
    pub(crate) async fn audited_with<T>(
        &self,
        record: Record,
        work: impl Future<Output = Result<T>>,
        done: impl FnOnce(&T, Record) -> Record,
    ) -> Result<T> {
        let mut pending = Pending {
            services: self.clone(),
            record: Some(record),
        };
        let result = work.await;
        let mut record = pending.record.take().expect("taken only here");
        if let Ok(value) = &result {
            record = done(value, record);
        }
        self.append_audit(record, outcome_of(&result)).await;
        result
    }

    /// Records a change whose record could only be made once it was known how it went (a
    /// sign-in: the user when it succeeded, the email tried when not).
    pub(crate) async fn append_audit(&self, record: Record, outcome: AuditOutcome) {
        let subject = record.subject;
        let inner = self.inner();
        let entry = AuditEntry {
            id: AuditId::from_raw(inner.ids.next(inner.clock.as_ref())),
            at: inner.clock.now(),
            organization_id: record.organization_id,
            project_id: record.project_id,
            actor: record.actor,
            action: record.action.to_owned(),
            resource_kind: subject.kind.to_owned(),
            resource_id: subject.id,
            summary: subject.summary,
            address: record.address,
            outcome,
        };
        if let Err(error) = inner.store.append_audit(&entry).await {
            tracing::error!(%error, audit.action = %entry.action, audit.resource_id = %entry.resource_id,
                "could not record an audit entry");
        }
    }

    /// A page of the project's audit (with its organization's and the site's entries), newest
    /// first, as the filter asks. Anyone who may read the project reads it; the client
    /// address of an entry is blanked unless the reader is the project's admin or the entry is
    /// about them.
    pub async fn audit(&self, scope: &Scope, filter: AuditFilter) -> Result<AuditPage> {
        scope.require(Permission::Read)?;
        let mut filter = filter.tidy();
        let faults = filter.faults();
        if !faults.is_empty() {
            return Err(Error::Invalid(faults));
        }
        // The site's entries (sign-ins, tokens, passwords) belong to no organization: each
        // reader sees only their own, never another organization's people.
        filter.site_entries = match scope.actor().person() {
            Some(person) => SiteEntries::Of(person.user().email.clone()),
            None => SiteEntries::All,
        };
        let limit = filter.limit as usize;
        let one_more = AuditFilter {
            limit: filter.limit + 1,
            ..filter
        };
        let mut entries = self
            .inner()
            .store
            .audit_entries(&scope.organization_id, &scope.project_id, &one_more)
            .await?;
        let next = if entries.len() > limit {
            entries.truncate(limit);
            entries.last().map(|entry| entry.id.clone())
        } else {
            None
        };
        if scope.role() != Some(Role::Admin) {
            let reader = scope.actor().person().map(|p| p.user().email.as_str());
            for entry in &mut entries {
                if !reader.is_some_and(|email| entry.is_about(email)) {
                    entry.address = None;
                }
            }
        }
        Ok(AuditPage { entries, next })
    }
}

#[cfg(test)]
mod tests;
