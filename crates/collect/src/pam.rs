//! The PAM password-change stack and the files that configure password
//! quality (`pwquality.conf`) and history (`pwhistory.conf`).
//!
//! Why it exists: rules about password length, complexity, reuse and hashing
//! need the `password` entries PAM actually runs when a password changes, in
//! order, with includes expanded, and the configuration files those modules
//! read. Every entry keeps the file and line where it is written.
//!
//! # Which stacks
//! `common-password` (Debian, Ubuntu, SUSE), `system-auth` and
//! `password-auth` (RHEL family, Amazon Linux): each one that exists. When none
//! exists, `passwd` (Alpine with Linux-PAM, minimal systems). A service name is
//! looked up as Linux-PAM does (`_pam_open_config_file` in
//! `libpam/pam_handlers.c`): `/etc/pam.d/NAME`, then `/usr/lib/pam.d/NAME`; a
//! name starting with `/` is a path. No PAM directory at all → absent. A
//! stack file that exists but cannot be read makes the whole fact failed
//! (a partial policy would look weaker or stronger than it is).
//!
//! # Line syntax (Linux-PAM `pam_assemble_line.h`, `pam_misc.c`)
//! - A line ending in `\` (before trailing blanks) continues on the next line;
//!   the backslash becomes a space. A line containing `#` never continues.
//! - `#` starts a comment to the end of the physical line.
//! - Tokens are separated by spaces, tabs and newlines. A token starting with
//!   `[` runs to the first `]` (`\]` stands for `]`) and may contain spaces:
//!   `[success=1 default=ignore]`. The control keeps its brackets here; a
//!   bracketed module argument is stored without them, as the module gets it.
//! - The type may carry a leading `-` (`-password`: do not log a missing
//!   module); the dash is stripped and the entry kept. Types are
//!   case-insensitive.
//! - A module path is reduced to its basename (`/lib/security/pam_unix.so` →
//!   `pam_unix.so`).
//!
//! # Includes
//! `password include NAME` and `password substack NAME` read NAME's
//! `password` lines in place; Debian's `@include NAME` reads all of NAME in
//! place (only its `password` lines are kept). Nesting is bounded like
//! Linux-PAM's `PAM_SUBSTACK_MAX_LEVEL` (16: the service is level 0 and an
//! include at level 16 is refused); a loop is reported as soon as a file
//! includes one of its includers. A missing or refused include is a problem:
//! Linux-PAM then installs a failing handler, so the stack always fails. Include
//! names with a `..` component are not followed (they could leave the PAM
//! directory).
//!
//! # pwquality.conf (libpwquality `src/settings.c`, `pwquality_read_config`)
//! Since libpwquality 1.3.0 the `*.conf` files of
//! `/etc/security/pwquality.conf.d/` are read FIRST, in `strcmp` order of
//! their names (a name qualifies when its first `.conf` ends it), and
//! `/etc/security/pwquality.conf` LAST. Every assignment overwrites the
//! previous one, so for a key set in both, the MAIN FILE wins over the
//! drop-ins, and among drop-ins the later name wins. Line syntax
//! (`read_config_file`): `#` starts a comment anywhere; the name ends at a
//! blank or `=`; then blanks and one `=` are skipped; names are
//! case-insensitive (stored lower-case here). libpwquality stops at the first
//! line it rejects (an unknown name, or a number that is not a whole
//! in-range integer for an integer setting) and then skips every later
//! drop-in AND the main file; that is reproduced here (the rejected line is a
//! problem) because a typo in a drop-in silently disables the main file.
//! Flags (`enforce_for_root`, `local_users_only`) are set by their presence
//! whatever follows; their value is stored empty.
//! Note: `pam_cracklib` does NOT read pwquality.conf, and module arguments on
//! the `pam_pwquality.so` line override the file: both are the rules' concern.
//!
//! # pwhistory.conf (Linux-PAM `modules/pam_pwhistory/pwhistory_config.c`)
//! `/etc/security/pwhistory.conf`, or `/usr/etc/security/pwhistory.conf` when
//! the former does not exist (builds with a vendor directory). Each key is
//! looked up with `pam_modutil_search_key`: `#` starts a comment, the key
//! ends at a blank or `=`, blanks and `=` are skipped, keys are
//! case-insensitive, and the FIRST occurrence wins. A `conf=` argument on the
//! `pam_pwhistory.so` line names another file; that is not followed here.

use std::collections::BTreeMap;

use warden_model::{ConfigFile, Fact, PamEntry, PamPolicy, PamStack, Problem, Settings, Source, Sourced};

use crate::RootFs;
use crate::rootfs::join;

