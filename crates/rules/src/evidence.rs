//! Turning snapshot values into [`Evidence`].
//!
//! Why it exists: every rule cites where a value came from in the same way
//! (file and line, a kernel path, or a built-in default), so reports read
//! alike whichever rule produced them.

use warden_model::{Evidence, Source, Sourced};

/// Evidence for a setting: `keyword` is how the setting is named in its file
/// (e.g. `PermitRootLogin`), `message` what it shows.
pub fn from_sourced(keyword: &str, value: &Sourced<String>, message: impl Into<String>) -> Evidence {
    let message = message.into();
    match &value.source {
        Source::File { path, line } => Evidence {
            message,
            path: Some(path.clone()),
            line: Some(*line),
            text: Some(format!("{keyword} {}", value.value)),
            is_default: false,
        },
        Source::Kernel { path } => Evidence {
            message,
            path: Some(path.clone()),
            line: None,
            text: Some(value.value.clone()),
            is_default: false,
        },
        Source::Default { note } => Evidence {
            message: format!("{message} ({note})"),
            path: None,
            line: None,
            text: Some(format!("{keyword} {}", value.value)),
            is_default: true,
        },
    }
}

/// Evidence with only a message (an absence, a count).
pub fn message_only(message: impl Into<String>) -> Evidence {
    Evidence { message: message.into(), path: None, line: None, text: None, is_default: false }
}

/// Evidence at a file (and line).
pub fn at(path: &str, line: Option<u32>, text: Option<String>, message: impl Into<String>) -> Evidence {
    Evidence { message: message.into(), path: Some(path.to_string()), line, text, is_default: false }
}
