//! Who may do what: users, their roles per project, and API tokens (the public view of a
//! refresh token; its secret is shown once, when it is made, and never stored in clear).

use crate::ids::{OrganizationId, ProjectId, TokenId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a request needs to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    /// See resources.
    Read,
    /// Create, change and delete resources: clusters, backups, jobs, networks.
    Operate,
    /// Also change the project itself and who may use it.
    Administer,
}

/// A user's role in a project. Each role allows what the one before it does, and more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn allows(self, permission: Permission) -> bool {
        match permission {
            Permission::Read => true,
            Permission::Operate => self >= Role::Operator,
            Permission::Administer => self == Role::Admin,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// Someone who signs in to the console (and whose API tokens act as them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub created: DateTime<Utc>,
}

/// A role given to a user in one project, or in every project of an organization when
/// `project_id` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub user_id: UserId,
    pub organization_id: OrganizationId,
    pub project_id: Option<ProjectId>,
    pub role: Role,
}

impl Grant {
    /// The role this grant gives in a project, if it covers it.
    pub fn role_in(&self, organization: &OrganizationId, project: &ProjectId) -> Option<Role> {
        let covers = self.organization_id == *organization
            && self.project_id.as_ref().is_none_or(|p| p == project);
        covers.then_some(self.role)
    }
}

/// The strongest role any of the grants gives in a project.
pub fn role_in(
    grants: &[Grant],
    organization: &OrganizationId,
    project: &ProjectId,
) -> Option<Role> {
    grants
        .iter()
        .filter_map(|grant| grant.role_in(organization, project))
        .max()
}

/// An API (refresh) token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub description: String,
    pub created: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
    pub revoked: Option<DateTime<Utc>>,
    /// When it stops working on its own (`None`: until revoked).
    #[serde(default)]
    pub expires: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// "revoked", "expired" or "active" at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        if self.revoked.is_some() {
            "revoked"
        } else if self.expires.is_some_and(|end| end <= now) {
            "expired"
        } else {
            "active"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_allows_what_the_table_says() {
        use Permission::*;
        let table = [
            (Role::Viewer, [true, false, false]),
            (Role::Operator, [true, true, false]),
            (Role::Admin, [true, true, true]),
        ];
        for (role, expected) in table {
            let got = [Read, Operate, Administer].map(|p| role.allows(p));
            assert_eq!(got, expected, "{role:?}");
        }
    }

    #[test]
    fn the_strongest_grant_covering_a_project_wins_and_others_do_not_count() {
        let org = OrganizationId::parse("c1ev3l5o0aeu6ojco7b0").unwrap();
        let other_org = OrganizationId::parse("c1ev3l5o0aeu6ojco7c0").unwrap();
        let project = ProjectId::parse("c1ev3l5o0aeu6ojco7d0").unwrap();
        let other_project = ProjectId::parse("c1ev3l5o0aeu6ojco7e0").unwrap();
        let user = UserId::parse("c1ev3l5o0aeu6ojco7f0").unwrap();
        let grant =
            |organization_id: &OrganizationId, project_id: Option<&ProjectId>, role| Grant {
                user_id: user.clone(),
                organization_id: organization_id.clone(),
                project_id: project_id.cloned(),
                role,
            };
        let grants = [
            grant(&org, Some(&project), Role::Viewer),
            grant(&org, Some(&other_project), Role::Admin),
            grant(&other_org, None, Role::Admin),
        ];
        assert_eq!(role_in(&grants, &org, &project), Some(Role::Viewer));
        let with_org_wide = [grants.to_vec(), vec![grant(&org, None, Role::Operator)]].concat();
        assert_eq!(
            role_in(&with_org_wide, &org, &project),
            Some(Role::Operator)
        );
        assert_eq!(role_in(&grants[..1], &other_org, &project), None);
    }

    #[test]
    fn roles_parse_in_any_case_and_nothing_else() {
        assert_eq!(Role::parse(" Operator"), Some(Role::Operator));
        assert_eq!(Role::parse("owner"), None);
    }
}
