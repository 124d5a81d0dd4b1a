//! Notices: short confirmations after an action ("Backup … started"). A server function that
//! redirects adds `notice=…` to the address it sends the browser to; the page shows it as a
//! toast, announced politely, and the live island lets it fade. Errors are never only a toast:
//! forms show them next to their fields.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Percent-encodes a query value (unreserved characters stay as they are).
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `path` with a notice for the page to show.
pub fn with_notice(path: &str, notice: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}notice={}", url_encode(notice))
}

/// Where the notice appears: bottom right, above everything, read out by screen readers.
#[component]
pub fn Notice() -> impl IntoView {
    let query = use_query_map();
    view! {
        <div role="status" aria-live="polite" class="pointer-events-none fixed inset-x-0 bottom-0 z-50 flex flex-col items-end gap-2 p-4">
            {move || query.read().get("notice").map(|message| view! {
                <div data-testid="toast" class="pointer-events-auto max-w-sm rounded-lg bg-slate-900 px-4 py-3 text-sm text-white shadow-lg">
                    {message}
                </div>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_notice_rides_in_the_address_encoded() {
        assert_eq!(
            super::with_notice("/backups", "Backup “a b” started."),
            "/backups?notice=Backup%20%E2%80%9Ca%20b%E2%80%9D%20started."
        );
        assert_eq!(
            super::with_notice("/jobs/x?tab=history", "ok"),
            "/jobs/x?tab=history&notice=ok"
        );
    }
}
