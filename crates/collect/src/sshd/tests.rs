//! Tests of the sshd module: real distribution configs on tempdir roots, and
//! the parsing semantics on in-memory files.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::*;

const DEBIAN12: &str = include_str!("../../tests/fixtures/sshd/debian12_sshd_config");
const RHEL9: &str = include_str!("../../tests/fixtures/sshd/rhel9_sshd_config");
const RHEL9_REDHAT: &str = include_str!("../../tests/fixtures/sshd/rhel9_50-redhat.conf");
const RHEL9_CRYPTO: &str = include_str!("../../tests/fixtures/sshd/rhel9_opensshserver.config");
const ALPINE: &str = include_str!("../../tests/fixtures/sshd/alpine_sshd_config");

/// A fake sshd binary: compatibility patterns first, as in real binaries.
const FAKE_BINARY: &[u8] =
    b"\x7fELF\0\0OpenSSH_2.*,OpenSSH_3.0*\0OpenSSH_7.4*\0OpenSSH_9.2p1\0OpenSSH_9.2p1 Debian-2+deb12u3\0";

fn root_with(files: &[(&str, &[u8])]) -> (tempfile::TempDir, RootFs) {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        let host = dir.path().join(path.trim_start_matches('/'));
        fs::create_dir_all(host.parent().unwrap()).unwrap();
        fs::write(host, contents).unwrap();
    }
    let root = RootFs::open(dir.path()).unwrap();
    (dir, root)
}

fn collected(fs: &RootFs) -> SshdConfig {
    match collect(fs) {
        Fact::Collected { value } => value,
        other => panic!("expected a collected config, got {other:?}"),
    }
}

fn value<'a>(config: &'a SshdConfig, key: &str) -> &'a str {
    &config.settings[key].value
}

fn at(path: &str, line: u32) -> Source {
    Source::file(path, line)
}

fn values(entries: &[Sourced<String>]) -> Vec<&str> {
    entries.iter().map(|e| e.value.as_str()).collect()
}

/// Files in memory; a content of `"\0unreadable"` reads as an error.
struct MemFiles(BTreeMap<String, String>);

impl MemFiles {
    fn new(files: &[(&str, &str)]) -> Self {
        MemFiles(files.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect())
    }
}

impl ConfigFiles for MemFiles {
    fn read_text(&self, path: &str) -> Result<Option<String>, Problem> {
        match self.0.get(path) {
            Some(text) if text == "\0unreadable" => Err(Problem::file(path, "permission denied")),
            other => Ok(other.cloned()),
        }
    }
    fn read_dir(&self, path: &str) -> Result<Option<Vec<String>>, Problem> {
        let prefix = if path.ends_with('/') { path.to_string() } else { format!("{path}/") };
        let mut names: Vec<String> = self
            .0
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
            .collect();
        names.dedup();
        Ok(if names.is_empty() { None } else { Some(names) })
    }
    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{path}/");
        self.0.keys().any(|k| k.starts_with(&prefix))
    }
}

fn parsed(files: &[(&str, &str)]) -> SshdConfig {
    parse(&MemFiles::new(files), MAIN_CONFIG).unwrap()
}

fn messages(config: &SshdConfig) -> Vec<String> {
    config.problems.iter().map(ToString::to_string).collect()
}

#[test]
fn debian12_default_config() {
    let (_dir, root) = root_with(&[("/usr/sbin/sshd", FAKE_BINARY), (MAIN_CONFIG, DEBIAN12.as_bytes())]);
    fs::create_dir_all(root.root().join("etc/ssh/sshd_config.d")).unwrap();
    let config = collected(&root);
    assert_eq!(config.binary.as_deref(), Some("/usr/sbin/sshd"));
    assert_eq!(config.version.as_deref(), Some("9.2p1"));
    assert_eq!(config.files, vec![MAIN_CONFIG]);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    assert_eq!(config.settings["kbdinteractiveauthentication"], Sourced::new("no".into(), at(MAIN_CONFIG, 62)));
    assert_eq!(config.settings["usepam"], Sourced::new("yes".into(), at(MAIN_CONFIG, 85)));
    assert_eq!(value(&config, "x11forwarding"), "yes");
    assert_eq!(value(&config, "printmotd"), "no");
    assert_eq!(values(&config.multi["acceptenv"]), vec!["LANG", "LC_*"]);
    assert_eq!(values(&config.multi["subsystem"]), vec!["sftp /usr/lib/openssh/sftp-server"]);
    assert_eq!(values(&config.multi["port"]), vec!["22"]);
    let root_login = &config.settings["permitrootlogin"];
    assert_eq!(root_login.value, "prohibit-password");
    assert!(matches!(&root_login.source, Source::Default { note } if note.contains("9.2p1") && note.contains("7.0")));
    assert_eq!(value(&config, "passwordauthentication"), "yes");
    assert!(config.match_blocks.is_empty());
}

