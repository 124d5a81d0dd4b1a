use leptos::prelude::*;
use std::time::Duration;

/// How often a live page asks for fresh data.
pub const REFRESH: Duration = Duration::from_secs(2);

/// Calls `refresh` every [`REFRESH`] while the page is open in a live browser (never on the
/// server, never after the page is left): statuses, progress and history update by themselves.
pub fn keep_fresh(refresh: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        let refresh = refresh.clone();
        let handle = set_interval_with_handle(refresh, REFRESH).ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    });
}
