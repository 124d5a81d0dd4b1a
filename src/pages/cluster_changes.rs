//! A cluster's changes on its page: rename, protection, expand disk, resize, upgrade. Each is a
//! small plain form with its rule beside it; the server refuses one while the cluster's lock is
//! held (a backup, another change), naming the holder, and the page shows the rolling
//! restart's progress through the cluster's status.

use crate::components::form::{INPUT, SECONDARY};
use crate::components::{Failure, Field, FormError, ProjectField};
use crate::server_fns::{ChangeCluster, ClusterEdit};
use cairn_model::restore::is_newer;
use cairn_model::{disk_type, server_versions, Cluster, ClusterStatus, InstanceType};
use leptos::prelude::*;

/// The fields the forms show errors beside (as the core names them).
const FIELDS: &[&str] = &["description", "diskSizeGb", "instanceType", "serverVersion"];

#[component]
pub fn ClusterChanges(cluster: Cluster, lock: Option<String>) -> impl IntoView {
    let change = ServerAction::<ChangeCluster>::new();
    let failure = Failure::of(change).showing(FIELDS);
    let id = cluster.id.to_string();
    let max_disk = disk_type(&cluster.provider, &cluster.disk_type)
        .map_or(cluster.disk_size_gb, |d| d.max_size_gb);
    let newer: Vec<_> = server_versions()
        .into_iter()
        .filter(|v| is_newer(&v.version, &cluster.server_version))
        .collect();
    let changing = !matches!(cluster.status, ClusterStatus::Available);
    let state = match (&lock, changing) {
        (Some(lock), _) => Some(format!(
            "Changes are refused while {lock}; they can be made once it finishes."
        )),
        (None, true) => Some(format!(
            "The cluster is {}: changes can be made once it is available.",
            cluster.status.as_str()
        )),
        (None, false) => None,
    };
    // Each form's children are their own closure: each gets its hidden fields made here.
    let hidden = |edit: ClusterEdit| {
        let edit = crate::components::wire(&edit);
        let id = id.clone();
        view! {
            <ProjectField />
            <input type="hidden" name="id" value=id />
            <input type="hidden" name="edit" value=edit />
        }
    };
    let no_newer = newer.is_empty();
    let version_rule = if no_newer {
        format!(
            "{} is the newest version offered; versions never go down.",
            cluster.server_version
        )
    } else {
        format!("Now {}; versions only go up.", cluster.server_version)
    };
    let protect_edit = if cluster.protected {
        ClusterEdit::Unprotect
    } else {
        ClusterEdit::Protect
    };
    let (protect_label, protect_rule) = if cluster.protected {
        (
            "Turn protection off",
            "Protected: it cannot be deleted until protection is off.",
        )
    } else {
        (
            "Protect from deletion",
            "Not protected: it can be deleted. Protection refuses deletion until it is turned off.",
        )
    };
    let (rename, protect, expand, resize, upgrade) = (
        hidden(ClusterEdit::Rename),
        hidden(protect_edit),
        hidden(ClusterEdit::ExpandDisk),
        hidden(ClusterEdit::Resize),
        hidden(ClusterEdit::Upgrade),
    );
    view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="changes-heading" data-testid="cluster-changes">
            <h2 id="changes-heading" class="mb-1 text-base font-semibold">"Change this cluster"</h2>
            <p class="mb-3 text-sm text-slate-600">
                "Disk, size and version changes restart the nodes one at a time; a three-node cluster keeps answering meanwhile."
            </p>
            {state.map(|state| view! {
                <p class="mb-3 text-sm text-amber-900" data-testid="changes-refused">{state}</p>
            })}
            <FormError message=failure.message() />
            <div class="grid gap-x-6 gap-y-2 md:grid-cols-2">
                <ActionForm action=change>
                    {rename}
                    <Field id="change-description" label="Name" error=failure.field("description")>
                        <input id="change-description" name="value" required maxlength="128" class=INPUT
                            value=cluster.description.clone() aria-describedby="change-description-error"
                            aria-invalid=move || failure.invalid("description").get().to_string() />
                    </Field>
                    <button type="submit" class=SECONDARY>"Rename"</button>
                </ActionForm>
                <ActionForm action=change>
                    {protect}
                    <p class="mb-1 block text-sm font-medium text-slate-800">"Deletion protection"</p>
                    <p class="mb-3 text-sm text-slate-600" data-testid="protection-rule">{protect_rule}</p>
                    <button type="submit" class=SECONDARY>{protect_label}</button>
                </ActionForm>
                <ActionForm action=change>
                    {expand}
                    <Field id="change-disk" label="Disk size (GB)" error=failure.field("diskSizeGb")>
                        <input id="change-disk" name="value" type="number" required class=INPUT
                            min=cluster.disk_size_gb + 1 max=max_disk value=cluster.disk_size_gb
                            aria-describedby="change-disk-rule change-disk-error"
                            aria-invalid=move || failure.invalid("diskSizeGb").get().to_string() />
                    </Field>
                    <p id="change-disk-rule" class="-mt-3 mb-3 text-xs text-slate-500">
                        {format!("Disks only grow: now {} GB, at most {max_disk} GB on {}.", cluster.disk_size_gb, cluster.disk_type)}
                    </p>
                    <button type="submit" class=SECONDARY>"Expand disk"</button>
                </ActionForm>
                <ActionForm action=change>
                    {resize}
                    <Field id="change-size" label="Instance size" error=failure.field("instanceType")>
                        <select id="change-size" name="value" class=INPUT aria-describedby="change-size-error"
                            aria-invalid=move || failure.invalid("instanceType").get().to_string()>
                            {InstanceType::ALL.into_iter().map(|size| {
                                let (cpus, memory) = size.resources();
                                view! {
                                    <option value=crate::components::wire(&size) selected=size == cluster.instance_type>
                                        {format!("{} — {cpus} vCPU, {memory} GB", size.name())}
                                    </option>
                                }
                            }).collect_view()}
                        </select>
                    </Field>
                    <button type="submit" class=SECONDARY>"Resize"</button>
                </ActionForm>
                <ActionForm action=change>
                    {upgrade}
                    <Field id="change-version" label="Server version" error=failure.field("serverVersion")>
                        <select id="change-version" name="value" class=INPUT disabled=no_newer
                            aria-describedby="change-version-error"
                            aria-invalid=move || failure.invalid("serverVersion").get().to_string()>
                            {newer.iter().map(|v| view! {
                                <option value=v.version.clone()>
                                    {format!("{} ({}){}", v.version, v.tag, if v.lts { ", LTS" } else { "" })}
                                </option>
                            }).collect_view()}
                        </select>
                    </Field>
                    <p class="-mt-3 mb-3 text-xs text-slate-500">
                        {version_rule}
                    </p>
                    <button type="submit" class=SECONDARY disabled=no_newer>"Upgrade"</button>
                </ActionForm>
            </div>
        </section>
    }
}
