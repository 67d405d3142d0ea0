//! The effective sshd configuration, computed the way OpenSSH's `sshd -T`
//! computes it at startup (no `-C` connection spec).
//!
//! Why it exists: most remote-access findings (root login, password
//! authentication, forwarding, ...) depend on the value sshd actually uses,
//! which is rarely the first line a `grep` finds: drop-ins in
//! `sshd_config.d/` come first, the first value wins, `Match` blocks apply
//! only to some connections, and unset keywords take version-dependent
//! built-in defaults. Semantics, checked against OpenSSH portable `servconf.c`
//! (`process_server_config_line_depth`, `parse_server_config_depth`,
//! `match_cfg_line`, `fill_default_server_options`) and sshd_config(5):
//!
//! - **Files**: the binary is the first of [`SSHD_BINARIES`]; the main file is
//!   [`MAIN_CONFIG`]. Neither → `Absent`; an unreadable main file → `Failed`;
//!   a binary without a main file → defaults only.
//! - **Lexing** ([`lex`]): leading/trailing whitespace (and a trailing CR) is
//!   ignored; `#` lines and blank lines are skipped; the keyword is
//!   case-insensitive (stored lower-case) and separated from its arguments by
//!   whitespace and/or one `=`; arguments follow `argv_split()`: `"`/`'`
//!   quotes, `\` escapes, and a `#` starting an argument ends the line.
//!   Values are stored as the arguments after quote removal, joined by one
//!   space. A keyword without argument, an unterminated quote, an unknown
//!   keyword, or a global-only keyword inside a `Match` block is a
//!   [`Problem`] (sshd would refuse to start); the line is skipped.
//! - **First value wins** for single-valued keywords, in reading order across
//!   the main file and its includes. Exceptions taken from servconf.c:
//!   `MaxStartups`, `PerSourceMaxStartups`, `PerSourceNetBlockSize`,
//!   `StreamLocalBindMask` and `FingerprintHash` are assigned unconditionally,
//!   so the **last** value wins. Keywords that take a list on one line but are
//!   honoured only from their first line (`AuthorizedKeysFile`, `SetEnv`,
//!   `PermitOpen`, `PermitListen`, `AuthenticationMethods`, `LogVerbose`) are
//!   single-valued here, their value being the whole list.
//! - **Accumulating keywords** go to `multi` in reading order: one entry per
//!   line for `port`, `listenaddress`, `hostkey`, `hostcertificate` and
//!   `subsystem`; one entry per argument for `acceptenv`, `allowusers`,
//!   `denyusers`, `allowgroups` and `denygroups`.
//! - **Aliases** are stored under the current name: `ChallengeResponseAuthentication`
//!   and `SKeyAuthentication` → `kbdinteractiveauthentication` (the alias of
//!   OpenSSH ≥ 8.7; the first of either wins), `HostDSAKey` → `hostkey`,
//!   `DSAAuthentication` → `pubkeyauthentication`, `KeepAlive` →
//!   `tcpkeepalive`, `*AcceptedKeyTypes` → `*AcceptedAlgorithms`,
//!   `RSAMinSize` → `requiredrsasize`. Deprecated and ignored keywords
//!   (`Protocol`, `UsePrivilegeSeparation`, `RSAAuthentication`, ...) are
//!   accepted and recorded, so rules can flag them.
//! - **`Include`**: each argument is a glob(3) pattern ([`glob`]), relative
//!   ones taken relative to `/etc/ssh`, `~/` to `/root/`; matches are read in
//!   sorted order and their lines take effect in place of the `Include` line.
//!   A pattern matching nothing is fine. An unreadable included file is a
//!   problem and reading goes on. Nesting deeper than [`MAX_INCLUDE_DEPTH`]
//!   (sshd: "Too many recursive configuration includes") and a file that
//!   includes itself, directly or not, are problems naming the `Include` line;
//!   the include is skipped, so reading always ends.
//! - **`Match`**: starts a block that lasts until the next `Match` line or the
//!   end of the file it is in: when an included file ends, the includer's
//!   block state at its `Include` line is restored (servconf.c saves and
//!   restores `activep` around each include). Lines of an included file
//!   before its first `Match` belong to the includer's current block.
//!   Keywords in a block go to that [`SshdMatchBlock`] (first value wins
//!   there too; accumulating keywords are appended, space-separated) and do
//!   not change the global values, with one exception that sshd also makes:
//!   `Match all` is active at startup, so its lines also set global values
//!   (first wins, and global-only keywords are allowed in it) — unless it
//!   sits in a file included from inside another `Match` block, where sshd
//!   checks it for syntax only.
//! - **Defaults**: keywords that no global line set get OpenSSH's built-in
//!   default with a [`Source::Default`] note naming the version it depends
//!   on; the version is read from the binary (`OpenSSH_9.2p1`) or, failing
//!   that, from the dpkg or apk package database. OpenSSH versions compare
//!   numerically (`6.6.1p1` < `7.0p1` < `10.0p1`).

