//! Signing in, first-start setup, and the user's API tokens. The sign-in and setup forms post
//! to plain routes (`/login`, `/setup`) that set the session cookie; they work without
//! JavaScript like every other form.

use crate::components::form::{DANGER, INPUT, PRIMARY};
use crate::components::{
    Confirm, EmptyState, ErrorPanel, Failure, Field, FormError, Loading, PageHeader, Time,
};
use crate::server_fns::{list_api_tokens, take_new_token, CreateApiToken, RevokeApiToken};
use cairn_model::ApiToken;
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

#[component]
pub fn LoginPage() -> impl IntoView {
    let failed = query("failed");
    let email = query("email");
    let next = query("next");
    view! {
        <Card title="Sign in to Cairn">
            <FormError message=Signal::derive(move || {
                failed.get().map(|_| "The email or the password is wrong.".to_owned())
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
    let create_failure = Failure::new(move || create.value().get().and_then(Result::err));
    let revoke_failure = Failure::new(move || revoke.value().get().and_then(Result::err));
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
                <Field id="description" label="What is it for?" hint="For example: CI backups, or esc on my laptop." error=create_failure.field("description")>
                    <input id="description" name="description" required class=INPUT aria-describedby="description-error" />
                </Field>
                <button type="submit" class=PRIMARY>"Create token"</button>
            </ActionForm>
        </section>
        <FormError message=revoke_failure.message() />
        <Suspense fallback=|| view! { <Loading what="tokens" /> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No tokens yet" message="Create one above; its secret is shown once." />
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
                            <table class="min-w-full divide-y divide-slate-200 text-sm">
                                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                                    <tr>
                                        <th scope="col" class="px-4 py-3">"Description"</th>
                                        <th scope="col" class="px-4 py-3">"Created"</th>
                                        <th scope="col" class="px-4 py-3">"Last used"</th>
                                        <th scope="col" class="px-4 py-3">"Status"</th>
                                        <th scope="col" class="px-4 py-3"><span class="sr-only">"Actions"</span></th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100">
                                    {list.into_iter().map(|token| view! { <TokenRow token revoke /> }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
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
fn TokenRow(token: ApiToken, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
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
            <td class="px-4 py-3">{if revoked { "revoked" } else { "active" }}</td>
            <td class="px-4 py-3 text-right">
                {(!revoked).then(|| view! {
                    <Confirm label="Revoke" question="Revoke this token? Scripts using it stop working at once." refused=None>
                        <ActionForm action=revoke>
                            <input type="hidden" name="id" value=id />
                            <button type="submit" class=DANGER>"Revoke token"</button>
                        </ActionForm>
                    </Confirm>
                })}
            </td>
        </tr>
    }
}
