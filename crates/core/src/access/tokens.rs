//! API tokens (refresh tokens a user makes and revokes) and the hour-long access tokens
//! they are exchanged for at `POST /oauth/token`; what an access token speaks for.

use super::{hash_secret, unauthenticated, AccessGrant, Credential, CredentialKind};
use super::{ACCESS_TOKEN_LIFETIME, MAX_API_TOKEN_LIFETIME, MIN_API_TOKEN_LIFETIME};
use crate::audit::{Record, Subject};
use crate::error::{Error, Result};
use crate::scope::Principal;
use crate::services::Services;
use cairn_model::audit::actions;
use cairn_model::{ApiToken, TokenId, UserId};
use chrono::Duration;

/// A lifetime as people write it: `30d`, `12h`, `2w`; `never` (or nothing) for none. It must
/// be one an API token may have.
pub fn parse_lifetime(text: &str) -> std::result::Result<Option<Duration>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let unclear = || format!("'{text}' is not a lifetime: write it like 30d, 12h or 2w, or never");
    let unit = text.chars().last().ok_or_else(unclear)?;
    let number: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| unclear())?;
    let lifetime = match unit {
        'h' => Duration::try_hours(number),
        'd' => Duration::try_days(number),
        'w' => Duration::try_weeks(number),
        _ => None,
    }
    .ok_or_else(unclear)?;
    lifetime_rule(lifetime)?;
    Ok(Some(lifetime))
}

/// An API token's lifetime, if given, within [`MIN_API_TOKEN_LIFETIME`] and
/// [`MAX_API_TOKEN_LIFETIME`].
pub(super) fn lifetime_rule(lifetime: Duration) -> std::result::Result<(), String> {
    if lifetime < MIN_API_TOKEN_LIFETIME || lifetime > MAX_API_TOKEN_LIFETIME {
        return Err(format!(
            "a token lasts from {} hour to {} days, or until it is revoked",
            MIN_API_TOKEN_LIFETIME.num_hours(),
            MAX_API_TOKEN_LIFETIME.num_days()
        ));
    }
    Ok(())
}

/// A token to be made, in the audit's words (its id once it has one).
fn token_subject(description: &str) -> Subject {
    Subject::new("token", "", description.trim())
}

/// How long an access token's check is answered from memory.
pub const ACCESS_CHECK_KEPT: Duration = Duration::seconds(5);
impl Services {
    /// The user of an API access token (`Authorization: Bearer …`).
    /// Who an access token speaks for. The token itself is checked on every call (a revoked
    /// or expired one is refused at once, whichever instance revoked it); who its user is and
    /// what roles they hold is remembered for [`ACCESS_CHECK_KEPT`], so an API client calling
    /// many times a second costs one query a call, not three. Granting a role or creating an
    /// organization through this instance forgets those at once; through another, it counts
    /// here within that time.
    pub async fn access_principal(&self, access_token: &str) -> Result<Principal> {
        let now = self.inner().clock.now();
        let hash = hash_secret(access_token);
        let credential = self
            .live_credential(access_token, CredentialKind::Access)
            .await?
            .ok_or_else(unauthenticated)?;
        if let Some(principal) = self.inner().access_checks.get(&hash, now) {
            return Ok(principal);
        }
        let reading = self.inner().access_checks.reading();
        let mut principal = self.principal(&credential.user_id).await?;
        // An access token acts through the API token it was made from: the audit names that.
        principal.token = credential
            .parent
            .clone()
            .map(|parent| (parent, credential.description.clone()));
        let until = credential.expires.map_or(now + ACCESS_CHECK_KEPT, |end| {
            end.min(now + ACCESS_CHECK_KEPT)
        });
        self.inner()
            .access_checks
            .keep(reading, hash, principal.clone(), until);
        Ok(principal)
    }

    /// A new API (refresh) token for a user: its listing, and the secret, shown this once.
    /// With a lifetime it stops working on its own that long from now (see
    /// [`MIN_API_TOKEN_LIFETIME`], [`MAX_API_TOKEN_LIFETIME`]); without, when revoked.
    pub async fn create_api_token(
        &self,
        by: &Principal,
        description: &str,
        lifetime: Option<Duration>,
    ) -> Result<(ApiToken, String)> {
        let record = Record::by(by, actions::TOKEN_CREATE, token_subject(description));
        let work = self.issue_api_token(&by.user.id, description, lifetime);
        self.audited(record, work, |(token, _), subject| {
            subject.with_id(&token.id)
        })
        .await
    }

