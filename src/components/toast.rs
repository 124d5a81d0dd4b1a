//! Toasts: short confirmations after an action ("Backup … started"), announced politely and
//! gone after a few seconds. Errors are never only a toast: forms show them next to fields.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use std::time::Duration;

/// How long a toast stays.
const SHOWN_FOR: Duration = Duration::from_secs(6);

#[derive(Clone, Copy)]
pub struct Toasts(RwSignal<Vec<(u64, String)>>);

impl Toasts {
    /// Provides the toasts to every page below; call once, above the router.
    pub fn provide() -> Toasts {
        let toasts = Toasts(RwSignal::new(Vec::new()));
        provide_context(toasts);
        toasts
    }

    pub fn push(self, message: String) {
        let id = self
            .0
            .with_untracked(|t| t.last().map_or(0, |(id, _)| id + 1));
        self.0.update(|t| t.push((id, message)));
        set_timeout(move || self.dismiss(id), SHOWN_FOR);
    }

    fn dismiss(self, id: u64) {
        self.0.update(|t| t.retain(|(other, _)| *other != id));
    }
}

/// Shows a toast each time `action` succeeds, saying what `message` makes of its result.
pub fn toast_on_success<S>(
    action: ServerAction<S>,
    message: impl Fn(&S::Output) -> String + Send + Sync + 'static,
) where
    S: ServerFn + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    let Some(toasts) = use_context::<Toasts>() else {
        return;
    };
    Effect::new(move |_| {
        let text = action.value().with(|value| match value {
            Some(Ok(output)) => Some(message(output)),
            _ => None,
        });
        if let Some(text) = text {
            toasts.push(text);
        }
    });
}

/// Where toasts appear: bottom right, above everything, read out by screen readers.
#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_context::<Toasts>().expect("Toasts::provide was called");
    view! {
        <div role="status" aria-live="polite" class="pointer-events-none fixed inset-x-0 bottom-0 z-50 flex flex-col items-end gap-2 p-4">
            <For
                each=move || toasts.0.get()
                key=|(id, _)| *id
                children=move |(id, message)| view! {
                    <div data-testid="toast" class="pointer-events-auto flex max-w-sm items-start gap-3 rounded-lg bg-slate-900 px-4 py-3 text-sm text-white shadow-lg">
                        <span class="flex-1">{message}</span>
                        <button
                            type="button"
                            class="text-slate-300 hover:text-white focus-visible:outline-2 focus-visible:outline-sky-400"
                            aria-label="Dismiss"
                            on:click=move |_| toasts.dismiss(id)
                        >
                            "×"
                        </button>
                    </div>
                }
            />
        </div>
    }
}
