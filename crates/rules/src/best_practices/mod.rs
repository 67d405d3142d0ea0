//! The Security Best Practices package: Amazon Inspector Classic's nine
//! Linux rules, with exact, documented semantics.
//!
//! Why it exists: these are the checks Inspector users relied on; Warden keeps
//! their titles and severities (`shared/spec/inspector-classic.md` §8.6) and
//! states precisely what passes, citing file and line for every failure. The
//! semantics of each rule are in its `description`, which reports show, and in
//! `docs/rules/best-practices.md`.

mod dirs;
mod kernel;
mod password;
mod ssh;

use crate::{Package, Rule};

/// Package name as Inspector returned it from `DescribeRulesPackages`.
pub const PACKAGE_NAME: &str = "Security Best Practices";

/// The package, rules in Inspector's order.
pub const PACKAGE: Package = Package {
    name: PACKAGE_NAME,
    id: "best-practices",
    rules: &[
        Rule { meta: ssh::ROOT_LOGIN, check: ssh::root_login },
        Rule { meta: ssh::PROTOCOL_2, check: ssh::protocol_2 },
        Rule { meta: ssh::PASSWORD_AUTH, check: ssh::password_auth },
        Rule { meta: password::MAX_AGE, check: password::max_age },
        Rule { meta: password::MIN_LENGTH, check: password::min_length },
        Rule { meta: password::COMPLEXITY, check: password::complexity },
        Rule { meta: kernel::ASLR, check: kernel::aslr },
        Rule { meta: kernel::DEP, check: kernel::dep },
        Rule { meta: dirs::SYSTEM_DIRS, check: dirs::system_dirs },
    ],
};

#[cfg(test)]
pub(crate) mod testing;
