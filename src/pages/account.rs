//! Signing in, first-start setup, the user's account (password, sessions) and API tokens.
//! The sign-in and setup forms post to plain routes (`/login`, `/setup`) that set the session
//! cookie; they work without JavaScript like every other form.

use crate::components::form::{INPUT, LINK, PRIMARY, SECONDARY};
use crate::components::{
    in_project, DataTable, Failure, Field, FormError, Loaded, PageHeader, ProjectField, Time,
};
use crate::server_fns::{
    account_facts, list_api_tokens, take_new_token, ChangePassword, CreateApiToken,
    EndOtherSessions, ListedToken, RevokeApiToken,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn query(name: &'static str) -> Signal<Option<String>> {
    let query = use_query_map();
    Signal::derive(move || query.with(|q| q.get(name)).filter(|v| !v.is_empty()))
}

/// A small centered card for the pages shown before signing in.
#[component]
fn Card(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="mx-auto mt-10 max-w-md rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
            <h1 class="mb-6 text-2xl font-semibold tracking-tight">{title}</h1>
            {children()}
        </div>
    }
}

/// Why the last sign-in or setup post came back, from the address it came back to: the
/// texts are fixed here (an address cannot make the page say anything else), only the
/// seconds come from it.
fn refusal(wait: Option<String>, busy: bool) -> Option<String> {
    if let Some(seconds) = wait.and_then(|w| w.parse::<u64>().ok()) {
        return Some(format!("Too many attempts: try again in {seconds} s."));
    }
    busy.then(|| "Too many sign-ins at once: try again in a few seconds.".to_owned())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let failed = query("failed");
    let wait = query("wait");
    let busy = query("busy");
    let email = query("email");
    let next = query("next");
    view! {
        <Card title="Sign in to Cairn">
            <FormError message=Signal::derive(move || {
                refusal(wait.get(), busy.get().is_some()).or_else(|| {
                    failed.get().map(|_| "The email or the password is wrong.".to_owned())
                })
            }) />
            <form method="post" action="/login">
                <input type="hidden" name="next" value=move || next.get().unwrap_or_default() />
                <Field id="email" label="Email" error=Signal::derive(|| None::<String>)>
                    <input id="email" name="email" type="email" autocomplete="username" required
                        class=INPUT value=move || email.get().unwrap_or_default()
                        autofocus=move || email.get().is_none() />
                </Field>
                <Field id="password" label="Password" error=Signal::derive(|| None::<String>)>
                    <input id="password" name="password" type="password" autocomplete="current-password"
                        required class=INPUT autofocus=move || email.get().is_some() />
                </Field>
                <button type="submit" class=format!("{PRIMARY} w-full")>"Sign in"</button>
            </form>
        </Card>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let email = query("email");
    let field = query("field");
    let error = query("error");
    let wait = query("wait");
    let busy = query("busy");
    let error_for = move |name: &'static str| {
        Signal::derive(move || {
            (field.get().as_deref() == Some(name))
                .then(|| error.get())
                .flatten()
        })
    };
    view! {
        <Card title="Set up Cairn">
            <p class="mb-6 text-sm text-slate-600">
                "Nobody can sign in yet. Create the first admin: they can run everything and add "
                "other users. The setup code is in the server's log and in the "
                <code>"setup-code"</code>" file of its data directory."
            </p>
            <FormError message=Signal::derive(move || refusal(wait.get(), busy.get().is_some())) />
            <form method="post" action="/setup">
                <Field id="code" label="Setup code" error=error_for("code")>
                    <input id="code" name="code" required autocomplete="off" class=INPUT
                        placeholder="xxxx-xxxx-xxxx" aria-describedby="code-error" />
                </Field>
                <Field id="email" label="Admin email" error=error_for("email")>
                    <input id="email" name="email" type="email" autocomplete="username" required
                        class=INPUT value=move || email.get().unwrap_or_default()
                        aria-describedby="email-error" />
                </Field>
                <Field id="password" label="Password" hint="At least 12 characters." error=error_for("password")>
                    <input id="password" name="password" type="password" autocomplete="new-password"
                        minlength="12" required class=INPUT aria-describedby="password-error" />
                </Field>
                <button type="submit" class=format!("{PRIMARY} w-full")>"Create admin and sign in"</button>
            </form>
        </Card>
    }
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    let new_token = Resource::new(|| (), |_| take_new_token());
    let create_failure = Failure::of(create);
    let revoke_failure = Failure::of(revoke);
    view! {
        <PageHeader
            title="API tokens"
            description="Tokens for scripts, CI and the esc CLI. A token acts as you, with your roles. Exchange it for an hour-long access token at POST /oauth/token."
        />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                new_token.await.ok().flatten().map(|token| view! { <NewTokenPanel token /> })
            })}
        </Suspense>
        <section class="mb-8 max-w-2xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 class="mb-4 text-lg font-semibold">"Create a token"</h2>
            <FormError message=create_failure.message() />
            <ActionForm action=create>
                <ProjectField />
                <Field id="description" label="What is it for?" hint="For example: CI backups, or esc on my laptop." error=create_failure.field("description")>
                    <input id="description" name="description" required maxlength=cairn_model::text::MAX_DESCRIPTION_LEN
                        class=INPUT aria-describedby="description-error" />
                </Field>
                <Field id="expires_in" label="Expires" hint="A token that ends on its own is one less to forget. Scripts need a new one then." error=create_failure.field("expiresIn")>
                    <select id="expires_in" name="expires_in" class=INPUT aria-describedby="expires_in-error">
                        <option value="7d">"In 7 days"</option>
                        <option value="30d" selected>"In 30 days"</option>
                        <option value="90d">"In 90 days"</option>
                        <option value="366d">"In a year"</option>
                        <option value="never">"Never (until revoked)"</option>
                    </select>
                </Field>
                <button type="submit" class=PRIMARY>"Create token"</button>
            </ActionForm>
        </section>
        <FormError message=revoke_failure.message() />
        <Loaded resource=tokens what="tokens" let:list>
            <DataTable
                headers=&["Description", "Created", "Last used", "Expires", "Status"]
                actions=true
                empty_title="No tokens yet"
                empty_message="Create one above; its secret is shown once."
                rows=list
                row=move |listed| view! { <TokenRow listed revoke /> }
            />
        </Loaded>
    }
}

