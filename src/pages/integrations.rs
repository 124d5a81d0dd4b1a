//! Integrations (list, create, a page each with its delivery log, test, delete) and the
//! Events page (issues and notifications). Plain forms: they work without JavaScript.

use crate::components::form::{INPUT, LINK, PRIMARY, SECONDARY};
use crate::components::{
    in_project, page_query, DataTable, Detail, Failure, Field, FilterForm, FormError, Loaded,
    PageHeader, PageLinks, ProjectField, StatusBadge, Time,
};
use crate::server_fns::{
    get_integration, list_integrations, page_events, CreateIntegration, DeleteIntegration,
    TestIntegration,
};
use cairn_model::{
    Delivery, DeliveryStatus, Event, EventKind, IntegrationView, IssueStatus, SinkView,
};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

fn sink_words(data: &SinkView) -> String {
    match data {
        SinkView::Webhook { url, .. } => format!("Webhook to {url}"),
        SinkView::Slack { url_display } => format!("Slack ({url_display})"),
        SinkView::Email { to, smtp_host, .. } => {
            format!("E-mail to {} via {smtp_host}", to.join(", "))
        }
    }
}

fn delivery_status(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Delivered => "succeeded",
        DeliveryStatus::Failed => "failed",
    }
}

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let create = ServerAction::<CreateIntegration>::new();
    let integrations = Resource::new(move || create.version().get(), |_| list_integrations());
    let failure = Failure::of(create);
    view! {
        <PageHeader
            title="Integrations"
            description="Where Cairn tells people: notifications when a backup, a deletion, a restore or a scheduled run fails; issues when a job's backups are overdue or a cluster is unhealthy, and again when that clears."
        />
        <div data-live="integrations" class="mb-8">
        <Loaded resource=integrations what="integrations" let:list>
            <DataTable
                headers=&["Description", "Sends", "To", "Created"]
                empty_title="No integrations yet"
                empty_message="Add one below: a webhook, a Slack channel or an e-mail address."
                rows=list
                row=|i: IntegrationView| view! {
                    <tr>
                        <td class="px-4 py-3"><a class=LINK href=in_project(format!("/integrations/{}", i.id)) data-row-link="">{i.description.clone()}</a></td>
                        <td class="px-4 py-3">{i.source.as_str()}</td>
                        <td class="px-4 py-3 break-all">{sink_words(&i.data)}</td>
                        <td class="px-4 py-3"><Time time=i.created /></td>
                    </tr>
                }
            />
        </Loaded>
        </div>
        <section class="max-w-2xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 class="mb-4 text-lg font-semibold">"Add an integration"</h2>
            <ActionForm action=create>
                <ProjectField />
                <FormError message=failure.message() />
                <Field id="integration-description" label="Description" error=failure.field("description")>
                    <input id="integration-description" name="form[description]" class=INPUT required
                        aria-describedby="integration-description-error" />
                </Field>
                <div class="grid gap-x-4 sm:grid-cols-2">
                    <Field id="integration-source" label="Sends" error=failure.field("source")>
                        <select id="integration-source" name="form[source]" class=INPUT>
                            <option value="notifications" selected>"Notifications (failures)"</option>
                            <option value="issues">"Issues (overdue jobs, unhealthy clusters)"</option>
                        </select>
                    </Field>
                    <Field id="integration-sink" label="To" error=failure.field("data.sink")>
                        <select id="integration-sink" name="form[sink]" class=INPUT>
                            <option value="webhook" selected>"A webhook"</option>
                            <option value="slack">"Slack"</option>
                            <option value="email">"E-mail"</option>
                        </select>
                    </Field>
                </div>
                <fieldset class="mb-4 rounded-md border border-slate-200 p-4">
                    <legend class="px-1 text-sm font-semibold">"Webhook"</legend>
                    <Field id="integration-url" label="Address" hint="Receives each event as JSON, POSTed." error=failure.field("data.url")>
                        <input id="integration-url" name="form[url]" class=INPUT placeholder="https://…" />
                    </Field>
                    <Field id="integration-secret" label="Signing secret" hint="At least 16 characters. Each message carries X-Cairn-Signature: sha256=<hex HMAC-SHA256 of the body>. Never shown again." error=failure.field("data.secret")>
                        <input id="integration-secret" name="form[secret]" type="password" autocomplete="off" class=INPUT />
                    </Field>
                </fieldset>
                <fieldset class="mb-4 rounded-md border border-slate-200 p-4">
                    <legend class="px-1 text-sm font-semibold">"Slack"</legend>
                    <Field id="integration-slack" label="Incoming webhook address" hint="Never shown again." error=failure.field("data.url")>
                        <input id="integration-slack" name="form[slack_url]" type="password" autocomplete="off" class=INPUT placeholder="https://hooks.slack.com/services/…" />
                    </Field>
                </fieldset>
                <fieldset class="mb-4 rounded-md border border-slate-200 p-4">
                    <legend class="px-1 text-sm font-semibold">"E-mail"</legend>
                    <div class="grid gap-x-4 sm:grid-cols-3">
                        <div class="sm:col-span-2">
                            <Field id="integration-smtp-host" label="SMTP server" error=failure.field("data.smtpHost")>
                                <input id="integration-smtp-host" name="form[smtp_host]" class=INPUT placeholder="smtp.example.com" />
                            </Field>
                        </div>
                        <Field id="integration-smtp-port" label="Port" error=failure.field("data.smtpPort")>
                            <input id="integration-smtp-port" name="form[smtp_port]" class=INPUT value="587" inputmode="numeric" />
                        </Field>
                    </div>
                    <Field id="integration-from" label="From" error=failure.field("data.from")>
                        <input id="integration-from" name="form[from]" class=INPUT placeholder="cairn@example.com" />
                    </Field>
                    <Field id="integration-to" label="To" hint="One or more addresses, separated by commas." error=failure.field("data.to")>
                        <input id="integration-to" name="form[to]" class=INPUT placeholder="ops@example.com" />
                    </Field>
                    <div class="grid gap-x-4 sm:grid-cols-2">
                        <Field id="integration-username" label="User name (optional)" error=Signal::derive(|| None::<String>)>
                            <input id="integration-username" name="form[username]" class=INPUT autocomplete="off" />
                        </Field>
                        <Field id="integration-password" label="Password (optional)" error=Signal::derive(|| None::<String>)>
                            <input id="integration-password" name="form[password]" type="password" class=INPUT autocomplete="off" />
                        </Field>
                    </div>
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="form[starttls]" value="on" checked />
                        "Use STARTTLS"
                    </label>
                </fieldset>
                <p class="mb-4 text-xs text-slate-500">"Only the fields of the chosen destination are used."</p>
                <button type="submit" class=PRIMARY>"Add integration"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn IntegrationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let test = ServerAction::<TestIntegration>::new();
    let delete = ServerAction::<DeleteIntegration>::new();
    let data = Resource::new(
        move || (id(), test.version().get()),
        |(id, _)| get_integration(id),
    );
    let test_failure = Failure::of(test);
    let delete_failure = Failure::of(delete);
    view! {
        <FormError message=test_failure.message() />
        <FormError message=delete_failure.message() />
        <Loaded resource=data what="the integration" let:found>
            <IntegrationDetail integration=found.0 log=found.1 test delete />
        </Loaded>
    }
}

