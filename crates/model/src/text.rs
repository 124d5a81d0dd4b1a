//! The text people give things (names and descriptions): one rule per kind of text, applied
//! on create and on every later edit alike, so an edit cannot store what a create refuses.

/// Longest organization or project name.
pub const MAX_NAME_LEN: usize = 128;

/// Longest description of a network, an integration or an API token (the same limit as a
/// cluster's name, which Kurrent Cloud calls its description).
pub const MAX_DESCRIPTION_LEN: usize = crate::restore::MAX_DESCRIPTION_LEN;

/// A required text of at most `max` characters once trimmed; `what` names it in the
/// message ("a name is required", "a description has at most 128 characters").
pub fn check_text(what: &str, text: &str, max: usize) -> Result<(), String> {
    let text = text.trim();
    if text.is_empty() {
        Err(format!("a {what} is required"))
    } else if text.chars().count() > max {
        Err(format!("a {what} has at most {max} characters"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_required_and_at_most_its_limit_in_characters_once_trimmed() {
        assert_eq!(
            check_text("name", "  ", 4),
            Err("a name is required".into())
        );
        assert_eq!(check_text("name", " abcd ", 4), Ok(()));
        assert_eq!(
            check_text("name", "ééééé", 5),
            Ok(()),
            "characters, not bytes"
        );
        assert_eq!(
            check_text("description", "abcde", 4),
            Err("a description has at most 4 characters".into())
        );
    }
}
