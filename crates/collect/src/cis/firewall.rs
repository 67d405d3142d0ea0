//! Persisted host firewall configurations: nftables, ufw, iptables-persistent
//! / iptables-services, firewalld.
//!
//! Why it exists: "a firewall is configured and denies by default" is one
//! question with four answers depending on the utility. Each is reduced to
//! the same [`FirewallFacts`]: the files read, the on/off switch if it has
//! one, the default policy per hook (input, forward, output) with the line
//! that sets it, and how many rules there are. Only what applies at boot is
//! read (the configuration files); the loaded ruleset of a running kernel
//! needs `nft`/`iptables` and is not examined.
//!
//! - nftables: `/etc/nftables.conf` (Debian) or `/etc/sysconfig/nftables.conf`
//!   (RHEL), following `include "FILE"` (a `*` in the file name is a glob),
//!   at most [`MAX_INCLUDES`] files. A `type filter hook H` base chain's
//!   `policy` (accept when unset) is the hook's policy; when several tables
//!   hook the same point, a dropping one wins (a packet must pass all).
//! - iptables: `iptables-save` files (`/etc/iptables/rules.v4|v6`,
//!   `/etc/sysconfig/iptables|ip6tables`): the `*filter` table's `:CHAIN POLICY` lines.
//! - ufw: `ENABLED` in `/etc/ufw/ufw.conf`, `DEFAULT_*_POLICY` in
//!   `/etc/default/ufw`, rules in `/etc/ufw/user.rules` and `user6.rules`.
//! - firewalld: the default zone (`DefaultZone` in
//!   `/etc/firewalld/firewalld.conf`, else `public`), its XML from
//!   `/etc/firewalld/zones` else `/usr/lib/firewalld/zones`; the zone's
//!   `target` (unset = `default`, which rejects) is the input and forward policy.

use std::collections::BTreeMap;

use warden_model::{FirewallFacts, Problem, Source, Sourced};

use crate::rootfs::{RootFs, join};

/// Most nftables files read through `include`.
pub const MAX_INCLUDES: usize = 64;
const NFT_FILES: [&str; 2] = ["/etc/nftables.conf", "/etc/sysconfig/nftables.conf"];
const IPTABLES_FILES: [(&str, &str); 4] = [
    ("iptables", "/etc/iptables/rules.v4"),
    ("ip6tables", "/etc/iptables/rules.v6"),
    ("iptables", "/etc/sysconfig/iptables"),
    ("ip6tables", "/etc/sysconfig/ip6tables"),
];

/// Every firewall configuration found.
pub fn collect(fs: &RootFs, problems: &mut Vec<Problem>) -> Vec<FirewallFacts> {
    let mut out = Vec::new();
    for path in NFT_FILES {
        if let Some(f) = nftables(fs, path, problems) {
            out.push(f);
        }
    }
    for (utility, path) in IPTABLES_FILES {
        match fs.read_text(path) {
            Ok(Some(text)) => out.push(parse_iptables_save(utility, &text, path)),
            Ok(None) => {}
            Err(p) => problems.push(p),
        }
    }
    if let Some(f) = ufw(fs, problems) {
        out.push(f);
    }
    if let Some(f) = firewalld(fs, problems) {
        out.push(f);
    }
    out
}

fn read(fs: &RootFs, path: &str, problems: &mut Vec<Problem>) -> Option<String> {
    match fs.read_text(path) {
        Ok(t) => t,
        Err(p) => {
            problems.push(p);
            None
        }
    }
}

fn nftables(fs: &RootFs, main: &str, problems: &mut Vec<Problem>) -> Option<FirewallFacts> {
    let text = read(fs, main, problems)?;
    let mut facts =
        FirewallFacts { utility: "nftables".into(), files: vec![], enabled: None, policies: BTreeMap::new(), rules: 0 };
    let mut todo = vec![(main.to_string(), text)];
    while let Some((path, text)) = todo.pop() {
        facts.files.push(path.clone());
        for inc in parse_nft(&text, &path, &mut facts) {
            for file in expand_include(fs, &inc, problems) {
                if facts.files.len() + todo.len() >= MAX_INCLUDES {
                    problems.push(Problem::file(
                        &path,
                        format!("more than {MAX_INCLUDES} nftables files; the rest not read"),
                    ));
                    break;
                }
                if facts.files.contains(&file) {
                    continue;
                }
                if let Some(t) = read(fs, &file, problems) {
                    todo.push((file, t));
                }
            }
        }
    }
    Some(facts)
}

