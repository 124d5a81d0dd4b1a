//! Backup label templates (domain.md §3): free text with `{variable}` or `{variable:format}`
//! placeholders. Parsed once, rendered once per backup with the backup's creation time. The
//! console's live preview runs this same code in the browser, so the preview is what is stored.

use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt;

/// The label the console proposes.
pub const DEFAULT_LABEL: &str = "{cluster:description} - {datetime:utc}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexFormat {
    Decimal,
    Hex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterField {
    Description,
    Id,
    Provider,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateTimeFormat {
    Utc,
    Rfc822,
    Unix,
    Json,
    Rfc3339,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Index(IndexFormat),
    Cluster(ClusterField),
    DateTime(DateTimeFormat),
}

/// One variable with its formats; the first format is the default.
struct Variable {
    name: &'static str,
    formats: &'static [&'static str],
}

const VARIABLES: [Variable; 3] = [
    Variable {
        name: "index",
        formats: &["decimal", "hex"],
    },
    Variable {
        name: "cluster",
        formats: &["description", "id", "provider"],
    },
    Variable {
        name: "datetime",
        formats: &["utc", "rfc822", "unix", "json", "rfc3339"],
    },
];

/// The legend the console shows next to the label field: every placeholder, default first.
pub fn placeholders() -> Vec<(String, bool)> {
    VARIABLES
        .iter()
        .flat_map(|v| {
            v.formats
                .iter()
                .enumerate()
                .map(move |(i, f)| (format!("{{{}:{}}}", v.name, f), i == 0))
        })
        .collect()
}

/// Why a template cannot be used. Positions count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelError {
    Empty,
    Unclosed {
        position: usize,
    },
    Unopened {
        position: usize,
    },
    EmptyPlaceholder {
        position: usize,
    },
    UnknownVariable {
        placeholder: String,
        name: String,
    },
    UnknownFormat {
        placeholder: String,
        variable: String,
        format: String,
    },
}

fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelError::Empty => write!(f, "a label is required"),
            LabelError::Unclosed { position } => {
                write!(
                    f,
                    "the '{{' at position {position} is never closed with '}}'"
                )
            }
            LabelError::Unopened { position } => {
                write!(f, "the '}}' at position {position} has no opening '{{'")
            }
            LabelError::EmptyPlaceholder { position } => {
                write!(f, "the placeholder at position {position} is empty")
            }
            LabelError::UnknownVariable { placeholder, name } => {
                let names: Vec<_> = VARIABLES.iter().map(|v| v.name).collect();
                write!(
                    f,
                    "unknown variable '{name}' in {placeholder}: use {}",
                    or_list(&names)
                )
            }
            LabelError::UnknownFormat {
                placeholder,
                variable,
                format,
            } => {
                let formats = VARIABLES
                    .iter()
                    .find(|v| v.name == variable)
                    .map(|v| v.formats)
                    .unwrap_or_default();
                write!(
                    f,
                    "unknown format '{format}' for {variable} in {placeholder}: use {}",
                    or_list(formats)
                )
            }
        }
    }
}

impl std::error::Error for LabelError {}

/// What a label is rendered from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelContext<'a> {
    /// 1 + the number of backups ever made of the source cluster.
    pub index: u64,
    pub cluster_description: &'a str,
    pub cluster_id: &'a str,
    pub cluster_provider: &'a str,
    /// The backup's creation time.
    pub time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelTemplate {
    parts: Vec<Part>,
}

impl LabelTemplate {
    pub fn parse(template: &str) -> Result<Self, LabelError> {
        if template.trim().is_empty() {
            return Err(LabelError::Empty);
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = template.chars().enumerate();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        if c == '{' {
                            break;
                        }
                        inner.push(c);
                    }
                    if !closed {
                        return Err(LabelError::Unclosed { position: i + 1 });
                    }
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(placeholder(&inner, i + 1)?);
                }
                '}' => return Err(LabelError::Unopened { position: i + 1 }),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Self { parts })
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    pub fn render(&self, context: &LabelContext<'_>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Index(IndexFormat::Decimal) => out.push_str(&context.index.to_string()),
                Part::Index(IndexFormat::Hex) => out.push_str(&format!("{:x}", context.index)),
                Part::Cluster(ClusterField::Description) => {
                    out.push_str(context.cluster_description)
                }
                Part::Cluster(ClusterField::Id) => out.push_str(context.cluster_id),
                Part::Cluster(ClusterField::Provider) => {
                    out.push_str(&context.cluster_provider.to_lowercase())
                }
                Part::DateTime(format) => out.push_str(&format_time(*format, context.time)),
            }
        }
        out
    }
}