    /// [`Services::create_api_token`] for a user, asked by the server's command line (`cairn
    /// token create`), with nobody signed in.
    pub async fn create_api_token_for(
        &self,
        user: &UserId,
        description: &str,
        lifetime: Option<Duration>,
    ) -> Result<(ApiToken, String)> {
        let record = Record::on_server(actions::TOKEN_CREATE, token_subject(description));
        let work = self.issue_api_token(user, description, lifetime);
        self.audited(record, work, |(token, _), subject| {
            subject.with_id(&token.id)
        })
        .await
    }

    async fn issue_api_token(
        &self,
        user: &UserId,
        description: &str,
        lifetime: Option<Duration>,
    ) -> Result<(ApiToken, String)> {
        let mut errors = std::collections::BTreeMap::new();
        if description.trim().is_empty() {
            errors.insert(
                "description".to_owned(),
                "say what the token is for, e.g. \"CI backups\"".to_owned(),
            );
        } else if let Err(message) = cairn_model::check_text(
            "description",
            description,
            cairn_model::text::MAX_DESCRIPTION_LEN,
        ) {
            errors.insert("description".to_owned(), message);
        }
        if let Some(Err(message)) = lifetime.map(lifetime_rule) {
            errors.insert("expiresIn".to_owned(), message);
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let expires = lifetime.map(|lifetime| self.inner().clock.now() + lifetime);
        let (secret, credential) = self
            .issue(
                user,
                CredentialKind::Refresh,
                description.trim(),
                None,
                expires,
            )
            .await?;
        Ok((credential.api_token(), secret))
    }

    /// A user's API tokens, newest first (revoked ones too, marked).
    pub async fn api_tokens(&self, user: &UserId) -> Result<Vec<ApiToken>> {
        let mut tokens: Vec<ApiToken> = self
            .inner()
            .store
            .credentials(user, CredentialKind::Refresh)
            .await?
            .iter()
            .map(Credential::api_token)
            .collect();
        tokens.sort_by_key(|token| std::cmp::Reverse(token.created));
        Ok(tokens)
    }

    /// Revokes one of the caller's API tokens and every access token made from it.
    pub async fn revoke_api_token(&self, by: &Principal, id: &TokenId) -> Result<()> {
        let record = Record::by(by, actions::TOKEN_REVOKE, Subject::new("token", id, ""));
        let work = async {
            let now = self.inner().clock.now();
            let writing = self.inner().access_checks.writing();
            let revoked = self
                .inner()
                .store
                .revoke_credential(&by.user.id, id, now)
                .await?;
            drop(writing);
            if revoked {
                Ok(())
            } else {
                Err(Error::not_found("token", id))
            }
        };
        self.audited(record, work, |_, subject| subject).await
    }

    /// Forgets spent sessions and access tokens (each sign-in and token exchange adds one).
    pub async fn prune_credentials(&self) -> Result<u64> {
        let now = self.inner().clock.now();
        self.inner().store.prune_credentials(now).await
    }

    /// `grant_type=refresh_token`: a new access token for a live refresh token. The access
    /// token never outlives the refresh token it was made from.
    pub async fn exchange_refresh_token(&self, refresh_token: &str) -> Result<AccessGrant> {
        let now = self.inner().clock.now();
        let found = if refresh_token.starts_with(CredentialKind::Refresh.prefix()) {
            self.inner()
                .store
                .credential(&hash_secret(refresh_token))
                .await?
                .filter(|c| c.kind == CredentialKind::Refresh && c.revoked.is_none())
        } else {
            None
        };
        let refresh = match found {
            None => {
                return Err(Error::Unauthenticated(
                    "the refresh token is unknown or revoked".into(),
                ))
            }
            Some(refresh) if !refresh.is_live(now) => {
                return Err(Error::Unauthenticated(
                    "the refresh token has expired".into(),
                ))
            }
            Some(refresh) => refresh,
        };
        self.inner()
            .store
            .touch_credential(&refresh.id, now)
            .await?;
        let expires = refresh.expires.map_or(now + ACCESS_TOKEN_LIFETIME, |end| {
            end.min(now + ACCESS_TOKEN_LIFETIME)
        });
        let (access_token, access) = self
            .issue(
                &refresh.user_id,
                CredentialKind::Access,
                &refresh.description,
                Some(refresh.id.clone()),
                Some(expires),
            )
            .await?;
        // A revoke between the check above and the insert would miss the new token: look
        // again, and take it back if the refresh token is gone.
        if self
            .live_credential(refresh_token, CredentialKind::Refresh)
            .await?
            .is_none()
        {
            self.inner()
                .store
                .revoke_credential(&access.user_id, &access.id, now)
                .await?;
            return Err(Error::Unauthenticated(
                "the refresh token is unknown or revoked".into(),
            ));
        }
        Ok(AccessGrant {
            access_token,
            expires_in: (expires - now).num_seconds(),
        })
    }
}