/// `include "/etc/nftables.d/*.nft"`: a glob only in the file name.
fn expand_include(fs: &RootFs, pattern: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    let Some((dir, name)) = pattern.rsplit_once('/') else { return vec![] };
    let dir = if dir.is_empty() { "/" } else { dir };
    if !name.contains('*') {
        return vec![pattern.to_string()];
    }
    let (pre, post) = name.split_once('*').unwrap_or((name, ""));
    match fs.read_dir(dir) {
        Ok(Some(names)) => names
            .into_iter()
            .filter(|n| n.starts_with(pre) && n.ends_with(post) && n.len() >= pre.len() + post.len())
            .map(|n| join(dir, &n))
            .collect(),
        Ok(None) => vec![],
        Err(p) => {
            problems.push(p);
            vec![]
        }
    }
}

/// Reads one nftables file into `facts`; returns the `include` targets.
/// nft(8) syntax: statements end at `;` or a line end, blocks are `{ }`;
/// a chain's `type filter hook H ...` and `policy P` statements sit directly in it.
pub fn parse_nft(text: &str, path: &str, facts: &mut FirewallFacts) -> Vec<String> {
    let mut includes = Vec::new();
    // The open chain: (depth of its block, hook of a filter base chain, policy seen).
    let mut chain: Option<(usize, Option<String>, bool)> = None;
    let mut depth = 0usize;
    let mut stmt: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let src = Source::file(path, i as u32 + 1);
        let line = line.split('#').next().unwrap_or("");
        let mut tokens: Vec<String> = Vec::new();
        for word in line.split_whitespace() {
            let mut cur = String::new();
            for c in word.chars() {
                if matches!(c, '{' | '}' | ';') {
                    if !cur.is_empty() {
                        tokens.push(std::mem::take(&mut cur));
                    }
                    tokens.push(c.to_string());
                } else {
                    cur.push(c);
                }
            }
            if !cur.is_empty() {
                tokens.push(cur);
            }
        }
        tokens.push(";".into());
        for tok in tokens {
            if !matches!(tok.as_str(), "{" | "}" | ";") {
                stmt.push(tok);
                continue;
            }
            let words: Vec<&str> = stmt.iter().map(String::as_str).collect();
            match words.first() {
                Some(&"include") => includes.extend(words.get(1).map(|p| p.trim_matches('"').to_string())),
                Some(&"chain") if tok == "{" => chain = Some((depth + 1, None, false)),
                Some(_) => {
                    if let Some((d, hook, has_policy)) = chain.as_mut()
                        && *d == depth
                    {
                        if let Some(w) = words.windows(4).find(|w| w[0] == "type" && w[2] == "hook") {
                            if w[1] == "filter" {
                                *hook = Some(w[3].to_ascii_lowercase());
                            }
                        } else if words[0] == "policy" {
                            if let (Some(h), Some(p)) = (hook.as_ref(), words.get(1)) {
                                *has_policy = true;
                                set_policy(facts, h, p, src.clone());
                            }
                        } else if !matches!(words[0], "comment" | "counter" | "priority" | "device" | "devices") {
                            facts.rules += 1;
                        }
                    }
                }
                None => {}
            }
            stmt.clear();
            match tok.as_str() {
                "{" => depth += 1,
                "}" => {
                    if let Some((d, hook, has_policy)) = &chain
                        && *d == depth
                    {
                        if let (Some(h), false) = (hook, has_policy) {
                            set_policy(facts, h, "accept", src.clone());
                        }
                        chain = None;
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
        }
    }
    includes
}

/// Records a hook's policy; a stricter one already recorded stays (every base chain must pass a packet).
fn set_policy(facts: &mut FirewallFacts, hook: &str, policy: &str, source: Source) {
    let policy = policy.to_ascii_lowercase();
    let strict = |p: &str| p == "drop" || p == "reject";
    match facts.policies.get(hook) {
        Some(old) if strict(&old.value) && !strict(&policy) => {}
        _ => {
            facts.policies.insert(hook.to_string(), Sourced::new(policy, source));
        }
    }
}

/// An `iptables-save` file: the `*filter` table's chain policies and rules.
pub fn parse_iptables_save(utility: &str, text: &str, path: &str) -> FirewallFacts {
    let mut facts = FirewallFacts {
        utility: utility.into(),
        files: vec![path.into()],
        enabled: None,
        policies: BTreeMap::new(),
        rules: 0,
    };
    let mut in_filter = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(table) = t.strip_prefix('*') {
            in_filter = table == "filter";
        } else if t == "COMMIT" {
            in_filter = false;
        } else if in_filter && let Some(rest) = t.strip_prefix(':') {
            let mut w = rest.split_whitespace();
            if let (Some(chain @ ("INPUT" | "FORWARD" | "OUTPUT")), Some(policy)) = (w.next(), w.next()) {
                set_policy(&mut facts, &chain.to_ascii_lowercase(), policy, Source::file(path, i as u32 + 1));
            }
        } else if in_filter && t.starts_with("-A ") {
            facts.rules += 1;
        }
    }
    facts
}

fn shell_value(v: &str) -> String {
    v.trim().trim_matches(|c| c == '"' || c == '\'').to_string()
}

fn ufw(fs: &RootFs, problems: &mut Vec<Problem>) -> Option<FirewallFacts> {
    let conf = read(fs, "/etc/ufw/ufw.conf", problems)?;
    let mut facts = FirewallFacts {
        utility: "ufw".into(),
        files: vec!["/etc/ufw/ufw.conf".into()],
        enabled: None,
        policies: BTreeMap::new(),
        rules: 0,
    };
    let assignments = |text: &str| -> Vec<(usize, String, String)> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim_start().starts_with('#'))
            .filter_map(|(i, l)| l.split_once('=').map(|(k, v)| (i, k.trim().to_string(), shell_value(v))))
            .collect()
    };
    for (i, k, v) in assignments(&conf) {
        if k == "ENABLED" {
            facts.enabled = Some(Sourced::new(v.to_ascii_lowercase(), Source::file("/etc/ufw/ufw.conf", i as u32 + 1)));
        }
    }
    if let Some(text) = read(fs, "/etc/default/ufw", problems) {
        facts.files.push("/etc/default/ufw".into());
        for (i, k, v) in assignments(&text) {
            let hook = match k.as_str() {
                "DEFAULT_INPUT_POLICY" => "input",
                "DEFAULT_FORWARD_POLICY" => "forward",
                "DEFAULT_OUTPUT_POLICY" => "output",
                _ => continue,
            };
            facts.policies.insert(
                hook.into(),
                Sourced::new(v.to_ascii_lowercase(), Source::file("/etc/default/ufw", i as u32 + 1)),
            );
        }
    }
    for path in ["/etc/ufw/user.rules", "/etc/ufw/user6.rules"] {
        if let Some(text) = read(fs, path, problems) {
            facts.files.push(path.into());
            facts.rules += text.lines().filter(|l| l.starts_with("-A ufw") && l.contains("-user-")).count() as u64;
        }
    }
    Some(facts)
}

