//! The create-cluster form, also the restore form (prefilled from a backup, with the restore
//! rules' limits, and a target project: this one or another of the organization where the
//! user may create clusters). Every rule the server finds broken is shown next to its field,
//! all at once.

use crate::components::form::{INPUT, PRIMARY, SECONDARY};
use crate::components::{
    in_project, named_project, wire, Failure, Field, FormError, Loaded, PageHeader, ProjectField,
};
use crate::server_fns::{get_restore_choices, list_networks, CreateCluster};
use cairn_model::restore::is_newer;
use cairn_model::{
    disk_types, server_versions, Backup, InstanceType, Network, Project, ProjectionLevel,
    RestoreChoices, Topology,
};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The form that chooses the restore's target project: a GET of the restore page with
/// `?target=<project>`, so the networks offered follow the project without JavaScript too
/// (with it, choosing is enough: the select submits itself).
const TARGET_FORM: &str = "restore-target";

/// What the form starts with.
#[derive(Debug, Clone)]
struct Prefill {
    description: String,
    region: Option<String>,
    topology: Topology,
    instance_type: InstanceType,
    disk_size_gb: u32,
    server_version: String,
    projection_level: ProjectionLevel,
}

impl Default for Prefill {
    fn default() -> Self {
        Prefill {
            description: String::new(),
            region: None,
            topology: Topology::SingleNode,
            instance_type: InstanceType::C4,
            disk_size_gb: 8,
            server_version: "24.10".into(),
            projection_level: ProjectionLevel::System,
        }
    }
}

#[component]
pub fn ClusterNewPage() -> impl IntoView {
    let networks = Resource::new(|| (), |_| list_networks());
    view! {
        <PageHeader
            title="Create cluster"
            description="A new event-store cluster on this site's machines. It is provisioning until every node answers."
        />
        <Loaded resource=networks what="networks" let:networks>
            <ClusterForm networks prefill=Prefill::default() source=None targets=None />
        </Loaded>
    }
}

/// "Restore <backup label>": the create-cluster form prefilled from the backup, into the
/// project `?target=` names (the backup's own by default).
#[component]
pub fn RestorePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let target = move || query.read().get("target").unwrap_or_default();
    let data = Resource::new(
        move || (id(), target()),
        |(id, target)| get_restore_choices(id, target),
    );
    view! {
        <Loaded resource=data what="the backup" title="Restore" let:choices>
            {
                let RestoreChoices { backup, source, targets, target, networks } = choices;
                // The source cluster as it was when backed up (older backups: the defaults).
                let shaped = backup.source_shape.map_or_else(Prefill::default, |shape| Prefill {
                    topology: shape.topology,
                    instance_type: shape.instance_type,
                    projection_level: shape.projection_level,
                    ..Prefill::default()
                });
                let prefill = Prefill {
                    description: format!("{} (restored)", backup.source_cluster_description),
                    region: Some(backup.region.clone()),
                    disk_size_gb: backup.size_gb,
                    server_version: backup.server_version.clone(),
                    ..shaped
                };
                let page = format!("/backups/{}/restore", backup.id);
                let targets = Targets { projects: targets, source, target };
                view! {
                    <PageHeader
                        title=format!("Restore {}", backup.description)
                        description="A new cluster from this backup, in the backup's provider and region, in this project or another of its organization. The source cluster is left as it is."
                    />
                    // Outside the restore form (forms do not nest): the project select in it
                    // belongs to this one.
                    <form id=TARGET_FORM method="get" action=page>
                        <ProjectField />
                    </form>
                    <ClusterForm networks prefill source=Some(backup) targets=Some(targets) />
                }
            }
        </Loaded>
    }
}

/// The fields the create-cluster form shows errors beside (as the core names them).
const CLUSTER_FIELDS: &[&str] = &[
    "description",
    "networkId",
    "topology",
    "instanceType",
    "diskSizeGb",
    "serverVersion",
    "projectionLevel",
    "sourceBackupId",
];

/// The restore form's: those, and its target project's.
const RESTORE_FIELDS: &[&str] = &[
    "description",
    "networkId",
    "topology",
    "instanceType",
    "diskSizeGb",
    "serverVersion",
    "projectionLevel",
    "sourceBackupId",
    "project",
    "sourceBackupProjectId",
];

/// Where a restore may go: the projects where the user may create clusters, the backup's
/// project and the one chosen.
#[derive(Debug, Clone)]
struct Targets {
    projects: Vec<Project>,
    source: Project,
    target: Project,
}

impl Targets {
    /// The project the restore form posts in (its server function acts there): the target
    /// when it is another project, else the page's own project as the address names it.
    fn posted_in(&self) -> Option<String> {
        if self.target.id != self.source.id {
            Some(self.target.id.to_string())
        } else {
            named_project()
        }
    }
}