#[test]
fn drop_in_before_the_main_file_wins() {
    let main = format!("{DEBIAN12}PermitRootLogin yes\n");
    let (_dir, root) = root_with(&[
        ("/usr/sbin/sshd", FAKE_BINARY),
        (MAIN_CONFIG, main.as_bytes()),
        ("/etc/ssh/sshd_config.d/10-hardening.conf", b"# hardening\nPermitRootLogin no\nPasswordAuthentication no\n"),
        ("/etc/ssh/sshd_config.d/20-later.conf", b"PasswordAuthentication yes\n"),
        ("/etc/ssh/sshd_config.d/README", b"not a .conf file\n"),
    ]);
    let config = collected(&root);
    let drop_in = "/etc/ssh/sshd_config.d/10-hardening.conf";
    assert_eq!(config.settings["permitrootlogin"], Sourced::new("no".into(), at(drop_in, 2)));
    assert_eq!(config.settings["passwordauthentication"], Sourced::new("no".into(), at(drop_in, 3)));
    assert_eq!(config.files, vec![MAIN_CONFIG, drop_in, "/etc/ssh/sshd_config.d/20-later.conf"]);
}

#[test]
fn rhel9_config_with_redhat_drop_in_and_crypto_policy() {
    let (_dir, root) = root_with(&[
        ("/usr/sbin/sshd", b"no version marker here"),
        (MAIN_CONFIG, RHEL9.as_bytes()),
        ("/etc/ssh/sshd_config.d/01-permitrootlogin.conf", b"# via installer\nPermitRootLogin yes\n"),
        ("/etc/ssh/sshd_config.d/50-redhat.conf", RHEL9_REDHAT.as_bytes()),
        ("/etc/crypto-policies/back-ends/opensshserver.config", RHEL9_CRYPTO.as_bytes()),
    ]);
    let config = collected(&root);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    let redhat = "/etc/ssh/sshd_config.d/50-redhat.conf";
    assert_eq!(
        config.files,
        vec![
            MAIN_CONFIG,
            "/etc/ssh/sshd_config.d/01-permitrootlogin.conf",
            redhat,
            "/etc/crypto-policies/back-ends/opensshserver.config"
        ]
    );
    assert_eq!(value(&config, "permitrootlogin"), "yes");
    // ChallengeResponseAuthentication is stored under its current name.
    assert_eq!(config.settings["kbdinteractiveauthentication"], Sourced::new("no".into(), at(redhat, 9)));
    assert!(value(&config, "ciphers").starts_with("aes256-gcm@openssh.com,"));
    assert_eq!(value(&config, "requiredrsasize"), "2048");
    assert_eq!(value(&config, "syslogfacility"), "AUTHPRIV");
    assert_eq!(value(&config, "authorizedkeysfile"), ".ssh/authorized_keys");
    assert_eq!(value(&config, "gssapiauthentication"), "yes");
    assert_eq!(config.version, None);
    let Source::Default { note } = &config.settings["usedns"].source else { panic!("usedns should be a default") };
    assert!(note.contains("version unknown"), "{note}");
}

#[test]
fn alpine_config_with_version_from_apk() {
    let apk = "C:Q1abc=\nP:busybox\nV:1.36.1-r29\n\nC:Q1def=\nP:openssh-server\nV:9.7_p1-r4\nA:x86_64\n";
    let (_dir, root) = root_with(&[
        ("/usr/sbin/sshd", b"stripped"),
        (MAIN_CONFIG, ALPINE.as_bytes()),
        ("/lib/apk/db/installed", apk.as_bytes()),
    ]);
    let config = collected(&root);
    assert_eq!(config.version.as_deref(), Some("9.7p1"));
    assert_eq!(value(&config, "allowtcpforwarding"), "no");
    assert_eq!(value(&config, "x11forwarding"), "no");
    assert_eq!(values(&config.multi["subsystem"]), vec!["sftp internal-sftp"]);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
}