mod glob;
mod lex;

use std::collections::HashMap;
use std::sync::OnceLock;

use warden_model::{Fact, Problem, Settings, Source, Sourced, SshdConfig, SshdMatchBlock};

use crate::RootFs;

/// Where sshd binaries are looked for, in order.
pub const SSHD_BINARIES: [&str; 4] = ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd", "/usr/local/sbin/sshd"];
/// The main configuration file.
pub const MAIN_CONFIG: &str = "/etc/ssh/sshd_config";
/// Directory that relative `Include` patterns are relative to (sshd's `SSHDIR`).
pub const SSH_DIR: &str = "/etc/ssh";
/// Deepest `Include` nesting sshd accepts (`SERVCONF_MAX_DEPTH`).
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// The file operations the parser needs, so that it can run over a
/// [`RootFs`] or, in tests, over files held in memory.
pub trait ConfigFiles {
    /// A text file's contents; `Ok(None)` when it does not exist.
    fn read_text(&self, path: &str) -> Result<Option<String>, Problem>;
    /// Names in a directory, sorted bytewise; `Ok(None)` when it does not exist.
    fn read_dir(&self, path: &str) -> Result<Option<Vec<String>>, Problem>;
    /// Whether the path is a directory (following symlinks).
    fn is_dir(&self, path: &str) -> bool;
}

impl ConfigFiles for RootFs {
    fn read_text(&self, path: &str) -> Result<Option<String>, Problem> {
        RootFs::read_text(self, path)
    }
    fn read_dir(&self, path: &str) -> Result<Option<Vec<String>>, Problem> {
        RootFs::read_dir(self, path)
    }
    fn is_dir(&self, path: &str) -> bool {
        matches!(self.stat(path), Ok(Some(meta)) if meta.is_dir())
    }
}

/// Collects the effective sshd configuration of the root.
pub fn collect(fs: &RootFs) -> Fact<SshdConfig> {
    let binary = SSHD_BINARIES.iter().copied().find(|path| fs.exists(path));
    let mut config = match parse(fs, MAIN_CONFIG) {
        Ok(config) => config,
        Err(problem) => return Fact::Failed { problem },
    };
    if config.files.is_empty() && binary.is_none() {
        return Fact::Absent { reason: format!("no sshd binary ({}) and no {MAIN_CONFIG}", SSHD_BINARIES.join(", ")) };
    }
    config.binary = binary.map(str::to_string);
    if let Some(binary) = binary {
        match fs.read_bytes(binary) {
            Ok(Some(bytes)) => config.version = version_from_binary(&bytes),
            Ok(None) => {}
            Err(problem) => config.problems.push(problem),
        }
    }
    if config.version.is_none() {
        config.version = version_from_packages(fs);
    }
    fill_defaults(&mut config);
    Fact::collected(config)
}