#[component]
fn IntegrationDetail(
    integration: IntegrationView,
    log: Vec<Delivery>,
    test: ServerAction<TestIntegration>,
    delete: ServerAction<DeleteIntegration>,
) -> impl IntoView {
    let test_id = integration.id.to_string();
    let delete_id = test_id.clone();
    let settings = match &integration.data {
        SinkView::Webhook {
            url,
            secret_display,
        } => vec![
            ("Sends to", format!("Webhook {url}")),
            ("Signing secret", secret_display.clone()),
        ],
        SinkView::Slack { url_display } => {
            vec![("Sends to", format!("Slack incoming webhook {url_display}"))]
        }
        SinkView::Email {
            smtp_host,
            smtp_port,
            from,
            to,
            username,
            password_display,
            starttls,
        } => vec![
            ("Sends to", to.join(", ")),
            ("From", from.clone()),
            (
                "SMTP server",
                format!(
                    "{smtp_host}:{smtp_port}{}",
                    if *starttls { " (STARTTLS)" } else { "" }
                ),
            ),
            (
                "Signs in as",
                match (username, password_display) {
                    (Some(user), Some(password)) => format!("{user} ({password})"),
                    (Some(user), None) => user.clone(),
                    _ => "nobody (no authentication)".into(),
                },
            ),
        ],
    };
    view! {
        <PageHeader title=integration.description.clone() description=format!("Sends {} · {}", integration.source.as_str(), sink_words(&integration.data))>
            <div class="flex flex-wrap items-start gap-2">
                <ActionForm action=test>
                    <ProjectField />
                    <input type="hidden" name="id" value=test_id />
                    <button type="submit" class=SECONDARY>"Send test"</button>
                </ActionForm>
                {crate::confirm_by_id!(
                    delete,
                    delete_id,
                    "Delete",
                    "Delete this integration? Messages still queued for it are not sent.",
                    None,
                    "Delete integration",
                )}
            </div>
        </PageHeader>
        <dl class="mb-8 max-w-3xl divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white px-4 shadow-sm">
            {settings.into_iter().map(|(term, value)| view! { <Detail term>{value}</Detail> }).collect_view()}
            <Detail term="Created"><Time time=integration.created /></Detail>
        </dl>
        <h2 class="mb-3 text-lg font-semibold">"Delivery log"</h2>
        <div data-live="deliveries">
        <DataTable
            headers=&["Message", "Status", "Tries", "Queued", "Last error / next try"]
            testid="delivery-log"
            empty_title="Nothing sent yet"
            empty_message="Messages appear here as they are sent, with each retry and its error."
            rows=log
            row=|d: Delivery| view! {
                <tr>
                    <td class="px-4 py-3">{d.summary.clone()}</td>
                    <td class="px-4 py-3"><StatusBadge status=delivery_status(d.status).to_owned() /></td>
                    <td class="px-4 py-3">{d.attempts}</td>
                    <td class="px-4 py-3"><Time time=d.created /></td>
                    <td class="px-4 py-3 text-slate-600">
                        {d.last_error.clone().unwrap_or_default()}
                        {d.next_attempt.filter(|_| d.status == DeliveryStatus::Pending).map(|time| view! {
                            <span class="block text-xs">"next try " <Time time /></span>
                        })}
                    </td>
                </tr>
            }
        />
        </div>
    }
}

