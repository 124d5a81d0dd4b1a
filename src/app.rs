//! The HTML shell, the router and the console layout. Pages live in `pages/`.

use crate::pages::{
    AccountPage, AuditPage, BackupPage, BackupsPage, ClusterBackupRoute, ClusterNewPage,
    ClusterPage, ClustersPage, DialogStep, EventsPage, IntegrationPage, IntegrationsPage, JobPage,
    JobsPage, LoginPage, NetworksPage, NotFoundPage, RestorePage, SetupPage, TokensPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

/// The document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body class="bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Pages render completely on the server (`SsrMode::Async` waits for their data), so they
    // read the same with JavaScript off; in the browser only islands hydrate (the live
    // refresher, the backup dialog, the network filter).
    view! {
        <Stylesheet id="leptos" href="/pkg/cairn.css" />
        <Title formatter=|page: String| format!("{page} · Cairn") />
        <Router>
            // What an in-page navigation swaps (components/navigation.rs); the live island
            // below stays.
            <div data-page="">
            <div class="flex min-h-screen flex-col md:flex-row">
                <Sidebar />
                <main class="min-w-0 flex-1 px-4 py-6 md:px-10 md:py-8">
                    <Routes fallback=NotFoundPage>
                        <Route path=path!("/clusters") view=|| view! { <ClustersPage /> } ssr=SsrMode::Async />
                        <Route path=path!("/clusters/new") view=ClusterNewPage ssr=SsrMode::Async />
                        <Route path=path!("/clusters/:id") view=ClusterPage ssr=SsrMode::Async />
                        <Route
                            path=path!("/clusters/:id/backup")
                            view=|| view! { <ClusterBackupRoute step=DialogStep::Label /> }
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/clusters/:id/schedule")
                            view=|| view! { <ClusterBackupRoute step=DialogStep::Schedule /> }
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/backups") view=BackupsPage ssr=SsrMode::Async />
                        <Route path=path!("/backups/:id") view=BackupPage ssr=SsrMode::Async />
                        <Route path=path!("/backups/:id/restore") view=RestorePage ssr=SsrMode::Async />
                        <Route path=path!("/jobs") view=JobsPage ssr=SsrMode::Async />
                        <Route path=path!("/jobs/:id") view=JobPage ssr=SsrMode::Async />
                        <Route path=path!("/networks") view=NetworksPage ssr=SsrMode::Async />
                        <Route path=path!("/integrations") view=IntegrationsPage ssr=SsrMode::Async />
                        <Route path=path!("/integrations/:id") view=IntegrationPage ssr=SsrMode::Async />
                        <Route path=path!("/events") view=EventsPage ssr=SsrMode::Async />
                        <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async />
                        <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                        <Route path=path!("/account/tokens") view=TokensPage ssr=SsrMode::Async />
                        <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                        <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async />
                    </Routes>
                </main>
            </div>
            <crate::components::Notice />
            </div>
            <crate::components::Live />
        </Router>
    }
}

#[component]
fn Sidebar() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let signing_in = move || matches!(location.pathname.get().as_str(), "/login" | "/setup");
    let link = "block rounded-md px-3 py-2 text-sm font-medium text-slate-300 \
                hover:bg-slate-800 hover:text-white focus-visible:outline-2 \
                focus-visible:outline-offset-2 focus-visible:outline-sky-400 \
                aria-[current=page]:bg-slate-800 aria-[current=page]:text-white";
    view! {
        <nav aria-label="Main" class="bg-slate-900 px-3 py-4 md:w-56 md:shrink-0">
            // A plain link: the router still handles it client-side, and unlike <A> it does not
            // also claim aria-current, which belongs to the "Clusters" item alone.
            <a href="/clusters" class="mb-6 flex items-center gap-2 px-3 text-white">
                <span aria-hidden="true" class="text-xl">"◭"</span>
                <span class="text-lg font-semibold tracking-tight">"Cairn"</span>
            </a>
            // Before signing in there is nowhere to go but the form.
            <Show when=move || !signing_in()>
            <ul class="flex gap-1 overflow-x-auto md:flex-col">
                <li><A href="/clusters" attr:class=link>"Clusters"</A></li>
                <li><A href="/backups" attr:class=link>"Backups"</A></li>
                <li><A href="/jobs" attr:class=link>"Jobs"</A></li>
                <li><A href="/networks" attr:class=link>"Networks"</A></li>
                <li><A href="/events" attr:class=link>"Events"</A></li>
                <li><A href="/audit" attr:class=link>"Audit"</A></li>
                <li><A href="/integrations" attr:class=link>"Integrations"</A></li>
                <li><A href="/account" attr:class=link>"Account"</A></li>
                <li><A href="/account/tokens" attr:class=link>"API tokens"</A></li>
            </ul>
            </Show>
            <SignedInAs />
        </nav>
    }
}

/// Who is signed in (and their role here), with the way out. Nothing before signing in.
#[component]
fn SignedInAs() -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::server_fns::who_am_i());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                me.await.ok().map(|me| view! {
                    <div class="mt-6 border-t border-slate-700 px-3 pt-4 text-xs text-slate-400" data-testid="signed-in">
                        <p class="truncate text-slate-200" title=me.email.clone()>{me.email.clone()}</p>
                        <p>{me.role.clone().unwrap_or_else(|| "no role in this project".into())}</p>
                        <form method="post" action="/logout" class="mt-2">
                            <button type="submit" class="font-medium text-slate-300 underline-offset-2 hover:text-white hover:underline">
                                "Sign out"
                            </button>
                        </form>
                    </div>
                })
            })}
        </Suspense>
    }
}