/// Parses `main_file` and everything it includes, without defaults and
/// without binary or version. A missing main file gives an empty
/// configuration (no files read); an unreadable one is the error.
pub fn parse(files: &(impl ConfigFiles + ?Sized), main_file: &str) -> Result<SshdConfig, Problem> {
    let mut parser = Parser {
        files,
        config: SshdConfig {
            binary: None,
            version: None,
            main_file: main_file.to_string(),
            files: Vec::new(),
            settings: Settings::new(),
            multi: Default::default(),
            match_blocks: Vec::new(),
            problems: Vec::new(),
        },
        open: Vec::new(),
        block_is_global: Vec::new(),
    };
    if let Some(text) = files.read_text(main_file)? {
        let mut context = Context { block: None, syntax_only: false };
        parser.parse_file(main_file, &text, 0, &mut context);
    }
    Ok(parser.config)
}

/// How a keyword's values combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Combine {
    /// The first value wins.
    First,
    /// The last value wins (assigned unconditionally in servconf.c).
    Last,
    /// Every line accumulates, one entry per line.
    PerLine,
    /// Every argument of every line accumulates.
    PerArg,
    /// `Include`.
    Include,
    /// `Match`.
    Match,
}

/// Where a keyword is allowed (servconf.c `SSHCFG_GLOBAL` / `SSHCFG_ALL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Global,
    Anywhere,
}

#[derive(Clone, Copy, Debug)]
struct Keyword {
    /// Name values are stored under (the alias target, or the name itself).
    canonical: &'static str,
    combine: Combine,
    scope: Scope,
}

use Combine::{First, Last, PerArg, PerLine};
use Scope::{Anywhere, Global};

