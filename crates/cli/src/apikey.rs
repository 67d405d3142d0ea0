//! `warden apikey create|list|revoke`: the SigV4 keys of the Inspector-compatible API.
//!
//! Why it exists: the AWS CLI and SDKs sign requests with an access key id
//! and a secret; `warden serve` checks them against `inspector_api_keys` in
//! the same database file (`--db`). The secret is shown once, at creation,
//! and stored sealed under the master key file beside the database.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use warden_inspector::credentials::{MasterKey, SqliteCredentialStore};

/// `warden apikey` arguments.
#[derive(Args)]
pub struct ApikeyArgs {
    #[command(subcommand)]
    command: ApikeyCommand,
    /// The server database (the file `warden serve --db` uses).
    #[arg(long, global = true, default_value = "/var/lib/warden/warden.db")]
    db: PathBuf,
    /// The master key file that seals secrets (default: `inspector-master.key` beside the database; created 0600).
    #[arg(long, global = true)]
    master_key: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key and print it once as AWS_* environment lines.
    Create {
        /// Session credentials valid for this long (`900s`, `15m`, `12h`, `7d`; 1 min to 7 days):
        /// an `ASIA` key plus AWS_SESSION_TOKEN, refused after expiry.
        #[arg(long, value_parser = parse_duration)]
        session_duration: Option<i64>,
        /// A note shown by `list` (who or what uses the key).
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key: requests signed with it are refused from now on.
    Revoke {
        /// The access key id.
        access_key_id: String,
    },
}

/// Parses `N`, `Ns`, `Nm`, `Nh`, `Nd` into seconds, 60 s to 7 days.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, "s"),
    };
    let n: i64 = digits.parse().map_err(|_| format!("{s:?}: expected a number followed by s, m, h or d"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use s, m, h or d)")),
    };
    let secs = n.checked_mul(scale).ok_or_else(|| format!("{s:?}: too long"))?;
    if !(60..=7 * 86_400).contains(&secs) {
        return Err(format!("{s:?}: a session must last from 1 minute to 7 days"));
    }
    Ok(secs)
}

fn when(secs: Option<i64>) -> String {
    secs.map(warden_collect::time::rfc3339).unwrap_or_else(|| "-".into())
}

/// Runs the subcommand.
pub fn run(args: ApikeyArgs) -> Result<(), String> {
    let key_path = args.master_key.unwrap_or_else(|| MasterKey::default_path(&args.db));
    let store = SqliteCredentialStore::open(&args.db, &key_path)?;
    let now = warden_inspector::timestamp::unix_now();
    match args.command {
        ApikeyCommand::Create { session_duration, description } => {
            let key = store.create(session_duration, &description, now)?;
            println!("AWS_ACCESS_KEY_ID={}", key.access_key_id);
            println!("AWS_SECRET_ACCESS_KEY={}", key.secret_access_key);
            if let Some(token) = &key.session_token {
                println!("AWS_SESSION_TOKEN={token}");
            }
            if let Some(t) = key.expires_at {
                println!("# expires {}", when(Some(t)));
            }
            eprintln!("warden: the secret is shown only now; it is stored sealed in {}", args.db.display());
        }
        ApikeyCommand::List => {
            println!("{:<22} {:<20} {:<20} {:<8} DESCRIPTION", "ACCESS KEY ID", "CREATED", "EXPIRES", "STATE");
            for k in store.list()? {
                let state = match (k.revoked_at, k.expires_at) {
                    (Some(_), _) => "revoked",
                    (None, Some(t)) if t <= now => "expired",
                    _ => "active",
                };
                println!(
                    "{:<22} {:<20} {:<20} {:<8} {}",
                    k.access_key_id,
                    when(Some(k.created_at)),
                    when(k.expires_at),
                    state,
                    k.description
                );
            }
        }
        ApikeyCommand::Revoke { access_key_id } => {
            if !store.revoke(&access_key_id, now)? {
                return Err(format!("no active key {access_key_id} in {}", args.db.display()));
            }
            eprintln!("warden: revoked {access_key_id}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("900"), Ok(900));
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        for bad in ["", "h", "8d", "30s", "1w", "-5m", "99999999999999999999d", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,24}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn minutes_round_trip(m in 1i64..=10_080) {
            proptest::prop_assert_eq!(parse_duration(&format!("{m}m")), Ok(m * 60));
        }
    }
}
