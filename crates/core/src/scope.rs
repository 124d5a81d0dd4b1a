//! Who acts, in which project, with what right: what every use case is handed and trusts.
//!
//! A [`Scope`] is made only here — by [`Services::authorize`](crate::Services::authorize)
//! for a person (a signed-in user, an API token's user), or by [`Scope::internal`] for Cairn
//! itself (the scheduler, recovery, restore tests). Each use case then asks the scope for the
//! right it needs ([`Scope::require`]), so the rules live once, in the core, whatever the edge.

use crate::error::{Error, Result};
use cairn_model::{
    ActorKind, AuditActor, Grant, OrganizationId, Permission, ProjectId, Role, TokenId, User,
};
use std::sync::Arc;

/// Who is asking, and the roles they have. Made only by the core (from a session or an access
/// token, `Services::session_principal` / `access_principal`), so no edge can make one up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub(crate) user: User,
    pub(crate) grants: Vec<Grant>,
    /// The API token the caller acts through (its id and description); none for a session.
    pub(crate) token: Option<(TokenId, String)>,
    /// Where the request came from (the client's address), as the edge that took it saw it.
    pub(crate) address: Option<String>,
}

impl Principal {
    pub(crate) fn new(user: User, grants: Vec<Grant>) -> Principal {
        Principal {
            user,
            grants,
            token: None,
            address: None,
        }
    }

    /// The same principal, calling from `address` (the edge sets it: the TCP peer of the
    /// request). The audit records it with what they do.
    pub fn from_address(mut self, address: Option<String>) -> Principal {
        self.address = address;
        self
    }

    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    pub fn user(&self) -> &User {
        &self.user
    }

    /// How the audit names this caller: the user, or the API token they act through.
    pub fn audit_actor(&self) -> AuditActor {
        match &self.token {
            None => AuditActor {
                kind: ActorKind::User,
                id: self.user.id.to_string(),
                name: self.user.email.clone(),
                email: Some(self.user.email.clone()),
            },
            Some((id, description)) => AuditActor {
                kind: ActorKind::Token,
                id: id.to_string(),
                name: description.clone(),
                email: Some(self.user.email.clone()),
            },
        }
    }

    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// The strongest role in an organization's every project (an organization-wide grant).
    pub(crate) fn organization_role(&self, organization: &OrganizationId) -> Option<Role> {
        self.grants
            .iter()
            .filter(|g| g.project_id.is_none() && &g.organization_id == organization)
            .map(|g| g.role)
            .max()
    }

    /// Whether any grant touches this organization (it is then visible).
    pub fn sees_organization(&self, organization: &OrganizationId) -> bool {
        self.grants
            .iter()
            .any(|g| &g.organization_id == organization)
    }

    /// The role in a scope's project, if any.
    pub fn role(&self, scope: &Scope) -> Option<Role> {
        self.role_in(&scope.organization_id, &scope.project_id)
    }

    /// The role in a project, if any.
    pub fn role_in(&self, organization: &OrganizationId, project: &ProjectId) -> Option<Role> {
        cairn_model::role_in(&self.grants, organization, project)
    }
}

/// Who a use case acts for: recorded with what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person: signed in to the console, or calling the API with a token.
    Person(Arc<Principal>),
    /// Cairn itself, named by the part that acts (`"scheduler"`, `"recovery"`, …); it may do
    /// everything in every project. Only the core makes one (see [`Part`]).
    Internal(Part),
}

/// A part of Cairn that acts on its own: made only inside the core (and its testkit), so no
/// edge can act as Cairn itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part(&'static str);

impl Part {
    pub(crate) const fn named(name: &'static str) -> Part {
        Part(name)
    }

    pub fn name(self) -> &'static str {
        self.0
    }
}

impl Actor {
    /// The role this actor has in a project (Cairn itself: admin everywhere).
    pub fn role_in(&self, organization: &OrganizationId, project: &ProjectId) -> Option<Role> {
        match self {
            Actor::Person(principal) => principal.role_in(organization, project),
            Actor::Internal(_) => Some(Role::Admin),
        }
    }

    /// Whether any of the actor's grants touches this organization (it is then visible).
    pub fn sees_organization(&self, organization: &OrganizationId) -> bool {
        match self {
            Actor::Person(principal) => principal.sees_organization(organization),
            Actor::Internal(_) => true,
        }
    }