/// Every keyword a recent OpenSSH (10.x) accepts, the deprecated ones it still
/// recognises, and the Debian/RHEL patch keywords, with servconf.c's scope.
/// An empty canonical name means the keyword is its own canonical name.
const KEYWORDS: &[(&str, &str, Combine, Scope)] = &[
    ("acceptenv", "", PerArg, Anywhere),
    ("addressfamily", "", First, Global),
    ("afstokenpassing", "", First, Global),
    ("allowagentforwarding", "", First, Anywhere),
    ("allowgroups", "", PerArg, Anywhere),
    ("allowstreamlocalforwarding", "", First, Anywhere),
    ("allowtcpforwarding", "", First, Anywhere),
    ("allowusers", "", PerArg, Anywhere),
    ("authenticationmethods", "", First, Anywhere),
    ("authorizedkeyscommand", "", First, Anywhere),
    ("authorizedkeyscommanduser", "", First, Anywhere),
    ("authorizedkeysfile", "", First, Anywhere),
    ("authorizedkeysfile2", "", First, Anywhere),
    ("authorizedprincipalscommand", "", First, Anywhere),
    ("authorizedprincipalscommanduser", "", First, Anywhere),
    ("authorizedprincipalsfile", "", First, Anywhere),
    ("banner", "", First, Anywhere),
    ("casignaturealgorithms", "", First, Anywhere),
    ("challengeresponseauthentication", "kbdinteractiveauthentication", First, Anywhere),
    ("channeltimeout", "", First, Anywhere),
    ("checkmail", "", First, Global),
    ("chrootdirectory", "", First, Anywhere),
    ("ciphers", "", First, Global),
    ("clientalivecountmax", "", First, Anywhere),
    ("clientaliveinterval", "", First, Anywhere),
    ("compression", "", First, Global),
    ("debianbanner", "", First, Global),
    ("denygroups", "", PerArg, Anywhere),
    ("denyusers", "", PerArg, Anywhere),
    ("disableforwarding", "", First, Anywhere),
    ("dsaauthentication", "pubkeyauthentication", First, Global),
    ("exposeauthinfo", "", First, Anywhere),
    ("fingerprinthash", "", Last, Global),
    ("forcecommand", "", First, Anywhere),
    ("gatewayports", "", First, Anywhere),
    ("gssapiauthentication", "", First, Anywhere),
    ("gssapicleanupcredentials", "", First, Global),
    ("gssapienablek5users", "", First, Anywhere),
    ("gssapiindicators", "", First, Anywhere),
    ("gssapikexalgorithms", "", First, Global),
    ("gssapikeyexchange", "", First, Global),
    ("gssapistorecredentialsonrekey", "", First, Global),
    ("gssapistrictacceptorcheck", "", First, Global),
    ("hostbasedacceptedalgorithms", "", First, Anywhere),
    ("hostbasedacceptedkeytypes", "hostbasedacceptedalgorithms", First, Anywhere),
    ("hostbasedauthentication", "", First, Anywhere),
    ("hostbasedusesnamefrompacketonly", "", First, Anywhere),
    ("hostcertificate", "", PerLine, Global),
    ("hostdsakey", "hostkey", PerLine, Global),
    ("hostkey", "", PerLine, Global),
    ("hostkeyagent", "", First, Global),
    ("hostkeyalgorithms", "", First, Global),
    ("ignorerhosts", "", First, Anywhere),
    ("ignoreuserknownhosts", "", First, Global),
    ("include", "", Combine::Include, Anywhere),
    ("ipqos", "", First, Anywhere),
    ("kbdinteractiveauthentication", "", First, Anywhere),
    ("keepalive", "tcpkeepalive", First, Global),
    ("kerberosauthentication", "", First, Anywhere),
    ("kerberosgetafstoken", "", First, Global),
    ("kerberosorlocalpasswd", "", First, Global),
    ("kerberostgtpassing", "", First, Global),
    ("kerberosticketcleanup", "", First, Global),
    ("kerberosusekuserok", "", First, Anywhere),
    ("kexalgorithms", "", First, Global),
    ("keyregenerationinterval", "", First, Global),
    ("listenaddress", "", PerLine, Global),
    ("logingracetime", "", First, Global),
    ("loglevel", "", First, Anywhere),
    ("logverbose", "", First, Anywhere),
    ("macs", "", First, Global),
    ("match", "", Combine::Match, Anywhere),
    ("maxauthtries", "", First, Anywhere),
    ("maxsessions", "", First, Anywhere),
    ("maxstartups", "", Last, Global),
    ("modulifile", "", First, Global),
    ("pamauthenticationviakbdint", "", First, Global),
    ("pamservicename", "", First, Anywhere),
    ("passwordauthentication", "", First, Anywhere),
    ("permitemptypasswords", "", First, Anywhere),
    ("permitlisten", "", First, Anywhere),
    ("permitopen", "", First, Anywhere),
    ("permitrootlogin", "", First, Anywhere),
    ("permittty", "", First, Anywhere),
    ("permittunnel", "", First, Anywhere),
    ("permituserenvironment", "", First, Global),
    ("permituserrc", "", First, Anywhere),
    ("persourcemaxstartups", "", Last, Global),
    ("persourcenetblocksize", "", Last, Global),
    ("persourcepenalties", "", First, Global),
    ("persourcepenaltyexemptlist", "", First, Global),
    ("pidfile", "", First, Global),
    ("port", "", PerLine, Global),
    ("printlastlog", "", First, Global),
    ("printmotd", "", First, Global),
    ("protocol", "", First, Global),
    ("pubkeyacceptedalgorithms", "", First, Anywhere),
    ("pubkeyacceptedkeytypes", "pubkeyacceptedalgorithms", First, Anywhere),
    ("pubkeyauthentication", "", First, Anywhere),
    ("pubkeyauthoptions", "", First, Anywhere),
    ("rdomain", "", First, Anywhere),
    ("refuseconnection", "", First, Anywhere),
    ("rekeylimit", "", First, Anywhere),
    ("requiredrsasize", "", First, Anywhere),
    ("reversemappingcheck", "", First, Global),
    ("revokedkeys", "", First, Anywhere),
    ("rhostsauthentication", "", First, Global),
    ("rhostsrsaauthentication", "", First, Anywhere),
    ("rsaauthentication", "", First, Anywhere),
    ("rsaminsize", "requiredrsasize", First, Anywhere),
    ("securitykeyprovider", "", First, Global),
    ("serverkeybits", "", First, Global),
    ("setenv", "", First, Anywhere),
    ("skeyauthentication", "kbdinteractiveauthentication", First, Anywhere),
    ("sshdauthpath", "", First, Global),
    ("sshdsessionpath", "", First, Global),
    ("streamlocalbindmask", "", Last, Anywhere),
    ("streamlocalbindunlink", "", First, Anywhere),
    ("strictmodes", "", First, Global),
    // Allowed in Match blocks since OpenSSH 9.4; global-only before.
    ("subsystem", "", PerLine, Anywhere),
    ("syslogfacility", "", First, Global),
    ("tcpkeepalive", "", First, Global),
    ("trustedusercakeys", "", First, Anywhere),
    ("unusedconnectiontimeout", "", First, Anywhere),
    ("usedns", "", First, Global),
    ("uselogin", "", First, Global),
    ("usepam", "", First, Global),
    ("useprivilegeseparation", "", First, Global),
    ("verifyreversemapping", "", First, Global),
    ("versionaddendum", "", First, Global),
    ("x11displayoffset", "", First, Anywhere),
    ("x11forwarding", "", First, Anywhere),
    ("x11uselocalhost", "", First, Anywhere),
    ("xauthlocation", "", First, Global),
];