/// Directories Linux-PAM looks in for a service file, in order.
pub const PAM_DIRS: [&str; 2] = ["/etc/pam.d", "/usr/lib/pam.d"];
/// Password stacks examined whenever they exist.
pub const PRIMARY_SERVICES: [&str; 3] = ["common-password", "system-auth", "password-auth"];
/// Examined only when none of [`PRIMARY_SERVICES`] exists.
pub const FALLBACK_SERVICE: &str = "passwd";
/// Linux-PAM's `PAM_SUBSTACK_MAX_LEVEL`: an include reaching this level is refused.
pub const MAX_INCLUDE_LEVEL: usize = 16;
/// libpwquality's main configuration file.
pub const PWQUALITY_PATH: &str = "/etc/security/pwquality.conf";
/// libpwquality's drop-in directory (`<main file>.d`).
pub const PWQUALITY_DROP_IN_DIR: &str = "/etc/security/pwquality.conf.d";
/// pam_pwhistory's configuration file, then the vendor fallback.
pub const PWHISTORY_PATHS: [&str; 2] = ["/etc/security/pwhistory.conf", "/usr/etc/security/pwhistory.conf"];

/// libpwquality's `fgets` buffer holds lines of at most this many bytes (with the newline).
const PWQUALITY_MAX_LINE: usize = 1023;

/// One logical line of a PAM service file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PamLine {
    /// 1-based number of the physical line where the logical line starts.
    pub line: u32,
    /// What the line says.
    pub directive: PamDirective,
}

/// The meaning of one PAM line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PamDirective {
    /// Debian's `@include NAME` (all types of NAME, in place).
    AtInclude {
        /// The file named, if any.
        target: Option<String>,
    },
    /// `type control module args...` (or `type include|substack NAME`).
    Rule {
        /// The type, lower-cased, leading `-` stripped.
        module_type: String,
        /// Whether the type had a leading `-`.
        silent: bool,
        /// The control as written (brackets kept), if any.
        control: Option<String>,
        /// The module path (or include target) as written, if any.
        module: Option<String>,
        /// The remaining arguments, bracketed ones without their brackets.
        args: Vec<String>,
    },
}

/// A service file loader: NAME (or an absolute path) → (path, text), `None` when missing.
pub type Loader<'a> = dyn FnMut(&str) -> Result<Option<(String, String)>, Problem> + 'a;

/// Reads the password stacks, pwquality.conf and pwhistory.conf of the root.
pub fn collect(fs: &RootFs) -> Fact<PamPolicy> {
    let mut have_pam_dir = false;
    for dir in PAM_DIRS {
        match fs.stat(dir) {
            Ok(Some(meta)) if meta.is_dir() => have_pam_dir = true,
            Ok(_) => {}
            Err(problem) => return Fact::Failed { problem },
        }
    }
    if !have_pam_dir {
        return Fact::Absent { reason: "no /etc/pam.d or /usr/lib/pam.d: PAM is not installed".to_string() };
    }
    let mut load = |name: &str| load_service(fs, name);
    let mut services: Vec<(&str, String, String)> = Vec::new();
    for service in PRIMARY_SERVICES {
        match load(service) {
            Ok(Some((path, text))) => services.push((service, path, text)),
            Ok(None) => {}
            Err(problem) => return Fact::Failed { problem },
        }
    }
    if services.is_empty() {
        match load(FALLBACK_SERVICE) {
            Ok(Some((path, text))) => services.push((FALLBACK_SERVICE, path, text)),
            Ok(None) => {}
            Err(problem) => return Fact::Failed { problem },
        }
    }
    let mut problems = Vec::new();
    let mut stacks = Vec::new();
    for (service, path, text) in services {
        let (stack, mut stack_problems) = expand_stack(service, &path, &text, &mut load);
        stacks.push(stack);
        problems.append(&mut stack_problems);
    }
    let pwquality_conf = collect_pwquality(fs, &mut problems);
    let pwhistory_conf = collect_pwhistory(fs, &mut problems);
    Fact::collected(PamPolicy { stacks, pwquality_conf, pwhistory_conf, problems })
}

/// Looks a service NAME up like Linux-PAM (absolute path, or each of [`PAM_DIRS`]).
fn load_service(fs: &RootFs, name: &str) -> Result<Option<(String, String)>, Problem> {
    let candidates: Vec<String> =
        if name.starts_with('/') { vec![name.to_string()] } else { PAM_DIRS.iter().map(|d| join(d, name)).collect() };
    for path in candidates {
        if let Some(text) = fs.read_text(&path)? {
            return Ok(Some((path, text)));
        }
    }
    Ok(None)
}

/// Expands one service's `password` stack (pure: files come from `load`).
pub fn expand_stack(service: &str, path: &str, text: &str, load: &mut Loader<'_>) -> (PamStack, Vec<Problem>) {
    let mut expansion = Expansion { entries: Vec::new(), problems: Vec::new(), chain: vec![path.to_string()] };
    expansion.file(path, text, 0, load);
    (PamStack { service: service.to_string(), path: path.to_string(), entries: expansion.entries }, expansion.problems)
}