#[component]
fn TargetField(targets: Targets, error: Signal<Option<String>>) -> impl IntoView {
    let Targets {
        projects,
        source,
        target,
    } = targets;
    let hint = if projects.is_empty() {
        "You may not create clusters in any project of this organization.".to_owned()
    } else {
        format!(
            "A network belongs to a project: the networks below are {}'s.",
            target.name
        )
    };
    let source_offered = projects.iter().any(|p| p.id == source.id);
    let options = projects
        .iter()
        .map(|p| {
            let text = if p.id == source.id {
                format!("{} (the backup's project)", p.name)
            } else {
                p.name.clone()
            };
            view! { <option value=p.id.to_string() selected=p.id == target.id>{text}</option> }
        })
        .collect_view();
    view! {
        <Field id="cluster-project" label="Project" hint error>
            <div class="flex gap-2">
                <select id="cluster-project" name="target" form=TARGET_FORM class=INPUT
                    data-submit-on-change="" aria-describedby="cluster-project-error">
                    {(!source_offered).then(|| view! {
                        <option value=source.id.to_string() disabled>{format!("{} (the backup's project)", source.name)}</option>
                    })}
                    {options}
                </select>
                <button type="submit" form=TARGET_FORM class=format!("mt-1 shrink-0 {SECONDARY}")>
                    "Show its networks"
                </button>
            </div>
        </Field>
    }
}