fn lookup_keyword(lower: &str) -> Option<Keyword> {
    static TABLE: OnceLock<HashMap<&'static str, Keyword>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        KEYWORDS
            .iter()
            .map(|&(name, canonical, combine, scope)| {
                let canonical = if canonical.is_empty() { name } else { canonical };
                (name, Keyword { canonical, combine, scope })
            })
            .collect()
    });
    table.get(lower).copied()
}

/// The block state while reading one file.
#[derive(Clone, Copy, Debug)]
struct Context {
    /// The current `Match` block (index into `match_blocks`), or global.
    block: Option<usize>,
    /// True inside files included from a `Match` block that is not active at
    /// startup: sshd checks their `Match` lines for syntax only.
    syntax_only: bool,
}

struct Parser<'a, F: ConfigFiles + ?Sized> {
    files: &'a F,
    config: SshdConfig,
    /// Files being read, outermost first (for include-loop detection).
    open: Vec<String>,
    /// Per match block: whether its lines also set global values (an active `Match all`).
    block_is_global: Vec<bool>,
}

impl<F: ConfigFiles + ?Sized> Parser<'_, F> {
    fn parse_file(&mut self, path: &str, text: &str, depth: usize, context: &mut Context) {
        if !self.config.files.iter().any(|f| f == path) {
            self.config.files.push(path.to_string());
        }
        self.open.push(path.to_string());
        for (index, raw) in text.split('\n').enumerate() {
            let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
            match lex::lex_line(raw) {
                Ok(None) => {}
                Ok(Some(directive)) => self.directive(path, line, directive, depth, context),
                Err(lex::LexError::MissingArgument(keyword)) => self.problem(
                    path,
                    line,
                    format!("no argument after keyword \"{keyword}\"; sshd would refuse to start"),
                ),
                Err(lex::LexError::UnterminatedQuote(keyword)) => self.problem(
                    path,
                    line,
                    format!("unterminated quote in the arguments of \"{keyword}\"; sshd would refuse to start"),
                ),
            }
        }
        self.open.pop();
    }

    fn problem(&mut self, path: &str, line: u32, message: String) {
        self.config.problems.push(Problem::at_line(path, line, message));
    }

    fn directive(&mut self, path: &str, line: u32, directive: lex::Directive, depth: usize, context: &mut Context) {
        let lower = directive.keyword.to_ascii_lowercase();
        let Some(keyword) = lookup_keyword(&lower) else {
            let message = format!("unknown keyword {}; sshd would refuse to start", directive.keyword);
            return self.problem(path, line, message);
        };
        let block_is_global = context.block.is_none_or(|b| self.block_is_global.get(b).copied().unwrap_or(false));
        if keyword.scope == Global && !block_is_global {
            let message =
                format!("{} is not allowed within a Match block; sshd would refuse to start", directive.keyword);
            return self.problem(path, line, message);
        }
        let source = Source::file(path, line);
        match keyword.combine {
            Combine::Include => self.include(path, line, &directive.args, depth, context),
            Combine::Match => {
                let criteria = directive.args.join(" ");
                let is_all = directive.args.len() == 1 && directive.args[0].eq_ignore_ascii_case("all");
                self.config.match_blocks.push(SshdMatchBlock { criteria, source, settings: Settings::new() });
                self.block_is_global.push(is_all && !context.syntax_only);
                context.block = Some(self.config.match_blocks.len() - 1);
            }
            combine => {
                let value = directive.args.join(" ");
                if let Some(block) = context.block.and_then(|b| self.config.match_blocks.get_mut(b)) {
                    let settings = &mut block.settings;
                    match combine {
                        Last => {
                            settings.insert(keyword.canonical.to_string(), Sourced::new(value.clone(), source.clone()));
                        }
                        PerLine | PerArg => match settings.get_mut(keyword.canonical) {
                            Some(existing) => {
                                existing.value.push(' ');
                                existing.value.push_str(&value);
                            }
                            None => {
                                settings
                                    .insert(keyword.canonical.to_string(), Sourced::new(value.clone(), source.clone()));
                            }
                        },
                        _ => {
                            settings
                                .entry(keyword.canonical.to_string())
                                .or_insert_with(|| Sourced::new(value.clone(), source.clone()));
                        }
                    }
                }
                if block_is_global {
                    self.set_global(keyword, value, directive.args, source);
                }
            }
        }
    }

    fn set_global(&mut self, keyword: Keyword, value: String, args: Vec<String>, source: Source) {
        let key = keyword.canonical.to_string();
        match keyword.combine {
            Last => {
                self.config.settings.insert(key, Sourced::new(value, source));
            }
            PerLine => self.config.multi.entry(key).or_default().push(Sourced::new(value, source)),
            PerArg => {
                let entries = self.config.multi.entry(key).or_default();
                entries.extend(args.into_iter().map(|arg| Sourced::new(arg, source.clone())));
            }
            _ => {
                self.config.settings.entry(key).or_insert_with(|| Sourced::new(value, source));
            }
        }
    }

    fn include(&mut self, path: &str, line: u32, patterns: &[String], depth: usize, context: &mut Context) {
        let saved = *context;
        let in_inactive_block = saved.block.is_some_and(|b| !self.block_is_global.get(b).copied().unwrap_or(false));
        for pattern in patterns {
            let absolute = if pattern.starts_with('/') {
                pattern.clone()
            } else if let Some(rest) = pattern.strip_prefix("~/") {
                format!("/root/{rest}")
            } else if pattern.starts_with('~') {
                self.problem(
                    path,
                    line,
                    format!("Include {pattern}: ~user paths are not supported by Warden; not read"),
                );
                continue;
            } else {
                format!("{SSH_DIR}/{pattern}")
            };
            let mut glob_problems = Vec::new();
            let matches = glob::expand(self.files, &absolute, &mut glob_problems);
            for problem in glob_problems {
                self.problem(path, line, format!("Include {pattern}: {problem}"));
            }
            for included in matches {
                if self.open.contains(&included) {
                    let message = format!(
                        "include loop: {included} is already being read ({}); sshd would refuse to start \
                         (too many recursive configuration includes)",
                        self.open.join(" -> ")
                    );
                    self.problem(path, line, message);
                    continue;
                }
                if depth + 1 > MAX_INCLUDE_DEPTH {
                    let message = format!(
                        "Include {included}: nested deeper than {MAX_INCLUDE_DEPTH} levels; sshd would refuse to start"
                    );
                    self.problem(path, line, message);
                    continue;
                }
                match self.files.read_text(&included) {
                    Ok(Some(text)) => {
                        let mut inner =
                            Context { block: saved.block, syntax_only: saved.syntax_only || in_inactive_block };
                        self.parse_file(&included, &text, depth + 1, &mut inner);
                    }
                    // Vanished between listing and reading, or a literal path
                    // that does not exist: glob(3) would not have matched it.
                    Ok(None) => {}
                    Err(problem) => {
                        self.problem(path, line, format!("Include {included}: {}", problem.message));
                    }
                }
            }
        }
        *context = saved;
    }
}