#[test]
fn absent_failed_and_defaults_only() {
    let (_dir, root) = root_with(&[("/etc/hostname", b"h\n")]);
    assert!(matches!(collect(&root), Fact::Absent { .. }));

    let (dir, root) = root_with(&[("/usr/sbin/sshd", FAKE_BINARY)]);
    let config = collected(&root);
    assert!(config.files.is_empty());
    assert_eq!(value(&config, "permitrootlogin"), "prohibit-password");
    assert_eq!(value(&config, "maxauthtries"), "6");

    fs::create_dir_all(dir.path().join("etc/ssh/sshd_config")).unwrap();
    match collect(&root) {
        Fact::Failed { problem } => assert_eq!(problem.path, MAIN_CONFIG),
        other => panic!("expected failure, got {other:?}"),
    }
}

#[test]
fn version_from_dpkg_when_the_binary_has_none() {
    let status = "Package: openssh-client\nStatus: install ok installed\nVersion: 1:9.2p1-2+deb12u3\n\n\
                  Package: openssh-server\nStatus: install ok installed\nPriority: optional\nVersion: 1:6.6p1-2ubuntu2\n";
    let (_dir, root) = root_with(&[
        ("/usr/sbin/sshd", b"none"),
        (MAIN_CONFIG, b"Port 2222\n"),
        ("/var/lib/dpkg/status", status.as_bytes()),
    ]);
    let config = collected(&root);
    assert_eq!(config.version.as_deref(), Some("6.6p1"));
    // Before 7.0 the default was yes.
    assert_eq!(value(&config, "permitrootlogin"), "yes");
    assert_eq!(values(&config.multi["port"]), vec!["2222"]);
    assert_eq!(
        version_from_dpkg_status("Package: openssh-server\nStatus: deinstall ok config-files\nVersion: 1:9.2p1-2\n"),
        None
    );
}

#[test]
fn versions_compare_numerically_and_come_from_binaries() {
    assert_eq!(version_from_binary(FAKE_BINARY).as_deref(), Some("9.2p1"));
    assert_eq!(version_from_binary(b"OpenSSH_6.6.1p1 Ubuntu").as_deref(), Some("6.6.1p1"));
    assert_eq!(version_from_binary(b"OpenSSH_7.0*\0OpenSSH_"), None);
    assert!(version_at_least("10.0p1", 7, 0));
    assert!(version_at_least("7.0p1", 7, 0));
    assert!(!version_at_least("6.6.1p1", 7, 0));
    assert!(!version_at_least("6.10p1", 7, 0));
    assert!(version_at_least("7.10p1", 7, 9));
    for (version, want) in [("6.6p1", "yes"), ("9.2p1", "prohibit-password")] {
        let mut config = parsed(&[]);
        config.version = Some(version.to_string());
        fill_defaults(&mut config);
        assert_eq!(value(&config, "permitrootlogin"), want, "{version}");
    }
}

#[test]
fn match_blocks_do_not_change_global_values() {
    let config = parsed(&[(
        MAIN_CONFIG,
        "PasswordAuthentication no\nMatch User backup Address 10.0.0.0/8\n  PasswordAuthentication yes\n  PasswordAuthentication no\n  AllowUsers a b\n  AllowUsers c\nMatch Group admins\n  PermitRootLogin yes\n",
    )]);
    assert_eq!(config.settings["passwordauthentication"], Sourced::new("no".into(), at(MAIN_CONFIG, 1)));
    assert!(!config.settings.contains_key("permitrootlogin"));
    assert!(!config.multi.contains_key("allowusers"));
    assert_eq!(config.match_blocks.len(), 2);
    let block = &config.match_blocks[0];
    assert_eq!(block.criteria, "User backup Address 10.0.0.0/8");
    assert_eq!(block.source, at(MAIN_CONFIG, 2));
    assert_eq!(block.settings["passwordauthentication"], Sourced::new("yes".into(), at(MAIN_CONFIG, 3)));
    assert_eq!(block.settings["allowusers"].value, "a b c");
    assert_eq!(config.match_blocks[1].settings["permitrootlogin"].value, "yes");
}

