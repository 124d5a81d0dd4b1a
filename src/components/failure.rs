use crate::error::ConsoleError;
use leptos::prelude::*;

/// The error of a form's last submission, if it failed: per field for the inputs, and a
/// sentence for the top of the form.
#[derive(Clone, Copy)]
pub struct Failure(Memo<Option<ConsoleError>>, &'static [&'static str]);

impl Failure {
    /// From wherever the last error comes from (a server action's: [`Failure::of`]).
    pub fn new(last_error: impl Fn() -> Option<ConsoleError> + Send + Sync + 'static) -> Self {
        Failure(Memo::new(move |_| last_error()), &[])
    }

    /// The error of a server action's last submission.
    pub fn of<S>(action: ServerAction<S>) -> Self
    where
        S: leptos::server_fn::ServerFn<Error = ConsoleError> + Clone + Send + Sync + 'static,
        S::Output: Clone + Send + Sync + 'static,
    {
        Failure::new(move || action.value().get().and_then(Result::err))
    }

    /// The fields the form shows errors beside; any other field's error goes in the sentence
    /// on top, so none is lost.
    pub fn showing(self, fields: &'static [&'static str]) -> Self {
        Failure(self.0, fields)
    }

    /// What is wrong with one field.
    pub fn field(self, name: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || self.0.with(|e| e.as_ref().and_then(|e| e.field(name))))
    }

    /// The sentence above the form: the error itself, or how many fields need attention.
    pub fn message(self) -> Signal<Option<String>> {
        let shown = self.1;
        Signal::derive(move || self.0.with(|e| e.as_ref().map(|e| sentence(e, shown))))
    }

    /// Whether a field is wrong, for `aria-invalid`.
    pub fn invalid(self, name: &'static str) -> Signal<bool> {
        Signal::derive(move || {
            self.0
                .with(|e| e.as_ref().is_some_and(|e| e.fields.contains_key(name)))
        })
    }
}

/// The sentence above a form for `error`: how many of the fields it shows need attention, then
/// the messages of fields it has no place for (`shown` empty: every field has a place).
fn sentence(error: &ConsoleError, shown: &[&str]) -> String {
    let elsewhere: Vec<&str> = error
        .fields
        .iter()
        .filter(|(name, _)| !shown.is_empty() && !shown.contains(&name.as_str()))
        .map(|(_, message)| message.as_str())
        .collect();
    let beside = error.fields.len() - elsewhere.len();
    let mut sentence = match beside {
        0 if elsewhere.is_empty() => error.message.clone(),
        0 => String::new(),
        1 => "One field needs attention (see below).".to_owned(),
        n => format!("{n} fields need attention (see below)."),
    };
    for message in elsewhere {
        if !sentence.is_empty() {
            sentence.push(' ');
        }
        sentence.push_str(&capitalized(message));
        sentence.push('.');
    }
    sentence
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Bytes as people read them: `512 B`, `1.5 KiB`, `12.0 MiB`, `3.25 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {}", UNITS[unit])
}

/// An enum's name on the wire (`single-node`, `c4`, `system`), as forms send it.
pub fn wire<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_a_form_has_no_place_for_are_said_on_top_and_the_rest_are_counted() {
        let error = ConsoleError::fields(
            [
                ("description".to_owned(), "a name is required".to_owned()),
                ("diskSizeGb".to_owned(), "too small".to_owned()),
                ("diskType".to_owned(), "unknown disk type 'x'".to_owned()),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(
            sentence(&error, &["description", "diskSizeGb"]),
            "2 fields need attention (see below). Unknown disk type 'x'."
        );
        assert_eq!(
            sentence(&error, &[]),
            "3 fields need attention (see below).",
            "no list: every field has a place"
        );
        let conflict = ConsoleError {
            kind: crate::error::ConsoleErrorKind::Conflict,
            message: "cluster c1 is locked".into(),
            fields: Default::default(),
        };
        assert_eq!(
            sentence(&conflict, &["description"]),
            "cluster c1 is locked"
        );
    }

    #[test]
    fn bytes_read_in_binary_units_with_three_significant_digits() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
        assert_eq!(human_bytes(12 << 20), "12.0 MiB");
        assert_eq!(human_bytes(700 << 20), "700 MiB");
        assert_eq!(human_bytes(3 << 30), "3.00 GiB");
    }

    #[test]
    fn enums_go_into_forms_by_their_wire_names() {
        assert_eq!(
            wire(&cairn_model::Topology::ThreeNodeMultiZone),
            "three-node-multi-zone"
        );
        assert_eq!(wire(&cairn_model::InstanceType::C4), "c4");
    }
}