struct Expansion {
    entries: Vec<PamEntry>,
    problems: Vec<Problem>,
    /// Paths of the files being expanded, outermost first (loop detection).
    chain: Vec<String>,
}

impl Expansion {
    fn file(&mut self, path: &str, text: &str, level: usize, load: &mut Loader<'_>) {
        let (lines, mut problems) = parse_with_problems(path, text);
        self.problems.append(&mut problems);
        for PamLine { line, directive } in lines {
            match directive {
                PamDirective::AtInclude { target } => self.include(path, line, target.as_deref(), level, load),
                PamDirective::Rule { module_type, control, module, args, .. } => {
                    if !matches!(module_type.as_str(), "auth" | "account" | "session" | "password") {
                        self.problems.push(Problem::at_line(
                            path,
                            line,
                            format!(
                                "illegal module type {module_type}; Linux-PAM installs a handler that always fails"
                            ),
                        ));
                        continue;
                    }
                    if module_type != "password" {
                        continue;
                    }
                    let Some(control) = control else {
                        self.problems.push(Problem::at_line(
                            path,
                            line,
                            "password line without a control flag; it always fails",
                        ));
                        continue;
                    };
                    let lower = control.to_ascii_lowercase();
                    if lower == "include" || lower == "substack" {
                        self.include(path, line, module.as_deref(), level, load);
                        continue;
                    }
                    let Some(module) = module else {
                        self.problems.push(Problem::at_line(
                            path,
                            line,
                            "password line without a module; it always fails",
                        ));
                        continue;
                    };
                    self.entries.push(PamEntry {
                        control,
                        module: module_basename(&module).to_string(),
                        args,
                        source: Source::file(path, line),
                    });
                }
            }
        }
    }

    fn include(&mut self, path: &str, line: u32, target: Option<&str>, level: usize, load: &mut Loader<'_>) {
        let Some(target) = target else {
            self.problems.push(Problem::at_line(path, line, "include without a file name; the stack always fails"));
            return;
        };
        if target.split('/').any(|part| part == "..") {
            self.problems.push(Problem::at_line(
                path,
                line,
                format!("include {target} climbs out of the PAM directory; not followed"),
            ));
            return;
        }
        let next_level = level + 1;
        if next_level >= MAX_INCLUDE_LEVEL {
            self.problems.push(Problem::at_line(
                path,
                line,
                format!("include {target} exceeds Linux-PAM's {MAX_INCLUDE_LEVEL} levels of includes; the stack always fails"),
            ));
            return;
        }
        let (included_path, text) = match load(target) {
            Ok(Some(found)) => found,
            Ok(None) => {
                self.problems.push(Problem::at_line(
                    path,
                    line,
                    format!("included file {target} not found; the stack always fails"),
                ));
                return;
            }
            Err(problem) => {
                self.problems.push(Problem::at_line(
                    path,
                    line,
                    format!("cannot read included file {target}: {problem}"),
                ));
                return;
            }
        };
        if self.chain.contains(&included_path) {
            let mut cycle = self.chain.clone();
            cycle.push(included_path);
            self.problems.push(Problem::at_line(
                path,
                line,
                format!("include loop: {}; not followed", cycle.join(" -> ")),
            ));
            return;
        }
        self.chain.push(included_path.clone());
        self.file(&included_path, &text, next_level, load);
        self.chain.pop();
    }
}

/// Basename of a module path (`/lib/security/pam_unix.so` → `pam_unix.so`).
fn module_basename(module: &str) -> &str {
    match module.rsplit('/').next() {
        Some(base) if !base.is_empty() => base,
        _ => module,
    }
}

/// Parses a PAM service file into logical lines (no include expansion).
pub fn parse(path: &str, text: &str) -> Vec<PamLine> {
    parse_with_problems(path, text).0
}

/// Like [`parse`], with the problems met (a continued last line).
pub fn parse_with_problems(path: &str, text: &str) -> (Vec<PamLine>, Vec<Problem>) {
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    let mut assembled = String::new();
    let mut start_line: Option<u32> = None;
    let mut last_line_no = 0u32;
    for (index, physical) in text.split_inclusive('\n').enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        last_line_no = line_no;
        let body = physical.trim_end_matches([' ', '\t', '\n']);
        let (segment, continued) = match body.strip_suffix('\\') {
            Some(before) if !body.contains('#') => (format!("{before} "), true),
            _ => (physical.to_string(), false),
        };
        let segment = segment.trim_start_matches([' ', '\t']);
        let segment = match segment.find('#') {
            Some(hash) => &segment[..hash],
            None => segment,
        };
        let segment = segment.strip_suffix('\n').unwrap_or(segment);
        if !segment.is_empty() {
            start_line.get_or_insert(line_no);
            assembled.push_str(segment);
        }
        if continued {
            continue;
        }
        if let Some(first) = start_line.take()
            && let Some(directive) = directive_of(&assembled)
        {
            lines.push(PamLine { line: first, directive });
        }
        assembled.clear();
    }
    if let Some(first) = start_line {
        problems.push(Problem::at_line(
            path,
            first,
            format!("file ends inside a line continued with a backslash (line {last_line_no}); Linux-PAM aborts reading the file here"),
        ));
    }
    (lines, problems)
}