/// An OpenSSH version as numbers: `6.6.1p1` → `[6, 6, 1]`, then the portable
/// release `1`. Unparseable text gives what could be read.
fn version_numbers(version: &str) -> (Vec<u32>, u32) {
    let (release, portable) = match version.split_once('p') {
        Some((release, portable)) => (release, portable),
        None => (version, ""),
    };
    let leading_number = |s: &str| s.chars().take_while(char::is_ascii_digit).collect::<String>().parse::<u32>().ok();
    let numbers = release.split('.').map_while(leading_number).collect();
    (numbers, leading_number(portable).unwrap_or(0))
}

/// Whether `version` is at least `major.minor` (numeric comparison).
pub fn version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let (numbers, _) = version_numbers(version);
    let have = (numbers.first().copied().unwrap_or(0), numbers.get(1).copied().unwrap_or(0));
    have >= (major, minor)
}

/// Finds the version in an sshd binary: the `OpenSSH_X.YpZ` string that ends
/// in NUL or a space. Compatibility patterns such as `OpenSSH_7.4*` or
/// `OpenSSH_2.*,` are also in the binary and are skipped.
pub fn version_from_binary(bytes: &[u8]) -> Option<String> {
    const MARKER: &[u8] = b"OpenSSH_";
    let mut start = 0;
    while let Some(offset) = find(&bytes[start..], MARKER) {
        let at = start + offset + MARKER.len();
        let token: Vec<u8> =
            bytes[at..].iter().copied().take_while(|b| b.is_ascii_alphanumeric() || *b == b'.').take(32).collect();
        let after = bytes.get(at + token.len()).copied();
        let text = String::from_utf8_lossy(&token).into_owned();
        if matches!(after, None | Some(0) | Some(b' ')) && looks_like_version(&text) {
            return Some(text);
        }
        start = at;
    }
    None
}

