use leptos::prelude::*;

/// A destructive action behind a second click: "Delete" opens a question with the real
/// button. Built on `<details>`, so it works with the keyboard and without JavaScript; the
/// form inside (children) does the deed.
#[component]
pub fn Confirm(
    /// What the first button says ("Delete").
    label: &'static str,
    /// The question, e.g. "Delete backup nightly? Its snapshot is removed too."
    #[prop(into)]
    question: String,
    /// When set, the action is not allowed, and this says why (shown instead of the button).
    refused: Option<String>,
    children: Children,
) -> impl IntoView {
    match refused {
        Some(reason) => {
            let title = reason.clone();
            view! {
            <span class="inline-flex items-center gap-1 text-xs text-slate-500" title=title>
                <button type="button" disabled class="rounded-md px-2 py-1 text-sm font-medium text-slate-400 ring-1 ring-inset ring-slate-200">
                    {label}
                </button>
                <span class="sr-only">{reason}</span>
            </span>
            }
            .into_any()
        }
        None => view! {
            <details class="group relative inline-block">
                <summary class="cursor-pointer list-none rounded-md px-2 py-1 text-sm font-medium text-red-800 ring-1 ring-inset ring-red-200 hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-red-600">
                    {label}
                </summary>
                <div class="absolute right-0 z-20 mt-2 w-72 rounded-lg border border-slate-200 bg-white p-3 text-left text-sm shadow-lg">
                    <p class="mb-3 text-slate-700">{question}</p>
                    {children()}
                </div>
            </details>
        }
        .into_any(),
    }
}

/// The console's usual destructive action: `Confirm` around a form that posts one hidden `id`
/// (and the page's project) to a server action, with a red button. A macro rather than a component because
/// `ActionForm` is generic over the server function, and a component would have to repeat
/// all of its bounds.
///
/// `confirm_by_id!(action, id, "Delete", question, refused, "Delete backup")`
#[macro_export]
macro_rules! confirm_by_id {
    ($action:expr, $id:expr, $label:expr, $question:expr, $refused:expr, $button:expr $(,)?) => {{
        use leptos::form::ActionForm;
        use $crate::components::{form::DANGER, Confirm, ProjectField};
        leptos::view! {
            <Confirm label=$label question=$question refused=$refused>
                <ActionForm action=$action>
                    <ProjectField />
                    <input type="hidden" name="id" value=$id />
                    <button type="submit" class=DANGER>{$button}</button>
                </ActionForm>
            </Confirm>
        }
    }};
}