fn firewalld(fs: &RootFs, problems: &mut Vec<Problem>) -> Option<FirewallFacts> {
    const CONF: &str = "/etc/firewalld/firewalld.conf";
    let conf = read(fs, CONF, problems);
    if conf.is_none() && !fs.exists("/usr/lib/firewalld/zones") {
        return None;
    }
    let mut facts = FirewallFacts {
        utility: "firewalld".into(),
        files: vec![],
        enabled: None,
        policies: BTreeMap::new(),
        rules: 0,
    };
    let mut zone = "public".to_string();
    if let Some(text) = &conf {
        facts.files.push(CONF.into());
        for l in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            if let Some(v) = l.trim().strip_prefix("DefaultZone=") {
                zone = v.trim().to_string();
            }
        }
    }
    for dir in ["/etc/firewalld/zones", "/usr/lib/firewalld/zones"] {
        let path = format!("{dir}/{zone}.xml");
        if let Some(text) = read(fs, &path, problems) {
            facts.files.push(path.clone());
            let (target, line) = zone_target(&text);
            let policy = match target.as_str() {
                "ACCEPT" => "accept",
                "DROP" => "drop",
                // `default` and `%%REJECT%%` reject what no service or rule allows.
                _ => "reject",
            };
            let src = Source::file(&path, line);
            for hook in ["input", "forward"] {
                facts.policies.insert(hook.into(), Sourced::new(policy.to_string(), src.clone()));
            }
            facts.rules =
                ["<service ", "<port ", "<rule", "<source "].iter().map(|tag| text.matches(tag).count() as u64).sum();
            break;
        }
    }
    Some(facts)
}

