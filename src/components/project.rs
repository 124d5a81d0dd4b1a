//! The project a page works in rides in its address: `?project=<project id>`. An address
//! without one works in the signed-in user's first project, as the console always did; once a
//! project is chosen (the switcher in the sidebar), every link and form of the page carries it
//! on — links through [`in_project`], forms through a hidden [`ProjectField`] (a GET form's
//! fields are its query; a POST's reach the server function, which reads it there). So two
//! tabs can work in two projects, and all of it works without JavaScript. The server decides
//! what the named project allows (`crate::server::authorized`, in the core).

use cairn_model::ProjectId;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The query parameter (and form field) that names the project.
pub const PROJECT: &str = "project";

/// `path` in `project` (`None`: as it is). A path that names a project already keeps it; a
/// `#fragment` stays last.
pub fn with_project(path: &str, project: Option<&str>) -> String {
    let Some(project) = project else {
        return path.to_owned();
    };
    let (address, fragment) = match path.find('#') {
        Some(at) => path.split_at(at),
        None => (path, ""),
    };
    let names_one = address
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|p| p.starts_with("project=")));
    if names_one {
        return path.to_owned();
    }
    let separator = if address.contains('?') { '&' } else { '?' };
    format!("{address}{separator}{PROJECT}={project}{fragment}")
}

/// The project this page's address names, if it names one that can be a project id (anything
/// else is left for the server to refuse, never copied into links).
pub fn named_project() -> Option<String> {
    use_query_map()
        .read_untracked()
        .get(PROJECT)
        .filter(|p| ProjectId::parse(p).is_ok())
}

/// `path` in the project this page works in: for every link to a page of the console.
pub fn in_project(path: impl AsRef<str>) -> String {
    with_project(path.as_ref(), named_project().as_deref())
}

/// The hidden field that carries the page's project with a form (nothing when the address
/// names none). Every form of a project page has one.
#[component]
pub fn ProjectField(
    /// The project to name instead of the page's (islands have no address to read).
    #[prop(optional, into)]
    project: Option<Option<String>>,
) -> impl IntoView {
    let project = project.unwrap_or_else(named_project);
    project.map(|id| view! { <input type="hidden" name=PROJECT value=id /> })
}

/// Where the project switcher sends someone from `path` in another project: the same page, or
/// for a page about one thing (a cluster, a backup, a job…), which the other project does not
/// hold, that page's list. Its query (a tab, a row expanded, a notice) is left behind.
pub fn switched_path(path: &str, project: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let mut parts = path.trim_start_matches('/').split('/');
    let section = parts.next().unwrap_or_default();
    let about_one = parts.next().is_some_and(|p| ProjectId::parse(p).is_ok());
    let page = if section.is_empty() {
        "/clusters".to_owned()
    } else if about_one {
        format!("/{section}")
    } else {
        path.to_owned()
    };
    with_project(&page, Some(project))
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "c1ev3l5o0aeu6ojco7d0";

    #[test]
    fn a_project_joins_the_query_before_a_fragment_and_never_twice() {
        assert_eq!(
            with_project("/clusters", Some(P)),
            format!("/clusters?project={P}")
        );
        assert_eq!(
            with_project("/jobs/x?tab=history#runs", Some(P)),
            format!("/jobs/x?tab=history&project={P}#runs")
        );
        let named = format!("/backups?project={P}");
        assert_eq!(with_project(&named, Some("other")), named);
        assert_eq!(with_project("/clusters", None), "/clusters");
    }

    #[test]
    fn switching_project_keeps_the_page_or_goes_to_its_list_when_it_is_about_one_thing() {
        let cluster = "c1eut65o0aeu6ojco7a0";
        assert_eq!(
            switched_path(&format!("/clusters/{cluster}/backup?description=x"), P),
            format!("/clusters?project={P}")
        );
        assert_eq!(
            switched_path("/clusters/new", P),
            format!("/clusters/new?project={P}")
        );
        assert_eq!(
            switched_path("/backups?expand=j&project=old", P),
            format!("/backups?project={P}")
        );
        assert_eq!(
            switched_path("/account/tokens", P),
            format!("/account/tokens?project={P}")
        );
        assert_eq!(switched_path("/", P), format!("/clusters?project={P}"));
    }
}