#[test]
fn match_all_sets_global_values_like_sshd_at_startup() {
    let config = parsed(&[(
        MAIN_CONFIG,
        "Match User x\n  X11Forwarding yes\nMatch all\n  PermitRootLogin no\n  Port 2200\n  AllowUsers alice\n",
    )]);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    assert!(!config.settings.contains_key("x11forwarding"));
    assert_eq!(config.settings["permitrootlogin"], Sourced::new("no".into(), at(MAIN_CONFIG, 4)));
    assert_eq!(values(&config.multi["port"]), vec!["2200"]);
    assert_eq!(values(&config.multi["allowusers"]), vec!["alice"]);
    assert_eq!(config.match_blocks[1].settings["permitrootlogin"].value, "no");
}

#[test]
fn includes_inside_match_blocks_and_match_blocks_inside_includes() {
    let config = parsed(&[
        (
            MAIN_CONFIG,
            "Include conf.d/inc.conf\nX11Forwarding no\nMatch User bob\n  Include /etc/ssh/bob.conf\n  MaxSessions 2\n",
        ),
        ("/etc/ssh/conf.d/inc.conf", "LogLevel VERBOSE\nMatch User carol\n  PermitTTY no\n"),
        ("/etc/ssh/bob.conf", "AllowTcpForwarding no\nMatch all\n  Banner /etc/issue\n"),
    ]);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    // The Match opened in inc.conf ends with that file.
    assert_eq!(config.settings["x11forwarding"], Sourced::new("no".into(), at(MAIN_CONFIG, 2)));
    assert_eq!(value(&config, "loglevel"), "VERBOSE");
    let criteria: Vec<&str> = config.match_blocks.iter().map(|b| b.criteria.as_str()).collect();
    assert_eq!(criteria, vec!["User carol", "User bob", "all"]);
    let bob = &config.match_blocks[1].settings;
    assert_eq!(bob["allowtcpforwarding"], Sourced::new("no".into(), at("/etc/ssh/bob.conf", 1)));
    assert_eq!(bob["maxsessions"].value, "2");
    // `Match all` in a file included from an inactive block is syntax-checked only.
    assert!(!config.settings.contains_key("banner"));
    assert_eq!(config.match_blocks[2].settings["banner"].value, "/etc/issue");
}

#[test]
fn include_loops_and_depth_are_bounded() {
    let config = parsed(&[(MAIN_CONFIG, "Include /etc/ssh/sshd_config\nPort 22\n")]);
    assert_eq!(config.problems.len(), 1, "{:?}", config.problems);
    assert_eq!(config.problems[0].path, MAIN_CONFIG);
    assert_eq!(config.problems[0].line, Some(1));
    assert!(config.problems[0].message.contains("include loop"));
    assert_eq!(values(&config.multi["port"]), vec!["22"]);

    let mut chain: Vec<(String, String)> =
        (0..30).map(|i| (format!("/etc/ssh/c{i}"), format!("Include c{}\n", i + 1))).collect();
    chain.push((MAIN_CONFIG.to_string(), "Include c0\n".to_string()));
    let refs: Vec<(&str, &str)> = chain.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let config = parsed(&refs);
    assert_eq!(config.problems.len(), 1, "{:?}", config.problems);
    assert!(config.problems[0].message.contains("deeper than 16"));
    assert_eq!(config.files.len(), 17);
}