#[component]
fn NewTokenPanel(token: crate::server_fns::NewToken) -> impl IntoView {
    view! {
        <div role="status" data-testid="new-token" class="mb-8 max-w-2xl rounded-lg border border-emerald-300 bg-emerald-50 p-6">
            <h2 class="mb-2 text-lg font-semibold text-emerald-900">"Your new token"</h2>
            <p class="mb-3 text-sm text-emerald-900">
                "Copy it now: it is not stored and will not be shown again."
            </p>
            <input readonly aria-label="New API token" data-testid="new-token-secret"
                class="block w-full rounded-md border border-emerald-300 bg-white px-3 py-2 font-mono text-sm"
                value=token.secret.clone() />
            <p class="mt-3 text-xs text-emerald-900">
                "Get an access token: "
                <code class="break-all">
                    "curl -d grant_type=refresh_token -d client_id=cli -d refresh_token=… "
                    "<this server>/oauth/token"
                </code>
            </p>
        </div>
    }
}

#[component]
fn TokenRow(listed: ListedToken, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    let ListedToken { token, status } = listed;
    let revoked = token.revoked.is_some();
    let id = token.id.to_string();
    view! {
        <tr>
            <td class="px-4 py-3 font-medium">{token.description.clone()}</td>
            <td class="px-4 py-3"><Time time=token.created /></td>
            <td class="px-4 py-3">
                {match token.last_used {
                    Some(time) => view! { <Time time /> }.into_any(),
                    None => view! { <span class="text-slate-500">"never"</span> }.into_any(),
                }}
            </td>
            <td class="px-4 py-3">
                {match token.expires {
                    Some(time) => view! { <Time time /> }.into_any(),
                    None => view! { <span class="text-slate-500">"never"</span> }.into_any(),
                }}
            </td>
            <td class="px-4 py-3" data-testid="token-status">{status}</td>
            <td class="px-4 py-3 text-right">
                {(!revoked).then(|| crate::confirm_by_id!(
                    revoke,
                    id,
                    "Revoke",
                    "Revoke this token? Scripts using it stop working at once.",
                    None,
                    "Revoke token",
                ))}
            </td>
        </tr>
    }
}