/// One token of a PAM line.
struct Token {
    text: String,
    bracketed: bool,
}

/// `_pam_StrTok` with the blanks " \t\n": returns the next token and the rest.
fn next_token(s: &str) -> Option<(Token, &str)> {
    let s = s.trim_start_matches([' ', '\t', '\n']);
    if s.is_empty() {
        return None;
    }
    if let Some(inner) = s.strip_prefix('[') {
        let mut text = String::new();
        let mut chars = inner.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                ']' => return Some((Token { text, bracketed: true }, &inner[i + 1..])),
                '\\' if chars.peek().map(|&(_, n)| n) == Some(']') => {
                    text.push(']');
                    chars.next();
                }
                _ => text.push(c),
            }
        }
        return Some((Token { text, bracketed: true }, ""));
    }
    let end = s.find([' ', '\t', '\n']).unwrap_or(s.len());
    Some((Token { text: s[..end].to_string(), bracketed: false }, &s[end..]))
}

fn directive_of(line: &str) -> Option<PamDirective> {
    let (first, rest) = next_token(line)?;
    if !first.bracketed && first.text.eq_ignore_ascii_case("@include") {
        let target = next_token(rest).map(|(t, _)| t.text);
        return Some(PamDirective::AtInclude { target });
    }
    let (silent, module_type) = match first.text.strip_prefix('-') {
        Some(stripped) => (true, stripped.to_ascii_lowercase()),
        None => (false, first.text.to_ascii_lowercase()),
    };
    let mut rest = rest;
    let mut take = || {
        let (token, after) = next_token(rest)?;
        rest = after;
        Some(token)
    };
    let control = take().map(|t| if t.bracketed { format!("[{}]", t.text) } else { t.text });
    let module = take().map(|t| t.text);
    let mut args = Vec::new();
    while let Some(token) = take() {
        args.push(token.text);
    }
    Some(PamDirective::Rule { module_type, silent, control, module, args })
}

/// Integer settings of libpwquality (`s_map` in `src/settings.c`).
const PWQUALITY_INT_KEYS: [&str; 15] = [
    "difok",
    "minlen",
    "dcredit",
    "ucredit",
    "lcredit",
    "ocredit",
    "minclass",
    "maxrepeat",
    "maxclassrepeat",
    "maxsequence",
    "gecoscheck",
    "dictcheck",
    "usercheck",
    "enforcing",
    "retry",
];
/// String settings of libpwquality.
const PWQUALITY_STR_KEYS: [&str; 2] = ["badwords", "dictpath"];
/// Flags of libpwquality: set by presence, whatever value follows.
const PWQUALITY_FLAG_KEYS: [&str; 2] = ["enforce_for_root", "local_users_only"];

/// Whether libpwquality reads a drop-in of this name: the first `.conf` in the
/// name must end it (`filter_conf`).
pub fn is_pwquality_drop_in(name: &str) -> bool {
    name.find(".conf").is_some_and(|at| at + ".conf".len() == name.len())
}

/// Merges pwquality files given in libpwquality's reading order (drop-ins by
/// name, then the main file): later assignments win; reading stops at the
/// first rejected line, as libpwquality does.
pub fn merge_pwquality(files: &[(String, String)]) -> (ConfigFile, Vec<Problem>) {
    let mut config = ConfigFile { files: Vec::new(), settings: Settings::new() };
    let mut problems = Vec::new();
    for (path, text) in files {
        config.files.push(path.clone());
        if !parse_pwquality_file(path, text, &mut config.settings, &mut problems) {
            break;
        }
    }
    (config, problems)
}

