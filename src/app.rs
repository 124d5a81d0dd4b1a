//! The HTML shell, the router and the console layout. Pages live in `pages/`.

use crate::components::project::{named_project, switched_path, with_project};
use crate::pages::{
    AccountPage, AuditPage, BackupPage, BackupsPage, ClusterBackupRoute, ClusterNewPage,
    ClusterPage, ClustersPage, DialogStep, EventsPage, IntegrationPage, IntegrationsPage, JobPage,
    JobsPage, LoginPage, NetworksPage, NotFoundPage, RestorePage, SetupPage, TokensPage,
};
use crate::server_fns::SignedIn;
use cairn_model::ProjectRole;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
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

/// The console's sections, as the sidebar lists them.
const SECTIONS: [(&str, &str); 9] = [
    ("/clusters", "Clusters"),
    ("/backups", "Backups"),
    ("/jobs", "Jobs"),
    ("/networks", "Networks"),
    ("/events", "Events"),
    ("/audit", "Audit"),
    ("/integrations", "Integrations"),
    ("/account", "Account"),
    ("/account/tokens", "API tokens"),
];

/// Whether a section's link is the current page's (its path, or a page under it).
fn in_section(path: &str, section: &str) -> bool {
    path == section
        || path
            .strip_prefix(section)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[component]
fn Sidebar() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let path = location.pathname.get_untracked();
    let signing_in = matches!(path.as_str(), "/login" | "/setup");
    // Every link keeps the project the page works in (components/project.rs).
    let project = named_project();
    let me = Resource::new(|| (), |_| crate::server_fns::who_am_i());
    let link = "block rounded-md px-3 py-2 text-sm font-medium text-slate-300 \
                hover:bg-slate-800 hover:text-white focus-visible:outline-2 \
                focus-visible:outline-offset-2 focus-visible:outline-sky-400 \
                aria-[current=page]:bg-slate-800 aria-[current=page]:text-white";
    let items = SECTIONS
        .into_iter()
        .map(|(section, name)| {
            let current = in_section(&path, section).then_some("page");
            view! {
                <li><a href=with_project(section, project.as_deref()) class=link aria-current=current>{name}</a></li>
            }
        })
        .collect_view();
    let switcher_path = path.clone();
    view! {
        <nav aria-label="Main" class="bg-slate-900 px-3 py-4 md:w-56 md:shrink-0">
            // The brand is not a section: it never claims aria-current, which belongs to
            // the "Clusters" item alone.
            <a href=with_project("/clusters", project.as_deref()) class="mb-6 flex items-center gap-2 px-3 text-white">
                <span aria-hidden="true" class="text-xl">"◭"</span>
                <span class="text-lg font-semibold tracking-tight">"Cairn"</span>
            </a>
            // Before signing in there is nowhere to go but the form.
            {(!signing_in).then(|| view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let path = switcher_path.clone();
                        Suspend::new(async move {
                            me.await.ok().map(|me| view! { <ProjectSwitcher me path /> })
                        })
                    }}
                </Suspense>
                <ul class="flex gap-1 overflow-x-auto md:flex-col">{items}</ul>
            })}
            <SignedInAs me />
        </nav>
    }
}

/// The project the page works in, and — for someone with a role in several — every project
/// they have one in, organization by organization: each link opens this page in that project
/// (its list, for a page about one thing). Links in a `<details>`: no script needed.
#[component]
fn ProjectSwitcher(me: SignedIn, path: String) -> impl IntoView {
    let current = me.project.as_ref().map(|p| p.project.id.clone());
    let label = me.project.as_ref().map_or_else(
        || "no role in this project".to_owned(),
        |p| format!("{} / {}", p.organization.name, p.project.name),
    );
    if me.projects.len() < 2 {
        return view! {
            <p class="mb-4 truncate px-3 text-xs text-slate-400" data-testid="project-current" title=label.clone()>
                {label.clone()}
            </p>
        }
        .into_any();
    }
    let mut organizations: Vec<(String, Vec<ProjectRole>)> = Vec::new();
    for entry in me.projects {
        match organizations.last_mut() {
            Some((_, list)) if list[0].organization.id == entry.organization.id => list.push(entry),
            _ => organizations.push((entry.organization.name.clone(), vec![entry])),
        }
    }
    let groups = organizations
        .into_iter()
        .map(|(organization, projects)| {
            let links = projects
                .into_iter()
                .map(|p| {
                    let here = (Some(&p.project.id) == current.as_ref()).then_some("page");
                    let href = switched_path(&path, p.project.id.as_str());
                    view! {
                        <li>
                            <a href=href aria-current=here data-testid="project-choice"
                                class="block rounded px-2 py-1 text-slate-200 hover:bg-slate-700 hover:text-white aria-[current=page]:font-semibold aria-[current=page]:text-white">
                                {p.project.name.clone()}
                                <span class="sr-only">{format!(" ({}, {})", organization, p.role.as_str())}</span>
                            </a>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <li class="mt-1">
                    <p class="px-2 text-[11px] font-semibold uppercase tracking-wide text-slate-500">{organization.clone()}</p>
                    <ul>{links}</ul>
                </li>
            }
        })
        .collect_view();
    view! {
        <details class="mb-4 px-3 text-xs text-slate-400" data-testid="project-switcher">
            <summary class="cursor-pointer truncate rounded py-1 text-slate-200 hover:text-white focus-visible:outline-2 focus-visible:outline-sky-400" title=label.clone()>
                <span class="text-slate-400">"Project: "</span>{label.clone()}
            </summary>
            <ul class="mt-1 rounded-md bg-slate-800 p-1" aria-label="Switch project">{groups}</ul>
        </details>
    }
    .into_any()
}

/// Who is signed in (and their role here), with the way out. Nothing before signing in.
#[component]
fn SignedInAs(me: Resource<Result<SignedIn, crate::error::ConsoleError>>) -> impl IntoView {
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
