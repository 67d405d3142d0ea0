//! `glob(3)` over a [`ConfigFiles`], for sshd's `Include`.
//!
//! Why it exists: `Include /etc/ssh/sshd_config.d/*.conf` must expand inside
//! the assessed root, never on the assessing machine, so the system `glob()`
//! cannot be used. Semantics follow glob(3) with no flags, as sshd calls it:
//! `*`, `?`, `[...]` (with `!`/`^` negation and ranges) and `\` escapes in any
//! path component; wildcards never match a leading `.` unless the pattern
//! component starts with one; a pattern matching nothing yields nothing (no
//! error); results come back sorted bytewise over the whole path, as glob(3)
//! sorts them.

use warden_model::Problem;

use super::ConfigFiles;

/// Whether a path component needs matching rather than a literal lookup.
fn has_wildcard(component: &str) -> bool {
    component.contains(['*', '?', '['])
}

/// Expands an absolute in-root `pattern`. Directories that cannot be listed
/// are reported in `problems` (sshd's glob would skip them silently, but then
/// Warden's view of the configuration is incomplete and must say so).
pub(super) fn expand(files: &(impl ConfigFiles + ?Sized), pattern: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    // Matched prefixes so far; "" stands for the root.
    let mut prefixes = vec![String::new()];
    for (index, component) in components.iter().enumerate() {
        let is_last = index + 1 == components.len();
        let mut next = Vec::new();
        for prefix in &prefixes {
            if !has_wildcard(component) {
                next.push(format!("{prefix}/{}", unescape(component)));
                continue;
            }
            let dir = if prefix.is_empty() { "/" } else { prefix.as_str() };
            match files.read_dir(dir) {
                Ok(Some(names)) => {
                    for name in names {
                        if fnmatch(component, &name) {
                            let path = format!("{prefix}/{name}");
                            if is_last || files.is_dir(&path) {
                                next.push(path);
                            }
                        }
                    }
                }
                Ok(None) => {}
                Err(problem) => problems.push(problem),
            }
        }
        prefixes = next;
        if prefixes.is_empty() {
            break;
        }
    }
    prefixes.retain(|p| !p.is_empty());
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

fn unescape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(next) = chars.next()
        {
            out.push(next);
            continue;
        }
        out.push(c);
    }
    out
}

/// fnmatch(3) of one path component (no `FNM_PATHNAME` needed: components
/// never contain `/`), with `FNM_PERIOD` behaviour for a leading dot. Uses
/// the single-star backtracking scheme, so it is linear-times-pattern, never
/// exponential, on hostile input.
pub(super) fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    if n.first() == Some(&'.') && p.first() != Some(&'.') {
        return false;
    }
    let (mut pi, mut ni) = (0usize, 0usize);
    // Position of the last '*' seen and the name position it is trying.
    let mut backtrack: Option<(usize, usize)> = None;
    while ni < n.len() {
        if p.get(pi) == Some(&'*') {
            backtrack = Some((pi, ni));
            pi += 1;
            continue;
        }
        if let Some(next) = match_one(&p, pi, n[ni]) {
            pi = next;
            ni += 1;
            continue;
        }
        match backtrack {
            Some((star, tried)) => {
                pi = star + 1;
                ni = tried + 1;
                backtrack = Some((star, tried + 1));
            }
            None => return false,
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == '*')
}

/// If the single-character token at `p[pi]` matches `c`, the index after it.
fn match_one(p: &[char], pi: usize, c: char) -> Option<usize> {
    match *p.get(pi)? {
        '?' => Some(pi + 1),
        '[' => match bracket(p, pi, c) {
            Some((true, next)) => Some(next),
            Some((false, _)) => None,
            // No closing ']': the '[' is an ordinary character.
            None => (c == '[').then_some(pi + 1),
        },
        '\\' if pi + 1 < p.len() => (p[pi + 1] == c).then_some(pi + 2),
        literal => (literal == c).then_some(pi + 1),
    }
}

/// Matches a bracket expression starting at `p[open] == '['`: whether `c` is
/// in it and the index after its `]`; `None` when it is not terminated.
fn bracket(p: &[char], open: usize, c: char) -> Option<(bool, usize)> {
    let mut i = open + 1;
    let negated = matches!(p.get(i), Some('!') | Some('^'));
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let start = *p.get(i)?;
        if start == ']' && !first {
            return Some((matched != negated, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            let end = p[i + 2];
            matched |= start <= c && c <= end;
            i += 3;
        } else {
            matched |= start == c;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_follows_glob3() {
        assert!(fnmatch("*.conf", "50-redhat.conf"));
        assert!(!fnmatch("*.conf", "50-redhat.conf.rpmnew"));
        assert!(!fnmatch("*.conf", ".hidden.conf"));
        assert!(fnmatch(".*", ".hidden"));
        assert!(fnmatch("??-*", "10-x"));
        assert!(fnmatch("[0-4]*", "3a"));
        assert!(!fnmatch("[!0-4]*", "3a"));
        assert!(fnmatch("[]]", "]"));
        assert!(fnmatch("a[", "a["));
        assert!(fnmatch(r"\*", "*"));
        assert!(!fnmatch(r"\*", "x"));
        assert!(fnmatch("*a*b*c", "xxaxxbxxc"));
        assert!(!fnmatch("*a*b*c", "xxaxxbxx"));
        // Pathological patterns stay fast.
        assert!(!fnmatch(&"*a".repeat(50), &"a".repeat(49)));
    }
}
