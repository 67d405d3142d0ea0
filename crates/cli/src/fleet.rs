//! The fleet commands: `warden serve`, `warden agent`, and the operators'
//! commands (`token`, `apitoken`, `agents`, `target`, `template`, `run`,
//! `findings`) that call the server's JSON API.
//!
//! Why here and thin: the server, agent and store are library crates; this
//! module only parses arguments, finds defaults (database path, admin token
//! file) and prints answers (text, or the API's JSON with `--json`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::fleet_client::Client;

/// Default database directory (`WARDEN_DATA_DIR` overrides it).
pub const DEFAULT_DATA_DIR: &str = "/var/lib/warden";
/// Default listen address and the matching server URL.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7443";

/// The fleet subcommands (flattened into `warden`'s own).
#[derive(Subcommand)]
pub enum FleetCommand {
    /// Run the fleet server.
    Serve(ServeArgs),
    /// Run an agent on this host (enrolls once with --enroll-token).
    Agent(AgentArgs),
    /// Enroll tokens for agents.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// API tokens for operators.
    Apitoken {
        #[command(subcommand)]
        command: ApiTokenCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Enrolled agents.
    Agents {
        #[command(subcommand)]
        command: AgentsCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Assessment targets (which agents a run covers).
    Target {
        #[command(subcommand)]
        command: TargetCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Assessment templates (target, packages, duration; immutable).
    Template {
        #[command(subcommand)]
        command: TemplateCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Assessment runs.
    Run {
        #[command(subcommand)]
        command: RunCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Findings of runs.
    Findings {
        /// Only this run's.
        #[arg(long)]
        run: Option<String>,
        /// Only this agent's.
        #[arg(long)]
        agent: Option<String>,
        /// Only this severity.
        #[arg(long)]
        severity: Option<String>,
        /// Only this package (best-practices, cve, cis, runtime, network-reachability).
        #[arg(long)]
        package: Option<String>,
        /// Only this rule id.
        #[arg(long)]
        rule: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `warden serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// The database: a path or `sqlite://PATH` (default: $WARDEN_DATA_DIR/warden.db, else /var/lib/warden/warden.db).
    #[arg(long)]
    db: Option<String>,
    /// Server certificate chain (PEM); serve HTTPS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Make a CA and a server certificate in DIR (ca.pem, server.pem, server.key), then exit.
    #[arg(long, value_name = "DIR")]
    init_tls: Option<PathBuf>,
    /// With --init-tls: extra DNS names or IP addresses for the server certificate (repeatable).
    #[arg(long = "tls-name")]
    tls_names: Vec<String>,
    /// Vulnerability database for the CVE package (`warden db` format).
    #[arg(long)]
    vulndb: Option<PathBuf>,
    /// Network Reachability package: a folder of `aws ec2/elbv2 describe-*`
    /// JSON outputs (as `warden net load` reads), read again at each run's
    /// evaluation, so refreshing the folder needs no restart.
    #[arg(long, value_name = "DIR")]
    aws: Option<PathBuf>,
    /// Heartbeat interval told to agents, seconds.
    #[arg(long, default_value_t = 30)]
    heartbeat_seconds: u64,
    /// How long a run waits for agents to report after collection ends, seconds.
    #[arg(long, default_value_t = 120)]
    stop_grace_seconds: u64,
    /// Inspector API: the region of every ARN and the only SigV4 scope region accepted.
    #[arg(long, default_value = warden_server::inspector_mount::DEFAULT_REGION)]
    region: String,
    /// Inspector API: the 12-digit account id of every ARN (default: AWS's documentation example account).
    #[arg(long, default_value = warden_server::inspector_mount::DEFAULT_ACCOUNT)]
    account: String,
    /// Inspector API: the external base URL of report links (default: the address listened on).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Inspector API: the event topic map (TOML, mode 0600): SNS topic ARNs to webhook URLs and keys.
    #[arg(long, value_name = "FILE")]
    inspector_topics: Option<PathBuf>,
    /// Most assessment targets (Inspector's limit; LimitExceededException / HTTP 409 beyond it).
    #[arg(long, value_name = "N", default_value_t = warden_store::DEFAULT_TARGET_LIMIT, value_parser = positive)]
    limit_targets: u64,
    /// Most assessment templates (Inspector's limit).
    #[arg(long, value_name = "N", default_value_t = warden_store::DEFAULT_TEMPLATE_LIMIT, value_parser = positive)]
    limit_templates: u64,
    /// Most existing assessment runs, in any state (Inspector's limit).
    #[arg(long, value_name = "N", default_value_t = warden_store::DEFAULT_RUN_LIMIT, value_parser = positive)]
    limit_runs: u64,
    /// Most distinct agents in assessment runs that have not ended (Inspector's limit).
    #[arg(long, value_name = "N", default_value_t = warden_store::DEFAULT_AGENTS_IN_RUNS_LIMIT, value_parser = positive)]
    limit_agents_in_runs: u64,
    /// Most resource groups (AWS documents no number; Warden's default).
    #[arg(long, value_name = "N", default_value_t = warden_store::DEFAULT_RESOURCE_GROUP_LIMIT, value_parser = positive)]
    limit_resource_groups: u64,
    /// Most event subscriptions (AWS documents no number; Warden's default).
    #[arg(long, value_name = "N", default_value_t = warden_inspector::events::DEFAULT_SUBSCRIPTION_LIMIT, value_parser = positive)]
    limit_subscriptions: u64,
}

/// A limit of at least 1 (0 would forbid creating anything at all).
fn positive(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{text:?}: expected a whole number of at least 1")),
    }
}

/// `warden agent`.
#[derive(Args)]
pub struct AgentArgs {
    /// Server URL, e.g. https://warden.example:7443.
    #[arg(long, env = "WARDEN_SERVER")]
    server: String,
    /// One-time enroll token (`warden token create`); needed only for the first start.
    #[arg(long, env = "WARDEN_ENROLL_TOKEN")]
    enroll_token: Option<String>,
    /// Tags, `k=v,k2=v2`: what targets select on.
    #[arg(long, value_parser = parse_tags)]
    tags: Option<BTreeMap<String, String>>,
    /// Trust only this CA (PEM) for the server's certificate.
    #[arg(long, env = "WARDEN_CA")]
    ca: Option<PathBuf>,
    /// Credentials, run state and the telemetry spool.
    #[arg(long, default_value = "/var/lib/warden/agent", env = "WARDEN_AGENT_DIR")]
    state_dir: PathBuf,
    /// Largest telemetry spool while the server is unreachable, MiB.
    #[arg(long, default_value_t = 256)]
    spool_max_mib: u64,
}

/// How the operators' commands reach the server.
#[derive(Args, Clone)]
pub struct ClientArgs {
    /// Server URL.
    #[arg(long, env = "WARDEN_SERVER", default_value = "http://127.0.0.1:7443", global = true)]
    pub(crate) server: String,
    /// API token (default: the admin.token file in the data directory, when readable).
    #[arg(long, env = "WARDEN_TOKEN", global = true, hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Trust only this CA (PEM).
    #[arg(long, env = "WARDEN_CA", global = true)]
    pub(crate) ca: Option<PathBuf>,
    /// Print the API's JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

/// `warden token`.
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make an enroll token (printed once; stored only as a hash).
    Create {
        /// How many agents may enroll with it.
        #[arg(long, default_value_t = 1)]
        uses: u32,
        /// Lifetime, e.g. 1h, 7d (default: none).
        #[arg(long, value_parser = parse_duration)]
        expires: Option<u64>,
    },
    /// List enroll tokens (never the tokens themselves).
    List,
}

/// `warden apitoken`.
#[derive(Subcommand)]
pub enum ApiTokenCommand {
    /// Make an API token (printed once; stored only as a hash).
    Create {
        /// What it is for.
        #[arg(long)]
        name: String,
    },
}

/// `warden agents`.
#[derive(Subcommand)]
pub enum AgentsCommand {
    /// Every agent with its health.
    List,
    /// One agent.
    Show {
        /// Agent id.
        id: String,
    },
    /// Retire an agent: its credentials stop working.
    Retire {
        /// Agent id.
        id: String,
    },
}

/// `warden target`.
#[derive(Subcommand)]
pub enum TargetCommand {
    /// Make a target selecting agents by tag pairs and/or ids (none: every agent).
    Create {
        /// Name.
        name: String,
        /// `key=value` or `key` (any value); an agent matching any pair is selected. Repeatable.
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// An agent id to select. Repeatable.
        #[arg(long = "agent")]
        agents: Vec<String>,
    },
    /// Every target.
    List,
    /// One target, with the agents it selects now.
    Show {
        /// Target id.
        id: String,
    },
    /// Delete a target with its templates, runs and findings.
    Delete {
        /// Target id.
        id: String,
    },
    /// Upload the target's AWS network data (every *.json under DIR, replacing an earlier
    /// upload): its runs' Network Reachability uses it instead of the server's `--aws DIR`.
    #[command(name = "network-load")]
    NetworkLoad {
        /// Target id.
        id: String,
        /// Folder of `aws ec2/elbv2 describe-*` JSON (the `warden net load` format).
        #[arg(long = "aws", value_name = "DIR")]
        aws: PathBuf,
    },
    /// What network data is uploaded for the target (404 when none).
    #[command(name = "network-show")]
    NetworkShow {
        /// Target id.
        id: String,
    },
    /// Remove the target's uploaded network data (runs fall back to the server's `--aws DIR`).
    #[command(name = "network-clear")]
    NetworkClear {
        /// Target id.
        id: String,
    },
}

/// `warden template`.
#[derive(Subcommand)]
pub enum TemplateCommand {
    /// Make a template (immutable once made).
    Create {
        /// Target id.
        #[arg(long)]
        target: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Collection time: 20s, 15m, 1h, 8h, 12h, 24h...
        #[arg(long, value_parser = parse_duration)]
        duration: u64,
        /// Rules packages (repeatable; default best-practices): best-practices, cve, cis, runtime, network-reachability.
        #[arg(long = "package")]
        packages: Vec<String>,
        /// `key=value` added to every finding (repeatable, at most 10).
        #[arg(long = "attribute")]
        attributes: Vec<String>,
        /// Runtime sampling interval (default 10s).
        #[arg(long, value_parser = parse_duration)]
        interval: Option<u64>,
    },
    /// Templates (of one target with --target).
    List {
        /// Target id.
        #[arg(long)]
        target: Option<String>,
    },
    /// One template.
    Show {
        /// Template id.
        id: String,
    },
    /// Delete a template with its runs and findings.
    Delete {
        /// Template id.
        id: String,
    },
}

/// `warden run`.
#[derive(Subcommand)]
pub enum RunCommand {
    /// Start a run of a template.
    Start {
        /// Template id.
        template: String,
        /// Run name (default "Run N for TEMPLATE").
        #[arg(long)]
        name: Option<String>,
    },
    /// Runs (of one template with --template), newest first.
    List {
        /// Template id.
        #[arg(long)]
        template: Option<String>,
    },
    /// One run: states with times, agents, finding counts, exclusions.
    Show {
        /// Run id.
        id: String,
    },
    /// Stop collecting and evaluate what was collected (or, with --cancel, cancel).
    Stop {
        /// Run id.
        id: String,
        /// Cancel without evaluating (state CANCELED).
        #[arg(long)]
        cancel: bool,
    },
    /// Wait until the run ends; print its final state.
    Wait {
        /// Run id.
        id: String,
        /// Give up after this long (exit 2).
        #[arg(long, value_parser = parse_duration, default_value = "1d")]
        timeout: u64,
    },
    /// Delete an ended run and its findings.
    Delete {
        /// Run id.
        id: String,
    },
}

/// `k=v,k2=v2`.
pub fn parse_tags(s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for pair in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair.split_once('=').ok_or_else(|| format!("tag {pair:?}: expected key=value"))?;
        let k = k.trim();
        if k.is_empty() {
            return Err(format!("tag {pair:?}: empty key"));
        }
        out.insert(k.to_string(), v.trim().to_string());
    }
    Ok(out)
}

/// `90`, `90s`, `15m`, `1h`, `2d` → seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("duration {s:?}: expected e.g. 20s, 15m, 1h, 2d"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("duration {s:?}: unit must be s, m, h or d")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("duration {s:?} is too long"))
}

/// `key=value` or `key` as an attribute object.
fn attribute(s: &str) -> Value {
    match s.split_once('=') {
        Some((k, v)) => json!({"key": k, "value": v}),
        None => json!({"key": s}),
    }
}

/// The database path from `--db` / `WARDEN_DATA_DIR`.
pub fn db_path(db: Option<&str>) -> Result<PathBuf, String> {
    match db {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Err("PostgreSQL is not supported yet: use a SQLite path".into())
        }
        Some(url) => Ok(PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url))),
        None => Ok(data_dir().join("warden.db")),
    }
}