#[component]
fn ClusterForm(
    networks: Vec<Network>,
    prefill: Prefill,
    source: Option<Backup>,
    targets: Option<Targets>,
) -> impl IntoView {
    let create = ServerAction::<CreateCluster>::new();
    let shown = if targets.is_some() {
        RESTORE_FIELDS
    } else {
        CLUSTER_FIELDS
    };
    let failure = Failure::of(create).showing(shown);
    // Every network of a site has the site's provider; its catalogue names the disk types.
    let provider = source
        .as_ref()
        .map(|b| b.provider.clone())
        .or_else(|| networks.first().map(|n| n.provider.clone()))
        .unwrap_or_else(|| cairn_model::LOCAL_PROVIDER.to_owned());
    let disks = disk_types(&provider);
    let disk = disks
        .last()
        .cloned()
        .expect("every provider has a disk type");
    let min_disk = source
        .as_ref()
        .map_or(disk.min_size_gb, |b| b.size_gb.max(disk.min_size_gb));
    let disk_hint = if source.is_some() {
        format!(
            "At least the backup's size; at most {} GB.",
            disk.max_size_gb
        )
    } else {
        format!("{} to {} GB.", disk.min_size_gb, disk.max_size_gb)
    };
    // A restore goes to a network of the backup's provider and region only; the others are
    // listed, disabled, so the user sees why they are not offered.
    let (usable, other): (Vec<Network>, Vec<Network>) = networks.into_iter().partition(|n| {
        source
            .as_ref()
            .is_none_or(|b| n.provider == b.provider && n.region == b.region)
    });
    let chosen = usable
        .iter()
        .find(|n| prefill.region.as_ref().is_none_or(|r| &n.region == r))
        .map(|n| n.id.clone());
    let versions = server_versions();
    let backup_version = source.as_ref().map(|b| b.server_version.clone());
    let below_backup = move |version: &str| {
        backup_version
            .as_ref()
            .is_some_and(|backup| is_newer(backup, version))
    };
    let option = |value: String, text: String, selected: bool, disabled: bool| {
        view! { <option value=value selected=selected disabled=disabled>{text}</option> }
    };
    let is_restore = source.is_some();
    // A plain form posts in the page's project; a restore in its target project, naming the
    // backup's project when that is another one.
    let posted_in = targets
        .as_ref()
        .map_or_else(named_project, Targets::posted_in);
    let from_project = targets
        .as_ref()
        .filter(|t| t.target.id != t.source.id)
        .map(|t| t.source.id.to_string());
    let project_error = Signal::derive(move || {
        failure
            .field("sourceBackupProjectId")
            .get()
            .or_else(|| failure.field("project").get())
    });
    view! {
        <ActionForm action=create attr:class="max-w-2xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <ProjectField project=posted_in />
            <FormError message=failure.message() />
            {from_project.map(|project| view! {
                <input type="hidden" name="request[sourceBackupProjectId]" value=project />
            })}
            {source.as_ref().map(|b| view! {
                <input type="hidden" name="request[sourceBackupId]" value=b.id.to_string() />
                <p class="mb-4 rounded-md bg-sky-50 px-3 py-2 text-sm text-sky-900">
                    {format!(
                        "From backup {} of {} ({} GB disk, server {}, {} / {}).",
                        b.id, b.source_cluster_description, b.size_gb, b.server_version, b.provider, b.region
                    )}
                </p>
            })}
            <Field id="cluster-description" label="Name" error=failure.field("description")>
                <input id="cluster-description" name="request[description]" class=INPUT required
                    aria-describedby="cluster-description-error" aria-invalid=move || failure.invalid("description").get().to_string()
                    value=prefill.description.clone() />
            </Field>
            {targets.map(|targets| view! { <TargetField targets error=project_error /> })}
            <Field
                id="cluster-network"
                label="Network"
                hint="The cluster takes the network's provider and region."
                error=failure.field("networkId")
            >
                <select id="cluster-network" name="request[networkId]" class=INPUT
                    aria-describedby="cluster-network-error" aria-invalid=move || failure.invalid("networkId").get().to_string()>
                    {usable.iter().map(|n| option(
                        n.id.to_string(),
                        format!("{} — {} / {}", n.description, n.provider, n.region),
                        Some(&n.id) == chosen.as_ref(),
                        false,
                    )).collect_view()}
                    {(!other.is_empty()).then(|| view! {
                        <optgroup label="Another provider or region (a backup restores only where it was taken)">
                            {other.iter().map(|n| option(
                                n.id.to_string(),
                                format!("{} — {} / {}", n.description, n.provider, n.region),
                                false,
                                true,
                            )).collect_view()}
                        </optgroup>
                    })}
                </select>
            </Field>
            <div class="grid gap-x-4 sm:grid-cols-2">
                <Field id="cluster-topology" label="Topology" error=failure.field("topology")>
                    <select id="cluster-topology" name="request[topology]" class=INPUT>
                        {[Topology::SingleNode, Topology::ThreeNodeMultiZone].into_iter().map(|t| option(
                            wire(&t), t.label().to_owned(), t == prefill.topology, false,
                        )).collect_view()}
                    </select>
                </Field>
                <Field id="cluster-instance" label="Instance size" error=failure.field("instanceType")>
                    <select id="cluster-instance" name="request[instanceType]" class=INPUT>
                        {InstanceType::ALL.into_iter().map(|t| {
                            let (cpus, memory) = t.resources();
                            option(wire(&t), format!("{} — {cpus} vCPU, {memory} GB", t.name()), t == prefill.instance_type, false)
                        }).collect_view()}
                    </select>
                </Field>
                <Field
                    id="cluster-disk"
                    label="Disk size (GB)"
                    hint=disk_hint
                    error=failure.field("diskSizeGb")
                >
                    <input id="cluster-disk" name="request[diskSizeGb]" type="number" class=INPUT required
                        min=min_disk.to_string() max=disk.max_size_gb.to_string()
                        aria-describedby="cluster-disk-error" aria-invalid=move || failure.invalid("diskSizeGb").get().to_string()
                        value=prefill.disk_size_gb.to_string() />
                </Field>
                {if disks.len() == 1 {
                    view! { <input type="hidden" name="request[diskType]" value=disk.name.clone() /> }.into_any()
                } else {
                    view! {
                        <Field id="cluster-disk-type" label="Disk type" error=failure.field("diskType")>
                            <select id="cluster-disk-type" name="request[diskType]" class=INPUT aria-describedby="cluster-disk-type-error">
                                {disks.iter().map(|d| option(d.name.clone(), d.name.clone(), d.name == disk.name, false)).collect_view()}
                            </select>
                        </Field>
                    }
                    .into_any()
                }}
                <Field
                    id="cluster-version"
                    label="Server version"
                    hint=if is_restore { "Not below the backup's version." } else { "" }
                    error=failure.field("serverVersion")
                >
                    <select id="cluster-version" name="request[serverVersion]" class=INPUT
                        aria-describedby="cluster-version-error">
                        {versions.iter().map(|v| {
                            let mut text = format!("{} ({})", v.version, v.tag);
                            if v.lts { text.push_str(" LTS"); }
                            if v.recommended { text.push_str(", recommended"); }
                            option(v.version.clone(), text, v.version == prefill.server_version, below_backup(&v.version))
                        }).collect_view()}
                    </select>
                </Field>
                <Field id="cluster-projections" label="Projections" error=failure.field("projectionLevel")>
                    <select id="cluster-projections" name="request[projectionLevel]" class=INPUT>
                        {[ProjectionLevel::Off, ProjectionLevel::System, ProjectionLevel::User].into_iter().map(|p| option(
                            wire(&p), p.label().to_owned(), p == prefill.projection_level, false,
                        )).collect_view()}
                    </select>
                </Field>
            </div>
            <p class="mb-4 text-sm text-red-700" data-testid="sourceBackupId-error">{move || failure.field("sourceBackupId").get()}</p>
            <div class="flex justify-end gap-2">
                <a href=in_project(if is_restore { "/backups" } else { "/clusters" }) class=SECONDARY>"Cancel"</a>
                <button type="submit" class=PRIMARY disabled=move || create.pending().get()>
                    {move || match (create.pending().get(), is_restore) {
                        (true, _) => "Creating…",
                        (false, true) => "Restore into a new cluster",
                        (false, false) => "Create cluster",
                    }}
                </button>
            </div>
        </ActionForm>
    }
}
