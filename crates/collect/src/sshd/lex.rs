//! Splits one `sshd_config` line into a keyword and its arguments, as
//! OpenSSH's `strdelim()` and `argv_split()` do.
//!
//! Why it exists: the effective value of a keyword depends on exactly how sshd
//! tokenises a line (`Key=value`, `Key = value`, quotes, backslash escapes, a
//! `#` that starts an argument ending the line). Keeping the lexer apart lets
//! it be tested on its own and keeps the policy (first value wins, `Include`,
//! `Match`) in the parent module.

/// One non-blank, non-comment line.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Directive {
    /// The keyword as written (case preserved, for messages).
    pub keyword: String,
    /// Arguments after quote removal; a trailing `# comment` is dropped.
    pub args: Vec<String>,
}

/// Why a line could not be lexed; sshd counts each as a bad option and
/// refuses to start.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum LexError {
    /// A keyword with nothing (or only a comment) after it.
    MissingArgument(String),
    /// A quote that is never closed.
    UnterminatedQuote(String),
}

/// Whitespace as sshd's `WHITESPACE` (plus form feed, tolerated at line ends).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0c')
}

/// Lexes one line (without its `\n`). `Ok(None)` for blank and comment lines.
pub(super) fn lex_line(line: &str) -> Result<Option<Directive>, LexError> {
    let line = line.trim_matches(is_space);
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    // The keyword ends at whitespace, a quote or '=' (strdelim with split_equals).
    let end = line.find(|c: char| is_space(c) || c == '"' || c == '=').unwrap_or(line.len());
    let keyword = &line[..end];
    if keyword.is_empty() {
        // A line starting with '=' or a quote: sshd sees an empty keyword and
        // treats the rest as arguments of it; it is certainly not a setting.
        return Err(LexError::MissingArgument(line.to_string()));
    }
    let mut rest = &line[end..];
    // One '=' may separate keyword and arguments, with whitespace around it.
    let mut seen_equals = false;
    if let Some(stripped) = rest.strip_prefix('=') {
        seen_equals = true;
        rest = stripped;
    }
    rest = rest.trim_start_matches(is_space);
    if !seen_equals && let Some(stripped) = rest.strip_prefix('=') {
        rest = stripped.trim_start_matches(is_space);
    }
    let args = split_args(rest).map_err(|()| LexError::UnterminatedQuote(keyword.to_string()))?;
    if args.is_empty() {
        return Err(LexError::MissingArgument(keyword.to_string()));
    }
    Ok(Some(Directive { keyword: keyword.to_string(), args }))
}

/// OpenSSH's `argv_split(s, .., terminate_on_comment = 1)`: whitespace
/// separates arguments; `"` and `'` group; `\` escapes a quote, a backslash or
/// (outside quotes) a space; a `#` at the start of an argument ends the line.
fn split_args(s: &str) -> Result<Vec<String>, ()> {
    let chars: Vec<char> = s.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' || chars[i] == '\t' {
            i += 1;
            continue;
        }
        if chars[i] == '#' {
            break;
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        while i < chars.len() {
            let c = chars[i];
            if c == '\\' {
                match chars.get(i + 1) {
                    Some(&next) if next == '\'' || next == '"' || next == '\\' || (quote.is_none() && next == ' ') => {
                        arg.push(next);
                        i += 2;
                        continue;
                    }
                    _ => arg.push(c),
                }
            } else if quote.is_none() && (c == ' ' || c == '\t') {
                break;
            } else if quote.is_none() && (c == '"' || c == '\'') {
                quote = Some(c);
            } else if quote == Some(c) {
                quote = None;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        if quote.is_some() {
            return Err(());
        }
        args.push(arg);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexed(line: &str) -> (String, Vec<String>) {
        let d = lex_line(line).unwrap().unwrap();
        (d.keyword, d.args)
    }

    #[test]
    fn separators_quotes_and_comments() {
        let want = ("PermitRootLogin".to_string(), vec!["no".to_string()]);
        for line in [
            "PermitRootLogin no",
            "PermitRootLogin=no",
            "PermitRootLogin = no",
            "  PermitRootLogin\t=no\r",
            "PermitRootLogin no # why",
        ] {
            assert_eq!(lexed(line), want, "{line:?}");
        }
        assert_eq!(lexed(r#"Banner "/etc/my banner""#).1, vec!["/etc/my banner"]);
        assert_eq!(lexed(r"AcceptEnv LANG LC_*").1, vec!["LANG", "LC_*"]);
        assert_eq!(lexed(r"X a\ b 'c d' e#f").1, vec!["a b", "c d", "e#f"]);
        assert_eq!(lexed("SetEnv A=b").1, vec!["A=b"]);
        assert_eq!(lex_line("   # comment").unwrap(), None);
        assert_eq!(lex_line(" \t\r").unwrap(), None);
    }

    #[test]
    fn missing_arguments_and_bad_quotes_are_errors() {
        assert_eq!(lex_line("PermitRootLogin"), Err(LexError::MissingArgument("PermitRootLogin".into())));
        assert_eq!(lex_line("PermitRootLogin = # no"), Err(LexError::MissingArgument("PermitRootLogin".into())));
        assert_eq!(lex_line("Banner \"/x"), Err(LexError::UnterminatedQuote("Banner".into())));
    }
}