fn format_time(format: DateTimeFormat, time: DateTime<Utc>) -> String {
    match format {
        // Go's RFC822 layout, which the real product prints: `23 Jan 25 18:12 UTC`.
        DateTimeFormat::Utc => time.format("%d %b %y %H:%M UTC").to_string(),
        DateTimeFormat::Rfc822 => time.format("%a, %d %b %Y %H:%M:%S %z").to_string(),
        DateTimeFormat::Unix => time.timestamp().to_string(),
        DateTimeFormat::Json => time.to_rfc3339_opts(SecondsFormat::Millis, true),
        DateTimeFormat::Rfc3339 => time.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// `inner` is what stood between the braces; `position` is where the `{` was.
fn placeholder(inner: &str, position: usize) -> Result<Part, LabelError> {
    let shown = format!("{{{inner}}}");
    let (name, format) = match inner.split_once(':') {
        Some((name, format)) => (
            name.trim().to_lowercase(),
            Some(format.trim().to_lowercase()),
        ),
        None => (inner.trim().to_lowercase(), None),
    };
    if name.is_empty() && format.is_none() {
        return Err(LabelError::EmptyPlaceholder { position });
    }
    let unknown_format = |variable: &str, format: &str| LabelError::UnknownFormat {
        placeholder: shown.clone(),
        variable: variable.to_owned(),
        format: format.to_owned(),
    };
    let format = format.as_deref();
    match name.as_str() {
        "index" => match format {
            None | Some("decimal") => Ok(Part::Index(IndexFormat::Decimal)),
            Some("hex") => Ok(Part::Index(IndexFormat::Hex)),
            Some(other) => Err(unknown_format("index", other)),
        },
        "cluster" => match format {
            None | Some("description") => Ok(Part::Cluster(ClusterField::Description)),
            Some("id") => Ok(Part::Cluster(ClusterField::Id)),
            Some("provider") => Ok(Part::Cluster(ClusterField::Provider)),
            Some(other) => Err(unknown_format("cluster", other)),
        },
        "datetime" => match format {
            None | Some("utc") => Ok(Part::DateTime(DateTimeFormat::Utc)),
            Some("rfc822") => Ok(Part::DateTime(DateTimeFormat::Rfc822)),
            Some("unix") => Ok(Part::DateTime(DateTimeFormat::Unix)),
            Some("json") => Ok(Part::DateTime(DateTimeFormat::Json)),
            Some("rfc3339") => Ok(Part::DateTime(DateTimeFormat::Rfc3339)),
            Some(other) => Err(unknown_format("datetime", other)),
        },
        _ => Err(LabelError::UnknownVariable {
            placeholder: shown,
            name,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> LabelContext<'static> {
        LabelContext {
            index: 12,
            cluster_description: "Demo-Backup",
            cluster_id: "c1eut65o0aeu6ojco7a0",
            cluster_provider: "AWS",
            time: "2025-01-23T18:12:04.123Z".parse().unwrap(),
        }
    }

    fn render(template: &str) -> String {
        LabelTemplate::parse(template).unwrap().render(&context())
    }

    #[test]
    fn every_variable_and_format_renders_as_the_domain_table_says() {
        let table = [
            ("{index}", "12"),
            ("{index:decimal}", "12"),
            ("{index:hex}", "c"),
            ("{cluster}", "Demo-Backup"),
            ("{cluster:description}", "Demo-Backup"),
            ("{cluster:id}", "c1eut65o0aeu6ojco7a0"),
            ("{cluster:provider}", "aws"),
            ("{datetime}", "23 Jan 25 18:12 UTC"),
            ("{datetime:utc}", "23 Jan 25 18:12 UTC"),
            ("{datetime:rfc822}", "Thu, 23 Jan 2025 18:12:04 +0000"),
            ("{datetime:unix}", "1737655924"),
            ("{datetime:json}", "2025-01-23T18:12:04.123Z"),
            ("{datetime:rfc3339}", "2025-01-23T18:12:04Z"),
        ];
        for (template, expected) in table {
            assert_eq!(render(template), expected, "{template}");
        }
    }

    #[test]
    fn names_are_case_insensitive_and_whitespace_inside_braces_is_allowed() {
        assert_eq!(
            render("{ Cluster } Hourly Backup {datetime:RFC3339}"),
            "Demo-Backup Hourly Backup 2025-01-23T18:12:04Z"
        );
        assert_eq!(render("#{ INDEX : Hex }"), "#c");
    }

    #[test]
    fn the_default_label_renders_description_and_utc_time() {
        assert_eq!(render(DEFAULT_LABEL), "Demo-Backup - 23 Jan 25 18:12 UTC");
    }

    #[test]
    fn free_text_without_placeholders_is_kept_as_it_is() {
        assert_eq!(render("on demand backup"), "on demand backup");
    }

    #[test]
    fn unknown_variables_and_formats_are_named_with_the_valid_ones() {
        let error = LabelTemplate::parse("x {date}").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown variable 'date' in {date}: use index, cluster or datetime"
        );
        let error = LabelTemplate::parse("{datetime:iso}").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown format 'iso' for datetime in {datetime:iso}: use utc, rfc822, unix, json or rfc3339"
        );
        let error = LabelTemplate::parse("{index:octal}").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown format 'octal' for index in {index:octal}: use decimal or hex"
        );
    }

    #[test]
    fn malformed_templates_say_where_the_problem_is() {
        let cases = [
            ("", LabelError::Empty),
            ("   ", LabelError::Empty),
            ("backup {index", LabelError::Unclosed { position: 8 }),
            ("a {b {index}", LabelError::Unclosed { position: 3 }),
            ("done}", LabelError::Unopened { position: 5 }),
            ("x {} y", LabelError::EmptyPlaceholder { position: 3 }),
        ];
        for (template, expected) in cases {
            assert_eq!(
                LabelTemplate::parse(template),
                Err(expected),
                "{template:?}"
            );
        }
    }

    #[test]
    fn the_legend_lists_every_placeholder_with_its_default() {
        let legend = placeholders();
        assert_eq!(legend.len(), 10);
        assert!(legend.contains(&("{index:decimal}".to_string(), true)));
        assert!(legend.contains(&("{datetime:json}".to_string(), false)));
    }
}
