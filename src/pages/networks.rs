use crate::components::{format_utc, Loaded, PageHeader, StatusBadge, Table};
use crate::server_fns::list_networks;
use cairn_model::Network;
use leptos::prelude::*;

#[component]
pub fn NetworksPage() -> impl IntoView {
    let networks = Resource::new(|| (), |_| list_networks());
    view! {
        <PageHeader
            title="Networks"
            description="Where clusters live. A cluster takes its network's provider and region, and a backup can only be restored into a network of the same provider and region."
        />
        <Loaded resource=networks what="networks" let:list>
            <NetworkTable networks=list />
        </Loaded>
    }
}

/// The networks with a filter that narrows the rows as you type (an island: it runs in the
/// browser; without JavaScript every row is shown).
#[island]
pub fn NetworkTable(networks: Vec<Network>) -> impl IntoView {
    let (filter, set_filter) = signal(String::new());
    let total = networks.len();
    let matching = move || {
        let needle = filter.get().trim().to_lowercase();
        networks
            .iter()
            .filter(|n| {
                needle.is_empty()
                    || [&n.description, &n.region, &n.provider, n.id.as_str()]
                        .iter()
                        .any(|field| field.to_lowercase().contains(&needle))
            })
            .cloned()
            .collect::<Vec<_>>()
    };
    let matching = Memo::new(move |_| matching());
    view! {
        <div class="mb-3 flex flex-wrap items-center justify-between gap-3">
            <label class="flex items-center gap-2 text-sm text-slate-700">
                <span>"Filter"</span>
                <input
                    type="search"
                    name="filter"
                    placeholder="region, description, provider or id"
                    class="w-72 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/30"
                    on:input=move |ev| set_filter.set(event_target_value(&ev))
                />
            </label>
            <p class="text-sm text-slate-600" data-testid="network-count" aria-live="polite">
                {move || {
                    let shown = matching.with(Vec::len);
                    if shown == total {
                        format!("{total} networks")
                    } else {
                        format!("{shown} of {total} networks")
                    }
                }}
            </p>
        </div>
        <Table headers=&["Description", "Network ID", "Provider", "Region", "Access", "Status", "Created"]>
            <For
                each=move || matching.get()
                key=|network| network.id.clone()
                children=|network| view! { <NetworkRow network /> }
            />
        </Table>
    }
}

#[component]
fn NetworkRow(network: Network) -> impl IntoView {
    let access = if network.public_access {
        "Public"
    } else {
        "Private"
    };
    view! {
        <tr data-testid="network-row">
            <td class="px-4 py-3 font-medium text-slate-900">{network.description}</td>
            <td class="px-4 py-3 font-mono text-xs text-slate-600">{network.id.to_string()}</td>
            <td class="px-4 py-3">{network.provider}</td>
            <td class="px-4 py-3">{network.region}</td>
            <td class="px-4 py-3">{access}</td>
            <td class="px-4 py-3"><StatusBadge status=network.status.as_str().to_owned() /></td>
            <td class="px-4 py-3 whitespace-nowrap text-slate-600">{format_utc(network.created)}</td>
        </tr>
    }
}