#[test]
fn bad_lines_are_problems_and_parsing_goes_on() {
    let text = "PermitRootLogin\r\nFrobnicate yes\r\nPasswordAuthentication=no\r\nBanner \"/etc/my banner\"\r\n\
                Include /nothing/*.conf missing.conf\r\nBanner \"unterminated\r\nMatch User x\r\nPort 23\r\nUsePAM yes\r\n\
                Include unreadable.conf\r\nMaxStartups 5\r\n";
    let config = parsed(&[(MAIN_CONFIG, text), ("/etc/ssh/unreadable.conf", "\0unreadable")]);
    assert_eq!(
        messages(&config),
        vec![
            "/etc/ssh/sshd_config:1: no argument after keyword \"PermitRootLogin\"; sshd would refuse to start",
            "/etc/ssh/sshd_config:2: unknown keyword Frobnicate; sshd would refuse to start",
            "/etc/ssh/sshd_config:6: unterminated quote in the arguments of \"Banner\"; sshd would refuse to start",
            "/etc/ssh/sshd_config:8: Port is not allowed within a Match block; sshd would refuse to start",
            "/etc/ssh/sshd_config:9: UsePAM is not allowed within a Match block; sshd would refuse to start",
            "/etc/ssh/sshd_config:10: Include /etc/ssh/unreadable.conf: permission denied",
            "/etc/ssh/sshd_config:11: MaxStartups is not allowed within a Match block; sshd would refuse to start",
        ]
    );
    assert_eq!(config.settings["passwordauthentication"], Sourced::new("no".into(), at(MAIN_CONFIG, 3)));
    assert_eq!(value(&config, "banner"), "/etc/my banner");
    assert!(!config.settings.contains_key("permitrootlogin"));
}

#[test]
fn aliases_last_wins_keywords_and_first_line_lists() {
    let config = parsed(&[(
        MAIN_CONFIG,
        "challengeResponseAuthentication yes\nKbdInteractiveAuthentication no\nMaxStartups 3\nMaxStartups 10:30:60\n\
         AuthorizedKeysFile .ssh/a .ssh/b\nAuthorizedKeysFile .ssh/c\nHostKey /k1\nHostDSAKey /k2\nProtocol 2,1\n",
    )]);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    assert_eq!(config.settings["kbdinteractiveauthentication"], Sourced::new("yes".into(), at(MAIN_CONFIG, 1)));
    assert_eq!(config.settings["maxstartups"], Sourced::new("10:30:60".into(), at(MAIN_CONFIG, 4)));
    assert_eq!(value(&config, "authorizedkeysfile"), ".ssh/a .ssh/b");
    assert_eq!(values(&config.multi["hostkey"]), vec!["/k1", "/k2"]);
    assert_eq!(value(&config, "protocol"), "2,1");
}

#[test]
fn include_globs_sort_and_match_in_directories() {
    let config = parsed(&[
        (MAIN_CONFIG, "Include /etc/ssh/d*/[0-4]?-*.conf\n"),
        ("/etc/ssh/d2/10-b.conf", "LogLevel ERROR\n"),
        ("/etc/ssh/d1/30-a.conf", "LogLevel DEBUG\n"),
        ("/etc/ssh/d1/50-c.conf", "MaxSessions 1\n"),
        ("/etc/ssh/d1/.10-h.conf", "MaxSessions 2\n"),
        ("/etc/ssh/dfile", "x"),
    ]);
    assert_eq!(config.files, vec![MAIN_CONFIG, "/etc/ssh/d1/30-a.conf", "/etc/ssh/d2/10-b.conf"]);
    assert_eq!(value(&config, "loglevel"), "DEBUG");
}

proptest::proptest! {
    #[test]
    fn parser_never_panics(text in "((Include|Match|PermitRootLogin|Port|#|=|\"|'|\\\\| |\t|\r|\n|[a-z*?\\[\\]/.]{0,6}){0,40})") {
        let files = MemFiles::new(&[(MAIN_CONFIG, &text), ("/etc/ssh/a.conf", &text)]);
        let mut config = parse(&files, MAIN_CONFIG).unwrap();
        fill_defaults(&mut config);
    }

    #[test]
    fn parser_never_panics_on_any_text(text in "\\PC{0,200}") {
        let files = MemFiles::new(&[(MAIN_CONFIG, &text)]);
        let _ = parse(&files, MAIN_CONFIG);
        let _ = version_from_binary(text.as_bytes());
        let _ = glob::fnmatch(&text, "name");
    }
}

#[test]
fn a_typical_config_parses_quickly() {
    let files = MemFiles::new(&[(MAIN_CONFIG, DEBIAN12)]);
    let start = std::time::Instant::now();
    for _ in 0..100 {
        let _ = parse(&files, MAIN_CONFIG).unwrap();
    }
    // Generous even for unoptimised builds on a slow CI machine.
    assert!(start.elapsed().as_millis() < 2000, "{:?}", start.elapsed());
    let _ = Path::new("/");
}
