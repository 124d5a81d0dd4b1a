use leptos::prelude::*;

/// A status as a coloured pill: green when usable, blue while changing, red when failed,
/// grey when going away. Unknown statuses are shown plainly rather than hidden.
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let tone = match status.as_str() {
        "available" | "ok" | "succeeded" | "running" => {
            "bg-emerald-50 text-emerald-800 ring-emerald-600/20"
        }
        "defunct" | "down" | "failed" => "bg-red-50 text-red-800 ring-red-600/20",
        "deleting" | "deleted" | "paused" | "cancelled" => {
            "bg-slate-100 text-slate-700 ring-slate-500/20"
        }
        "degraded" | "issues-detected" | "health-reporting-error" => {
            "bg-amber-50 text-amber-800 ring-amber-600/20"
        }
        _ => "bg-sky-50 text-sky-800 ring-sky-600/20",
    };
    let data_status = status.clone();
    view! {
        <span
            data-status=data_status
            class=format!("inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {tone}")
        >
            {status}
        </span>
    }
}