fn event_state(event: &Event) -> String {
    match (event.kind, event.status) {
        (EventKind::Issue, Some(IssueStatus::Open)) => "open".into(),
        (EventKind::Issue, _) => "closed".into(),
        (EventKind::Notification, _) => "notification".into(),
    }
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| page_query(&params.read()));
    let events = Resource::new(move || query.get(), page_events);
    view! {
        <PageHeader
            title="Events"
            description="Issues (open while their condition holds) and notifications (failures), newest first. Integrations send them on."
        />
        <FilterForm
            action="/events".to_owned()
            query=query.get_untracked()
            what="events"
            statuses=cairn_model::paging::EVENT_STATES
        />
        <div data-live="events">
        <Loaded resource=events what="events" let:page>
            <DataTable
                headers=&["What", "State", "Details", "When"]
                empty_title=if query.get_untracked().is_filtered() { "No events match" } else { "Nothing has happened yet" }
                empty_message=if query.get_untracked().is_filtered() { "No event meets every filter: change or clear them." } else { "Failures and issues appear here when they happen." }
                rows=page.items
                row=|e: Event| {
                    let state = event_state(&e);
                    let tone = if state == "open" { "failed" } else if state == "closed" { "succeeded" } else { "deleted" };
                    view! {
                        <tr>
                            <td class="px-4 py-3 font-medium">{e.subject.clone()}
                                <span class="block text-xs font-normal text-slate-500">{e.category.clone()}</span>
                            </td>
                            <td class="px-4 py-3"><StatusBadge status=tone.to_owned() /><span class="sr-only">{state.clone()}</span>
                                <span class="ml-1 text-xs text-slate-600">{state.clone()}</span></td>
                            <td class="px-4 py-3 text-slate-700">{e.message.clone()}</td>
                            <td class="px-4 py-3"><Time time=e.created />
                                {e.closed.map(|time| view! { <span class="block text-xs text-slate-500">"closed " <Time time /></span> })}
                            </td>
                        </tr>
                    }
                }
            />
            <PageLinks base="/events".to_owned() query=query.get_untracked() next=page.next_token />
        </Loaded>
        </div>
    }
}