    /// Organization-wide admin: needed to create or delete its projects and to change it. An
    /// organization the actor cannot see is not found.
    pub fn require_organization_admin(&self, organization: &OrganizationId) -> Result<()> {
        let role = match self {
            Actor::Person(principal) => principal.organization_role(organization),
            Actor::Internal(_) => Some(Role::Admin),
        };
        match role {
            Some(Role::Admin) => Ok(()),
            _ if self.sees_organization(organization) => Err(Error::Forbidden(format!(
                "this needs the admin role in all of organization {organization}"
            ))),
            _ => Err(Error::not_found("organization", organization)),
        }
    }

    /// New organizations are for admins of a whole organization: an organization holds
    /// clusters that run on this machine, so making one is not for every signed-in user.
    pub fn require_organization_maker(&self) -> Result<()> {
        let maker = match self {
            Actor::Person(principal) => principal
                .grants
                .iter()
                .any(|g| g.project_id.is_none() && g.role == Role::Admin),
            Actor::Internal(_) => true,
        };
        if maker {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "creating organizations needs the admin role in all of an organization".into(),
            ))
        }
    }

    /// The person acting, if a person acts.
    pub fn person(&self) -> Option<&Principal> {
        match self {
            Actor::Person(principal) => Some(principal),
            Actor::Internal(_) => None,
        }
    }

    /// How the audit names the actor.
    pub fn audit_actor(&self) -> AuditActor {
        match self {
            Actor::Person(principal) => principal.audit_actor(),
            Actor::Internal(part) => AuditActor {
                kind: ActorKind::System,
                id: part.name().to_owned(),
                name: self.name(),
                email: None,
            },
        }
    }

    /// Where the actor calls from, when a person calls over the network.
    pub fn address(&self) -> Option<&str> {
        self.person().and_then(Principal::address)
    }

    /// How the actor is named in records: the user's email, or the part of Cairn.
    pub fn name(&self) -> String {
        match self {
            Actor::Person(principal) => principal.user.email.clone(),
            Actor::Internal(part) => format!("cairn {}", part.name()),
        }
    }
}

/// The ids of a project, with no right to act in it (where the console starts, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
}

/// The project a request acts in, and who acts. Every use case takes one, so resources of
/// other projects are simply not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    actor: Actor,
}

impl Scope {
    /// Cairn itself acting in a project.
    pub(crate) fn internal(
        organization_id: OrganizationId,
        project_id: ProjectId,
        part: &'static str,
    ) -> Scope {
        Scope {
            organization_id,
            project_id,
            actor: Actor::Internal(Part::named(part)),
        }
    }

    /// A person's scope, once [`crate::Services::authorize`] has found their role there.
    pub(crate) fn person(place: Place, principal: Arc<Principal>) -> Scope {
        Scope {
            organization_id: place.organization_id,
            project_id: place.project_id,
            actor: Actor::Person(principal),
        }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn place(&self) -> Place {
        Place {
            organization_id: self.organization_id.clone(),
            project_id: self.project_id.clone(),
        }
    }

    /// The actor's role here (none only for a person whose role was taken away since).
    pub fn role(&self) -> Option<Role> {
        self.actor.role_in(&self.organization_id, &self.project_id)
    }

    /// Refuses unless the actor's role here allows `need`.
    pub fn require(&self, need: Permission) -> Result<()> {
        allowed(self.role(), &self.project_id, need)
    }

    /// The same actor in another project of the organization, if they may `need` there (a
    /// restore reads a backup of another project).
    pub(crate) fn elsewhere(&self, project: &ProjectId, need: Permission) -> Result<Scope> {
        let role = self.actor.role_in(&self.organization_id, project);
        allowed(role, project, need)?;
        Ok(Scope {
            organization_id: self.organization_id.clone(),
            project_id: project.clone(),
            actor: self.actor.clone(),
        })
    }
}

/// Allowed, or why not: a project the actor has no role in is "not found" (its existence is
/// not revealed); a role too weak is forbidden, naming the role needed.
pub(crate) fn allowed(role: Option<Role>, project: &ProjectId, need: Permission) -> Result<()> {
    match role {
        None => Err(Error::not_found("project", project)),
        Some(role) if role.allows(need) => Ok(()),
        Some(role) => Err(Error::Forbidden(format!(
            "your role in project {project} is {}; this needs {}",
            role.as_str(),
            needed_role(need).as_str()
        ))),
    }
}

fn needed_role(need: Permission) -> Role {
    Role::ALL
        .into_iter()
        .find(|role| role.allows(need))
        .expect("admin allows everything")
}

#[cfg(any(test, feature = "testkit"))]
impl Scope {
    /// For tests only: Cairn itself acting in a place, with every right.
    pub fn trusted(place: Place) -> Scope {
        Scope::internal(place.organization_id, place.project_id, "test")
    }
}