/// `9.2p1`, `6.6.1p1`, `10.0p2`: digits and dots, then `p` and digits.
fn looks_like_version(text: &str) -> bool {
    let Some((release, portable)) = text.split_once('p') else {
        return false;
    };
    !portable.is_empty()
        && portable.bytes().all(|b| b.is_ascii_digit())
        && release.split('.').count() >= 2
        && release.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(pos) = haystack[from..].iter().position(|&b| b == first) {
        let at = from + pos;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The `openssh-server` version from dpkg's or apk's database.
fn version_from_packages(fs: &RootFs) -> Option<String> {
    if let Ok(Some(status)) = fs.read_text("/var/lib/dpkg/status")
        && let Some(version) = version_from_dpkg_status(&status)
    {
        return Some(version);
    }
    match fs.read_text("/lib/apk/db/installed") {
        Ok(Some(installed)) => version_from_apk_installed(&installed),
        _ => None,
    }
}

/// `Version: 1:9.2p1-2+deb12u3` of an installed `openssh-server` → `9.2p1`.
pub fn version_from_dpkg_status(status: &str) -> Option<String> {
    status.split("\n\n").find_map(|paragraph| {
        let field = |name: &str| {
            paragraph.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')).map(str::trim))
        };
        if field("Package") != Some("openssh-server") || !field("Status").is_some_and(|s| s.ends_with(" installed")) {
            return None;
        }
        let version = field("Version")?;
        let without_epoch = version.split_once(':').map_or(version, |(_, v)| v);
        let upstream = without_epoch.rsplit_once('-').map_or(without_epoch, |(u, _)| u);
        looks_like_version(upstream).then(|| upstream.to_string())
    })
}

/// `P:openssh-server` … `V:9.7_p1-r4` → `9.7p1`.
pub fn version_from_apk_installed(installed: &str) -> Option<String> {
    installed.split("\n\n").find_map(|record| {
        if !record.lines().any(|l| l == "P:openssh-server") {
            return None;
        }
        let version = record.lines().find_map(|l| l.strip_prefix("V:"))?.trim();
        let upstream = version.rsplit_once("-r").map_or(version, |(u, _)| u).replace("_p", "p");
        looks_like_version(&upstream).then_some(upstream)
    })
}

/// OpenSSH defaults that do not depend on the version (for the versions
/// Warden assesses), from servconf.c `fill_default_server_options`.
const FIXED_DEFAULTS: &[(&str, &str, &str)] = &[
    ("addressfamily", "any", ""),
    ("allowagentforwarding", "yes", ""),
    ("allowtcpforwarding", "yes", ""),
    ("banner", "none", ""),
    ("clientalivecountmax", "3", ""),
    ("clientaliveinterval", "0", ""),
    ("disableforwarding", "no", ""),
    ("gatewayports", "no", ""),
    ("gssapiauthentication", "no", ""),
    ("hostbasedauthentication", "no", ""),
    ("ignorerhosts", "yes", ""),
    ("ignoreuserknownhosts", "no", ""),
    (
        "kbdinteractiveauthentication",
        "yes",
        " (since 8.7, where ChallengeResponseAuthentication became its alias; before, \
         ChallengeResponseAuthentication defaulted to yes)",
    ),
    ("logingracetime", "120", ""),
    ("loglevel", "INFO", ""),
    ("maxauthtries", "6", ""),
    ("maxsessions", "10", ""),
    ("maxstartups", "10:30:100", ""),
    ("passwordauthentication", "yes", ""),
    ("permitemptypasswords", "no", ""),
    ("permittunnel", "no", ""),
    ("permituserenvironment", "no", ""),
    ("printmotd", "yes", ""),
    (
        "protocol",
        "2",
        " (protocol 1 off by default since 5.4, compiled out by default from 7.0, server support removed in 7.4; \
         from 7.6 only protocol 2 exists and the keyword is ignored)",
    ),
    ("pubkeyauthentication", "yes", ""),
    ("strictmodes", "yes", ""),
    ("syslogfacility", "AUTH", ""),
    ("tcpkeepalive", "yes", ""),
    ("usepam", "no", " (portable builds; distribution configs usually set UsePAM yes)"),
    ("x11forwarding", "no", ""),
    ("x11uselocalhost", "yes", ""),
];

/// Fills global keywords never set with OpenSSH's defaults for the version.
pub fn fill_defaults(config: &mut SshdConfig) {
    let version = config.version.clone();
    let version_note = |since: (u32, u32)| match &version {
        Some(v) if version_at_least(v, since.0, since.1) => {
            (true, format!("OpenSSH {v} (>= {}.{}) default", since.0, since.1))
        }
        Some(v) => (false, format!("OpenSSH {v} (< {}.{}) default", since.0, since.1)),
        None => (
            true,
            format!("OpenSSH >= {}.{} default (version unknown: the modern default is assumed)", since.0, since.1),
        ),
    };
    let mut defaults: Vec<(&str, String, String)> = FIXED_DEFAULTS
        .iter()
        .map(|&(key, value, extra)| (key, value.to_string(), format!("OpenSSH default{extra}")))
        .collect();
    let (modern, note) = version_note((7, 0));
    let root = if modern { "prohibit-password" } else { "yes" };
    defaults.push(("permitrootlogin", root.to_string(), format!("{note}: prohibit-password since 7.0, yes before")));
    let (modern, note) = version_note((6, 8));
    let dns = if modern { "no" } else { "yes" };
    defaults.push(("usedns", dns.to_string(), format!("{note}: no since 6.8, yes before")));
    for (key, value, note) in defaults {
        config.settings.entry(key.to_string()).or_insert_with(|| Sourced::new(value, Source::default_value(note)));
    }
    config
        .multi
        .entry("port".to_string())
        .or_insert_with(|| vec![Sourced::new("22".to_string(), Source::default_value("OpenSSH default"))]);
}

#[cfg(test)]
mod tests;