/// The signed-in user's account: their password, and their other sessions.
#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let facts = Resource::new(
        move || (change.version().get(), end_others.version().get()),
        |_| account_facts(),
    );
    let change_failure =
        Failure::of(change).showing(&["currentPassword", "newPassword", "repeatPassword"]);
    let end_failure = Failure::of(end_others);
    view! {
        <PageHeader title="Account" description="Your password and where you are signed in.">
            <a href=in_project("/account/tokens") class=LINK>"API tokens"</a>
        </PageHeader>
        <section class="mb-8 max-w-2xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm" aria-labelledby="password-heading">
            <h2 id="password-heading" class="mb-1 text-lg font-semibold">"Change password"</h2>
            <p class="mb-4 text-sm text-slate-600">
                "Every other session of yours is signed out; this one stays. API tokens keep working: revoke them on the API tokens page."
            </p>
            <FormError message=change_failure.message() />
            <ActionForm action=change>
                <ProjectField />
                <Field id="current_password" label="Current password" error=change_failure.field("currentPassword")>
                    <input id="current_password" name="current_password" type="password" autocomplete="current-password"
                        required class=INPUT aria-describedby="current_password-error"
                        aria-invalid=move || change_failure.invalid("currentPassword").get().to_string() />
                </Field>
                <Field id="new_password" label="New password" hint="At least 12 characters." error=change_failure.field("newPassword")>
                    <input id="new_password" name="new_password" type="password" autocomplete="new-password"
                        minlength="12" required class=INPUT aria-describedby="new_password-error"
                        aria-invalid=move || change_failure.invalid("newPassword").get().to_string() />
                </Field>
                <Field id="repeat_password" label="New password again" error=change_failure.field("repeatPassword")>
                    <input id="repeat_password" name="repeat_password" type="password" autocomplete="new-password"
                        minlength="12" required class=INPUT aria-describedby="repeat_password-error"
                        aria-invalid=move || change_failure.invalid("repeatPassword").get().to_string() />
                </Field>
                <button type="submit" class=PRIMARY>"Change password"</button>
            </ActionForm>
        </section>
        <section class="mb-8 max-w-2xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading" class="mb-1 text-lg font-semibold">"Sessions"</h2>
            <FormError message=end_failure.message() />
            <Loaded resource=facts what="sessions" let:facts>
                {
                    let others = facts.other_sessions;
                    let text = match others {
                        0 => format!("{} is signed in here only.", facts.email),
                        1 => format!("{} is signed in here and in 1 other place.", facts.email),
                        n => format!("{} is signed in here and in {n} other places.", facts.email),
                    };
                    view! {
                        <p class="mb-4 text-sm text-slate-700" data-testid="other-sessions">{text}</p>
                        <ActionForm action=end_others>
                            <ProjectField />
                            <button type="submit" class=SECONDARY disabled=others == 0>
                                "Sign out everywhere else"
                            </button>
                        </ActionForm>
                    }
                }
            </Loaded>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn a_refused_sign_in_says_how_many_seconds_to_wait_and_nothing_an_address_could_make_up() {
        assert_eq!(
            refusal(Some("27".into()), false).as_deref(),
            Some("Too many attempts: try again in 27 s.")
        );
        assert_eq!(
            refusal(None, true).as_deref(),
            Some("Too many sign-ins at once: try again in a few seconds.")
        );
        assert_eq!(refusal(Some("call 555-0100".into()), false), None);
        assert_eq!(refusal(None, false), None);
    }
}