/// Applies one pwquality file to `settings`; false when libpwquality would stop.
pub fn parse_pwquality_file(path: &str, text: &str, settings: &mut Settings, problems: &mut Vec<Problem>) -> bool {
    const STOP: &str =
        "libpwquality stops reading here: the rest of this file, later drop-ins and the main file are ignored";
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        // fgets into 1024 bytes: a longer line is "malformed" to libpwquality.
        if raw.len() > PWQUALITY_MAX_LINE {
            problems.push(Problem::at_line(
                path,
                line_no,
                format!("line longer than {PWQUALITY_MAX_LINE} bytes; {STOP}"),
            ));
            return false;
        }
        let content = match raw.find('#') {
            Some(hash) => &raw[..hash],
            None => raw,
        };
        let content = content.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
        if content.is_empty() {
            continue;
        }
        let name_end =
            content.find(|c: char| c.is_ascii_whitespace() || c == '\x0b' || c == '=').unwrap_or(content.len());
        let name = &content[..name_end];
        let mut seen_equals = content[name_end..].starts_with('=');
        let mut value = content.get(name_end + 1..).unwrap_or("");
        // Skip blanks and at most one '=' (libpwquality's `eq` flag).
        while let Some(c) = value.chars().next() {
            if c == '=' && !seen_equals {
                seen_equals = true;
            } else if !(c.is_ascii_whitespace() || c == '\x0b') {
                break;
            }
            value = &value[c.len_utf8()..];
        }
        let key = name.to_ascii_lowercase();
        let stored = if PWQUALITY_INT_KEYS.contains(&key.as_str()) {
            match value.parse::<i64>() {
                Ok(number) if number < i64::from(i32::MAX) && number > i64::from(i32::MIN) => value.to_string(),
                _ => {
                    problems.push(Problem::at_line(path, line_no, format!("{key} is not an integer; {STOP}")));
                    return false;
                }
            }
        } else if PWQUALITY_STR_KEYS.contains(&key.as_str()) {
            value.to_string()
        } else if PWQUALITY_FLAG_KEYS.contains(&key.as_str()) {
            String::new()
        } else {
            problems.push(Problem::at_line(path, line_no, format!("unknown setting {name}; {STOP}")));
            return false;
        };
        settings.insert(key, Sourced::new(stored, Source::file(path, line_no)));
    }
    true
}

fn collect_pwquality(fs: &RootFs, problems: &mut Vec<Problem>) -> Option<ConfigFile> {
    let mut files = Vec::new();
    match fs.read_dir(PWQUALITY_DROP_IN_DIR) {
        Ok(Some(names)) => {
            let mut names: Vec<String> = names.into_iter().filter(|n| is_pwquality_drop_in(n)).collect();
            names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            for name in names {
                let path = join(PWQUALITY_DROP_IN_DIR, &name);
                match fs.read_text(&path) {
                    Ok(Some(text)) => files.push((path, text)),
                    Ok(None) => {}
                    // libpwquality ignores a drop-in it cannot open.
                    Err(problem) => problems.push(problem),
                }
            }
        }
        Ok(None) => {}
        Err(problem) => problems.push(problem),
    }
    match fs.read_text(PWQUALITY_PATH) {
        Ok(Some(text)) => files.push((PWQUALITY_PATH.to_string(), text)),
        Ok(None) => {}
        Err(problem) => problems.push(problem),
    }
    if files.is_empty() {
        return None;
    }
    let (config, mut merge_problems) = merge_pwquality(&files);
    problems.append(&mut merge_problems);
    Some(config)
}

/// Parses pwhistory.conf as `pam_modutil_search_key` reads it: first occurrence wins.
pub fn parse_pwhistory(path: &str, text: &str) -> ConfigFile {
    let mut first: BTreeMap<String, Sourced<String>> = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let content = match raw.find('#') {
            Some(hash) => &raw[..hash],
            None => raw,
        };
        let content = content.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
        if content.is_empty() {
            continue;
        }
        let key_end = content.find([' ', '\t', '=']).unwrap_or(content.len());
        let key = content[..key_end].to_ascii_lowercase();
        let value = content[key_end..]
            .trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b' || c == '=')
            .trim_end();
        first.entry(key).or_insert_with(|| Sourced::new(value.to_string(), Source::file(path, line_no)));
    }
    ConfigFile { files: vec![path.to_string()], settings: first }
}