pub(crate) fn data_dir() -> PathBuf {
    std::env::var_os("WARDEN_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| DEFAULT_DATA_DIR.into())
}

/// Runs a fleet command.
pub fn run(command: FleetCommand) -> Result<ExitCode, String> {
    match command {
        FleetCommand::Serve(args) => serve(args),
        FleetCommand::Agent(args) => {
            warden_agent::run(warden_agent::AgentConfig {
                server: args.server,
                enroll_token: args.enroll_token,
                tags: args.tags.unwrap_or_default(),
                ca: args.ca,
                state_dir: args.state_dir,
                spool_max_bytes: args.spool_max_mib.saturating_mul(1024 * 1024),
            })?;
            Ok(ExitCode::SUCCESS)
        }
        FleetCommand::Token { command, client } => {
            let c = Client::new(&client)?;
            match command {
                TokenCommand::Create { uses, expires } => {
                    let v = c.call(
                        "POST",
                        "/v1/enroll-tokens",
                        Some(json!({"uses": uses, "expires_in_seconds": expires})),
                    )?;
                    c.print(&v, |v| println!("{}", v["token"].as_str().unwrap_or_default()));
                }
                TokenCommand::List => {
                    let v = c.call("GET", "/v1/enroll-tokens", None)?;
                    c.print(&v, |v| {
                        for t in v.as_array().into_iter().flatten() {
                            println!(
                                "{}  uses {} left {}  expires {}",
                                t["id"].as_str().unwrap_or(""),
                                t["uses"],
                                t["uses_left"],
                                t["expires_at"]
                            );
                        }
                    });
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FleetCommand::Apitoken { command: ApiTokenCommand::Create { name }, client } => {
            let c = Client::new(&client)?;
            let v = c.call("POST", "/v1/api-tokens", Some(json!({"name": name})))?;
            c.print(&v, |v| println!("{}", v["token"].as_str().unwrap_or_default()));
            Ok(ExitCode::SUCCESS)
        }
        FleetCommand::Agents { command, client } => {
            let c = Client::new(&client)?;
            match command {
                AgentsCommand::List => {
                    let v = c.call("GET", "/v1/agents", None)?;
                    c.print(&v, |v| {
                        for a in v.as_array().into_iter().flatten() {
                            println!(
                                "{}  {:<9} {:<9}  {:<20}  {}",
                                a["id"].as_str().unwrap_or(""),
                                a["health"].as_str().unwrap_or(""),
                                a["health_code"].as_str().unwrap_or(""),
                                a["host"]["hostname"].as_str().unwrap_or("-"),
                                tags_text(&a["tags"])
                            );
                        }
                    });
                }
                AgentsCommand::Show { id } => c.pretty(&c.call("GET", &format!("/v1/agents/{}", seg(&id)?), None)?),
                AgentsCommand::Retire { id } => {
                    c.pretty(&c.call("POST", &format!("/v1/agents/{}/retire", seg(&id)?), None)?)
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FleetCommand::Target { command, client } => {
            let c = Client::new(&client)?;
            match command {
                TargetCommand::Create { name, tags, agents } => {
                    let tags: Vec<Value> = tags.iter().map(|t| attribute(t)).collect();
                    let v =
                        c.call("POST", "/v1/targets", Some(json!({"name": name, "tags": tags, "agent_ids": agents})))?;
                    c.print(&v, |v| println!("{}", v["id"].as_str().unwrap_or_default()));
                }
                TargetCommand::List => {
                    let v = c.call("GET", "/v1/targets", None)?;
                    c.print(&v, |v| {
                        for t in v.as_array().into_iter().flatten() {
                            let n = t["selected_agents"].as_array().map_or(0, |a| a.len());
                            println!(
                                "{}  {:<24} {n} agents",
                                t["id"].as_str().unwrap_or(""),
                                t["name"].as_str().unwrap_or("")
                            );
                        }
                    });
                }
                TargetCommand::Show { id } => c.pretty(&c.call("GET", &format!("/v1/targets/{}", seg(&id)?), None)?),
                TargetCommand::Delete { id } => {
                    c.call("DELETE", &format!("/v1/targets/{}", seg(&id)?), None)?;
                }
                TargetCommand::NetworkLoad { id, aws } => crate::fleet_network::load(&c, &id, &aws)?,
                TargetCommand::NetworkShow { id } => crate::fleet_network::show(&c, &id)?,
                TargetCommand::NetworkClear { id } => crate::fleet_network::clear(&c, &id)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        FleetCommand::Template { command, client } => {
            let c = Client::new(&client)?;
            match command {
                TemplateCommand::Create { target, name, duration, packages, attributes, interval } => {
                    let packages = if packages.is_empty() { vec!["best-practices".to_string()] } else { packages };
                    let attrs: Vec<Value> = attributes.iter().map(|a| attribute(a)).collect();
                    let body = json!({"target_id": target, "name": name, "duration_seconds": duration,
                        "packages": packages, "user_attributes": attrs, "sampling_interval_seconds": interval});
                    let v = c.call("POST", "/v1/templates", Some(body))?;
                    c.print(&v, |v| println!("{}", v["id"].as_str().unwrap_or_default()));
                }
                TemplateCommand::List { target } => {
                    let q = target.map(|t| format!("?target_id={}", seg(&t).unwrap_or_default())).unwrap_or_default();
                    let v = c.call("GET", &format!("/v1/templates{q}"), None)?;
                    c.print(&v, |v| {
                        for t in v.as_array().into_iter().flatten() {
                            println!(
                                "{}  {:<24} {:>6} s  {}",
                                t["id"].as_str().unwrap_or(""),
                                t["name"].as_str().unwrap_or(""),
                                t["duration_seconds"],
                                t["packages"]
                                    .as_array()
                                    .map(|p| p.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(","))
                                    .unwrap_or_default()
                            );
                        }
                    });
                }
                TemplateCommand::Show { id } => {
                    c.pretty(&c.call("GET", &format!("/v1/templates/{}", seg(&id)?), None)?)
                }
                TemplateCommand::Delete { id } => {
                    c.call("DELETE", &format!("/v1/templates/{}", seg(&id)?), None)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FleetCommand::Run { command, client } => run_command(command, &Client::new(&client)?),
        FleetCommand::Findings { run, agent, severity, package, rule, client } => {
            let c = Client::new(&client)?;
            let mut q = Vec::new();
            for (k, v) in
                [("run_id", run), ("agent_id", agent), ("severity", severity), ("package", package), ("rule_id", rule)]
            {
                if let Some(v) = v {
                    q.push(format!("{k}={}", seg(&v)?));
                }
            }
            let v = c.call("GET", &format!("/v1/findings?{}", q.join("&")), None)?;
            c.print(&v, |v| {
                for f in v.as_array().into_iter().flatten() {
                    println!(
                        "{:<13} {:<20} {:<15} {:<30} {}",
                        f["severity"].as_str().unwrap_or(""),
                        f["asset"]["hostname"].as_str().or(f["agent_id"].as_str()).unwrap_or(""),
                        f["package"].as_str().unwrap_or(""),
                        f["rule_id"].as_str().unwrap_or(""),
                        f["title"].as_str().unwrap_or("")
                    );
                }
            });
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_command(command: RunCommand, c: &Client) -> Result<ExitCode, String> {
    match command {
        RunCommand::Start { template, name } => {
            let v = c.call("POST", "/v1/runs", Some(json!({"template_id": template, "name": name})))?;
            c.print(&v, |v| println!("{}", v["id"].as_str().unwrap_or_default()));
        }
        RunCommand::List { template } => {
            let q = template.map(|t| format!("?template_id={}", seg(&t).unwrap_or_default())).unwrap_or_default();
            let v = c.call("GET", &format!("/v1/runs{q}"), None)?;
            c.print(&v, |v| {
                for r in v.as_array().into_iter().flatten() {
                    println!(
                        "{}  {:<32} {}",
                        r["id"].as_str().unwrap_or(""),
                        r["state"].as_str().unwrap_or(""),
                        r["name"].as_str().unwrap_or("")
                    );
                }
            });
        }
        RunCommand::Show { id } => c.pretty(&c.call("GET", &format!("/v1/runs/{}", seg(&id)?), None)?),
        RunCommand::Stop { id, cancel } => {
            let action = if cancel { "SKIP_EVALUATION" } else { "START_EVALUATION" };
            let v = c.call("POST", &format!("/v1/runs/{}/stop", seg(&id)?), Some(json!({"action": action})))?;
            c.print(&v, |v| println!("{}", v["state"].as_str().unwrap_or_default()));
        }
        RunCommand::Wait { id, timeout } => {
            let deadline = Instant::now() + Duration::from_secs(timeout);
            loop {
                let v = c.call("GET", &format!("/v1/runs/{}", seg(&id)?), None)?;
                let state = v["state"].as_str().unwrap_or_default().to_string();
                let terminal =
                    ["FAILED", "ERROR", "COMPLETED", "COMPLETED_WITH_ERRORS", "CANCELED"].contains(&state.as_str());
                if terminal {
                    c.print(&v, |_| println!("{state}"));
                    return Ok(ExitCode::SUCCESS);
                }
                if Instant::now() >= deadline {
                    return Err(format!("run {id} is still {state} after the timeout"));
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        RunCommand::Delete { id } => {
            c.call("DELETE", &format!("/v1/runs/{}", seg(&id)?), None)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An id as one URL path segment: only the characters ids have.
pub(crate) fn seg(id: &str) -> Result<String, String> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        Ok(id.to_string())
    } else {
        Err(format!("{id:?} is not an id"))
    }
}

fn tags_text(tags: &Value) -> String {
    tags.as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect::<Vec<_>>().join(","))
        .unwrap_or_default()
}

fn serve(args: ServeArgs) -> Result<ExitCode, String> {
    if let Some(dir) = &args.init_tls {
        let files = warden_server::tls::init(dir, &args.tls_names)?;
        println!("CA certificate (give to agents: --ca): {}", files.ca_cert.display());
        println!("server certificate: {}", files.cert.display());
        println!("server key:         {}", files.key.display());
        println!("serve with: warden serve --tls-cert {} --tls-key {}", files.cert.display(), files.key.display());
        return Ok(ExitCode::SUCCESS);
    }
    let db = db_path(args.db.as_deref())?;
    let mut config = warden_server::ServerConfig::new(args.listen, db);
    if args.db.is_none() {
        config.data_dir = data_dir();
    }
    config.tls = args.tls_cert.zip(args.tls_key);
    config.vulndb = args.vulndb;
    if let Some(dir) = &args.aws {
        // Checked now so a wrong path fails at start, not at the first run's evaluation.
        let analysis = warden_netreach::hosts::Analysis::load(dir).map_err(|e| format!("--aws: {e}"))?;
        eprintln!(
            "warden serve: --aws {}: {} instances, {} network interfaces, {} load warnings (read again at each run's evaluation)",
            dir.display(),
            analysis.network.instances.len(),
            analysis.network.interfaces.len(),
            analysis.warnings.len()
        );
    }
    config.aws = args.aws;
    config.heartbeat_seconds = args.heartbeat_seconds.max(1);
    config.stop_grace_seconds = args.stop_grace_seconds;
    config.inspector = warden_server::inspector_mount::InspectorConfig {
        region: args.region,
        account: args.account,
        public_url: args.public_url,
        topics: args.inspector_topics,
        master_key: None,
        subscription_limit: args.limit_subscriptions,
    };
    config.limits = warden_store::Limits {
        targets: args.limit_targets,
        templates: args.limit_templates,
        runs: args.limit_runs,
        agents_in_runs: args.limit_agents_in_runs,
        resource_groups: args.limit_resource_groups,
    };
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let state = warden_server::prepare(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(warden_server::serve(state, |addr| {
        // Tests and scripts read this line to learn the port.
        println!("warden serve: listening on {scheme}://{addr}");
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_and_tags_parse() {
        assert_eq!(parse_duration("20s").unwrap(), 20);
        assert_eq!(parse_duration("15m").unwrap(), 900);
        assert_eq!(parse_duration("24h").unwrap(), 86_400);
        assert_eq!(parse_duration("90").unwrap(), 90);
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("h").is_err());
        let tags = parse_tags("role=web, env=prod").unwrap();
        assert_eq!(tags.get("env").map(String::as_str), Some("prod"));
        assert!(parse_tags("role").is_err());
        assert!(parse_tags("=x").is_err());
    }

    #[test]
    fn database_urls() {
        assert_eq!(db_path(Some("sqlite:///tmp/w.db")).unwrap(), PathBuf::from("/tmp/w.db"));
        assert!(db_path(Some("postgres://localhost/test")).is_err());
        assert!(seg("../x").is_err());
    }

    proptest! {
        #[test]
        fn argument_parsers_never_panic(s in ".{0,40}") {
            let _ = parse_duration(&s);
            let _ = parse_tags(&s);
        }
    }
}