/// The `target` attribute of `<zone ...>` (`default` when unset) and its line.
fn zone_target(xml: &str) -> (String, u32) {
    for (i, line) in xml.lines().enumerate() {
        if let Some(start) = line.find("<zone") {
            let tag = &line[start..];
            let target = tag.split("target=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("default");
            return (target.to_string(), i as u32 + 1);
        }
    }
    ("default".into(), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nft(text: &str) -> FirewallFacts {
        let mut f = FirewallFacts {
            utility: "nftables".into(),
            files: vec![],
            enabled: None,
            policies: BTreeMap::new(),
            rules: 0,
        };
        parse_nft(text, "/etc/nftables.conf", &mut f);
        f
    }

    #[test]
    fn nftables_policies_per_hook() {
        let f = nft(
            "#!/usr/sbin/nft -f\nflush ruleset\ntable inet filter {\n  chain input {\n    type filter hook input priority filter; policy drop;\n    ct state established,related accept\n    iif lo accept\n  }\n  chain forward { type filter hook forward priority 0; }\n  chain output {\n    type filter hook output priority 0\n    policy accept\n  }\n}\n",
        );
        assert_eq!(f.policies["input"].value, "drop");
        assert_eq!(f.policies["input"].source, Source::file("/etc/nftables.conf", 5));
        assert_eq!(f.policies["forward"].value, "accept");
        assert_eq!(f.policies["output"].value, "accept");
        assert_eq!(f.rules, 2);
    }

    #[test]
    fn a_dropping_table_wins_and_nat_chains_do_not_count() {
        let f = nft("table ip nat { chain pre { type nat hook prerouting priority -100; policy accept; } }\n\
                     table ip a { chain i { type filter hook input priority 0; policy drop; } }\n\
                     table ip b { chain i { type filter hook input priority 10; policy accept; } }\n");
        assert_eq!(f.policies["input"].value, "drop");
        assert!(!f.policies.contains_key("prerouting"));
    }

    #[test]
    fn iptables_save_filter_table_only() {
        let f = parse_iptables_save(
            "iptables",
            "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n",
            "/etc/iptables/rules.v4",
        );
        assert_eq!(f.policies["input"].value, "drop");
        assert_eq!(f.policies["output"].value, "accept");
        assert_eq!(f.rules, 1);
    }

    #[test]
    fn firewalld_zone_target() {
        assert_eq!(zone_target("<?xml version=\"1.0\"?>\n<zone>\n</zone>").0, "default");
        assert_eq!(zone_target("<zone target=\"ACCEPT\">").0, "ACCEPT");
    }

    #[test]
    fn includes_follow_globs_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc/nftables.d")).unwrap();
        std::fs::write(dir.path().join("etc/nftables.conf"), "include \"/etc/nftables.d/*.nft\"\n").unwrap();
        std::fs::write(
            dir.path().join("etc/nftables.d/10-in.nft"),
            "table inet f {\n chain input {\n  type filter hook input priority 0; policy drop;\n }\n}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("etc/nftables.d/README"), "policy accept;\n").unwrap();
        let fs = RootFs::open(dir.path()).unwrap();
        let mut problems = vec![];
        let all = collect(&fs, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].files, ["/etc/nftables.conf", "/etc/nftables.d/10-in.nft"]);
        assert_eq!(all[0].policies["input"].source, Source::file("/etc/nftables.d/10-in.nft", 3));
    }
}