fn collect_pwhistory(fs: &RootFs, problems: &mut Vec<Problem>) -> Option<ConfigFile> {
    for path in PWHISTORY_PATHS {
        match fs.read_text(path) {
            Ok(Some(text)) => return Some(parse_pwhistory(path, &text)),
            Ok(None) => {}
            Err(problem) => {
                problems.push(problem);
                return None;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A loader over in-memory files under /etc/pam.d.
    fn files(list: &[(&str, &str)]) -> HashMap<String, String> {
        list.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect()
    }

    fn expand(service: &str, tree: &HashMap<String, String>) -> (PamStack, Vec<Problem>) {
        let mut load = |name: &str| -> Result<Option<(String, String)>, Problem> {
            let path = if name.starts_with('/') { name.to_string() } else { format!("/etc/pam.d/{name}") };
            let key = path.trim_start_matches("/etc/pam.d/");
            Ok(tree.get(key).map(|t| (path.clone(), t.clone())))
        };
        let path = format!("/etc/pam.d/{service}");
        let text = tree.get(service).cloned().unwrap_or_default();
        expand_stack(service, &path, &text, &mut load)
    }

    fn summary(stack: &PamStack) -> Vec<(String, String, String)> {
        stack.entries.iter().map(|e| (e.control.clone(), e.module.clone(), e.args.join(" "))).collect()
    }

    fn row(control: &str, module: &str, args: &str) -> (String, String, String) {
        (control.to_string(), module.to_string(), args.to_string())
    }

    const DEBIAN_12_COMMON_PASSWORD: &str = "\
#
# /etc/pam.d/common-password - password-related modules common to all services
#
# here are the per-package modules (the \"Primary\" block)
password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt
# here's the fallback if no module succeeds
password\trequisite\t\t\tpam_deny.so
# prime the stack with a positive return value if there isn't one already;
password\trequired\t\t\tpam_permit.so
# and here are more per-package modules (the \"Additional\" block)
# end of pam-auth-update config
";

    #[test]
    fn debian_12_common_password() {
        let (stack, problems) = expand("common-password", &files(&[("common-password", DEBIAN_12_COMMON_PASSWORD)]));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            summary(&stack),
            vec![
                row("[success=1 default=ignore]", "pam_unix.so", "obscure yescrypt"),
                row("requisite", "pam_deny.so", ""),
                row("required", "pam_permit.so", ""),
            ]
        );
        assert_eq!(stack.entries[0].source, Source::file("/etc/pam.d/common-password", 5));
        assert_eq!(stack.entries[2].source, Source::file("/etc/pam.d/common-password", 9));
    }

    #[test]
    fn debian_with_pwquality_and_remember() {
        let text = "password\trequisite\t\t\tpam_pwquality.so retry=3 minlen=14\n\
                    password\t[success=1 default=ignore]\tpam_unix.so obscure use_authtok try_first_pass yescrypt remember=12\n\
                    password\trequisite\t\t\tpam_deny.so\n\
                    password\trequired\t\t\tpam_permit.so\n";
        let (stack, _) = expand("common-password", &files(&[("common-password", text)]));
        assert_eq!(stack.entries[0].args, vec!["retry=3", "minlen=14"]);
        assert_eq!(stack.entries[1].module, "pam_unix.so");
        assert!(stack.entries[1].args.contains(&"remember=12".to_string()));
        assert!(stack.entries[1].args.contains(&"use_authtok".to_string()));
    }

    const RHEL_9_SYSTEM_AUTH: &str = "\
# Generated by authselect
# Do not modify this file manually, use authselect instead. Any user changes will be overwritten.
# You can stop authselect from managing your configuration by calling 'authselect opt-out'.
# See authselect(8) for more details.

auth        required                                     pam_env.so
auth        sufficient                                   pam_unix.so nullok
auth        required                                     pam_deny.so

account     required                                     pam_unix.so

password    requisite                                    pam_pwquality.so local_users_only
password    requisite                                    pam_pwhistory.so use_authtok
password    sufficient                                   pam_unix.so sha512 shadow use_authtok
password    required                                     pam_deny.so

session     optional                                     pam_keyinit.so revoke
session     required                                     pam_unix.so
";

    #[test]
    fn rhel_9_system_auth_and_passwd_include() {
        let tree = files(&[
            ("system-auth", RHEL_9_SYSTEM_AUTH),
            (
                "passwd",
                "#%PAM-1.0\nauth       include\tsystem-auth\naccount    include\tsystem-auth\npassword   substack\tsystem-auth\n-password   optional\tpam_gnome_keyring.so use_authtok\npassword   substack\tpostlogin\n",
            ),
            ("postlogin", "session optional pam_umask.so silent\n"),
        ]);
        let (stack, problems) = expand("system-auth", &tree);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            summary(&stack),
            vec![
                row("requisite", "pam_pwquality.so", "local_users_only"),
                row("requisite", "pam_pwhistory.so", "use_authtok"),
                row("sufficient", "pam_unix.so", "sha512 shadow use_authtok"),
                row("required", "pam_deny.so", ""),
            ]
        );
        let (passwd, problems) = expand("passwd", &tree);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(passwd.entries.len(), 5, "4 from system-auth, then the -password line");
        assert_eq!(passwd.entries[0].source, Source::file("/etc/pam.d/system-auth", 12));
        assert_eq!(passwd.entries[4].module, "pam_gnome_keyring.so");
        assert_eq!(passwd.entries[4].source, Source::file("/etc/pam.d/passwd", 5));
    }

    #[test]
    fn debian_at_include_expands_in_place() {
        let tree = files(&[
            (
                "passwd",
                "#\n# The PAM configuration file for the Shadow `passwd' service\n#\n\n@include common-password\n\npassword optional pam_echo.so done\n",
            ),
            ("common-password", DEBIAN_12_COMMON_PASSWORD),
        ]);
        let (stack, problems) = expand("passwd", &tree);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(stack.entries.len(), 4);
        assert_eq!(stack.entries[0].source, Source::file("/etc/pam.d/common-password", 5));
        assert_eq!(stack.entries[3].source, Source::file("/etc/pam.d/passwd", 7));
    }

    #[test]
    fn include_loops_and_depth_are_bounded() {
        let tree = files(&[("a", "password include b\n"), ("b", "@include a\npassword required pam_b.so\n")]);
        let (stack, problems) = expand("a", &tree);
        assert_eq!(summary(&stack), vec![row("required", "pam_b.so", "")]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains("include loop: /etc/pam.d/a -> /etc/pam.d/b -> /etc/pam.d/a"),
            "{}",
            problems[0]
        );
        assert_eq!((problems[0].path.as_str(), problems[0].line), ("/etc/pam.d/b", Some(1)));

        // f0 includes f1 ... includes f19: Linux-PAM refuses level 16.
        let chain: Vec<(String, String)> = (0..20)
            .map(|i| (format!("f{i}"), format!("password required pam_{i}.so\npassword include f{}\n", i + 1)))
            .collect();
        let tree: HashMap<String, String> = chain.into_iter().collect();
        let (stack, problems) = expand("f0", &tree);
        assert_eq!(stack.entries.len(), MAX_INCLUDE_LEVEL, "levels 0..=15 are read");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("16 levels"), "{}", problems[0]);

        let (_, problems) =
            expand("x", &files(&[("x", "password include missing\npassword include ../../etc/shadow\n")]));
        assert_eq!(problems.len(), 2);
        assert!(problems[0].message.contains("not found"));
        assert!(problems[1].message.contains("not followed"));
    }

    #[test]
    fn continuation_brackets_dashes_comments_and_paths() {
        let text = "password [success=ok \\\n   default=die] /lib/security/pam_unix.so \\\n  sha512 # comment \\\npassword required pam_x.so [arg with\\] space] \n\
                    -password optional pam_missing.so\n\
                    PASSWORD Required pam_case.so\n\
                    # password required pam_commented.so\n\
                    auth required pam_env.so\n";
        let lines = parse("/etc/pam.d/t", text);
        assert_eq!(lines.len(), 5, "{lines:?}");
        let (stack, problems) = expand("t", &files(&[("t", text)]));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            summary(&stack),
            vec![
                // Linux-PAM turns the backslash into a space beside the one written.
                row("[success=ok  default=die]", "pam_unix.so", "sha512"),
                row("required", "pam_x.so", "arg with] space"),
                row("optional", "pam_missing.so", ""),
                row("Required", "pam_case.so", ""),
            ]
        );
        assert_eq!(stack.entries[0].source, Source::file("/etc/pam.d/t", 1));
        assert_eq!(stack.entries[1].source, Source::file("/etc/pam.d/t", 4));
        assert!(matches!(&lines[2].directive, PamDirective::Rule { silent: true, .. }));
    }

    #[test]
    fn dangling_continuation_and_bad_lines_are_problems() {
        let (_, problems) = parse_with_problems("/etc/pam.d/t", "password required pam_a.so \\\n");
        assert_eq!(problems.len(), 1);
        let (stack, problems) = expand("t", &files(&[("t", "password\npassword required\nbogus required pam_a.so\n")]));
        assert!(stack.entries.is_empty());
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn pwquality_main_file_wins_over_drop_ins() {
        assert!(is_pwquality_drop_in("10-site.conf"));
        assert!(!is_pwquality_drop_in("10-site.conf.bak"));
        assert!(!is_pwquality_drop_in("a.conf.conf"), "first .conf must end the name");
        let files = vec![
            ("/etc/security/pwquality.conf.d/10-a.conf".to_string(), "minlen = 10\ndcredit=-1\n".to_string()),
            ("/etc/security/pwquality.conf.d/20-b.conf".to_string(), "MINLEN=12\nenforce_for_root\n".to_string()),
            (PWQUALITY_PATH.to_string(), "# comment\nminlen = 14 # inline comment\nbadwords = foo bar\n".to_string()),
        ];
        let (config, problems) = merge_pwquality(&files);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(config.files.len(), 3);
        assert_eq!(config.settings["minlen"].value, "14");
        assert_eq!(config.settings["minlen"].source, Source::file(PWQUALITY_PATH, 2));
        assert_eq!(config.settings["dcredit"].value, "-1");
        assert_eq!(config.settings["enforce_for_root"].value, "");
        assert_eq!(config.settings["badwords"].value, "foo bar");
    }

    #[test]
    fn pwquality_stops_at_a_rejected_line_like_libpwquality() {
        let files = vec![
            (
                "/etc/security/pwquality.conf.d/10-a.conf".to_string(),
                "minlen = 10\nminlenn = 20\nucredit = -1\n".to_string(),
            ),
            (PWQUALITY_PATH.to_string(), "minlen = 14\n".to_string()),
        ];
        let (config, problems) = merge_pwquality(&files);
        assert_eq!(config.settings["minlen"].value, "10", "main file never read");
        assert!(!config.settings.contains_key("ucredit"));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(2));
        let (config, problems) = merge_pwquality(&[(PWQUALITY_PATH.to_string(), "minlen = 8x\n".to_string())]);
        assert!(config.settings.is_empty());
        assert_eq!(problems.len(), 1);
        let (_, problems) = merge_pwquality(&[(PWQUALITY_PATH.to_string(), "minlen==8\n".to_string())]);
        assert_eq!(problems.len(), 1, "only one '=' is skipped");
    }

    #[test]
    fn pwhistory_first_occurrence_wins() {
        let config = parse_pwhistory(
            "/etc/security/pwhistory.conf",
            "# remember = 1\nREMEMBER = 24\nremember=5\nenforce_for_root\nfile = /etc/security/opasswd\n",
        );
        assert_eq!(config.settings["remember"].value, "24");
        assert_eq!(config.settings["remember"].source, Source::file("/etc/security/pwhistory.conf", 2));
        assert_eq!(config.settings["enforce_for_root"].value, "");
        assert_eq!(config.settings["file"].value, "/etc/security/opasswd");
    }

    #[test]
    fn collect_on_a_tree() {
        let dir = tempfile::tempdir().unwrap();
        let fs = RootFs::open(dir.path()).unwrap();
        assert!(matches!(collect(&fs), Fact::Absent { .. }), "no PAM at all (Alpine without linux-pam)");
        std::fs::create_dir_all(dir.path().join("etc/pam.d")).unwrap();
        let policy = collect(&fs);
        let value = policy.value().unwrap();
        assert!(value.stacks.is_empty() && value.pwquality_conf.is_none() && value.pwhistory_conf.is_none());
        std::fs::write(dir.path().join("etc/pam.d/passwd"), "password required pam_unix.so\n").unwrap();
        assert_eq!(collect(&fs).value().unwrap().stacks[0].service, "passwd");
        std::fs::write(dir.path().join("etc/pam.d/common-password"), DEBIAN_12_COMMON_PASSWORD).unwrap();
        std::fs::create_dir_all(dir.path().join("etc/security/pwquality.conf.d")).unwrap();
        std::fs::write(dir.path().join("etc/security/pwquality.conf.d/50-x.conf"), "minlen = 9\nminclass = 3\n")
            .unwrap();
        std::fs::write(dir.path().join("etc/security/pwquality.conf.d/ignored.txt"), "bogus\n").unwrap();
        std::fs::write(dir.path().join("etc/security/pwquality.conf"), "minlen = 14\n").unwrap();
        std::fs::write(dir.path().join("etc/security/pwhistory.conf"), "remember = 5\n").unwrap();
        let policy = collect(&fs);
        let value = policy.value().unwrap();
        assert!(value.problems.is_empty(), "{:?}", value.problems);
        assert_eq!(value.stacks.len(), 1);
        assert_eq!(value.stacks[0].service, "common-password", "passwd only when no primary stack exists");
        let pwq = value.pwquality_conf.as_ref().unwrap();
        assert_eq!(pwq.files, vec!["/etc/security/pwquality.conf.d/50-x.conf", PWQUALITY_PATH]);
        assert_eq!(pwq.settings["minlen"].value, "14");
        assert_eq!(pwq.settings["minclass"].value, "3");
        assert_eq!(value.pwhistory_conf.as_ref().unwrap().settings["remember"].value, "5");
    }

    proptest::proptest! {
        #[test]
        fn pam_parser_never_panics(text in "\\PC*") {
            let _ = parse_with_problems("/etc/pam.d/x", &text);
        }

        #[test]
        fn pam_expansion_never_panics_on_pam_like_text(
            a in "((-?password|@include|auth) (include|substack|\\[[a-z= \\\\\\]]{0,10}\\]?|required) [ab/]{0,4} [a-z\\[\\]#]{0,5}\\\\?\n){0,6}",
            b in "((-?password|@include) (include|required) [ab]{0,2}\n){0,4}",
        ) {
            let _ = expand("a", &files(&[("a", &a), ("b", &b)]));
        }

        #[test]
        fn config_parsers_never_panic(text in "\\PC*") {
            let _ = merge_pwquality(&[(PWQUALITY_PATH.to_string(), text.clone())]);
            let _ = parse_pwhistory("/etc/security/pwhistory.conf", &text);
        }
    }
}
