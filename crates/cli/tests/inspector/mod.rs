//! Harness of the Inspector API end-to-end tests: a real `warden serve`
//! (with the Inspector API mounted), real `warden agent` processes, a key
//! from the real `warden apikey create`, and the real AWS CLI / boto3 talking
//! to it with a temporary `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`
//! (what `aws configure` writes). A webhook receiver on loopback stands in
//! for the SNS topic's HTTPS endpoint: it is a real HTTP server, only a
//! minimal one written here because nothing else can listen for Warden's
//! deliveries in a test. Every failure message shows the command, its
//! stderr and the server log.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::fleet::{Fleet, WARDEN, wait_for};

/// The SNS topic ARN scripts subscribe to; the topic map points it at the receiver.
pub const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:warden-e2e";
/// The server's region and account (the defaults of `warden serve`).
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
/// Tag every agent of these tests carries; the resource group selects it.
pub const TAG_KEY: &str = "inspector";

/// One webhook delivery as received: headers (lower-case names) and body.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Delivery {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A loopback HTTP server that answers 200 to every POST and keeps what it got.
pub struct WebhookReceiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Delivery>>>,
}

impl WebhookReceiver {
    pub fn start() -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if let Some(d) = read_request(stream) {
                    sink.lock().unwrap().push(d);
                }
            }
        });
        WebhookReceiver { url, received }
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.received.lock().unwrap().clone()
    }
}

fn read_request(stream: std::net::TcpStream) -> Option<Delivery> {
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok())?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    let mut stream = stream;
    stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").ok()?;
    Some(Delivery { headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// What a CLI or script run gave.
#[derive(Debug)]
pub struct Ran {
    pub shown: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    fn from(shown: String, out: Output) -> Ran {
        Ran {
            shown,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

/// A server with the Inspector API, its agents, an API key and an AWS CLI configuration.
pub struct Inspector {
    pub fleet: Fleet,
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// HOME, config and credentials of the AWS CLI and boto3.
    pub aws_dir: tempfile::TempDir,
    pub hooks: Option<WebhookReceiver>,
    /// The CA of `--init-tls` (HTTPS servers only): `AWS_CA_BUNDLE`.
    pub ca_bundle: Option<PathBuf>,
    /// Keeps the certificates and topic map alive.
    _files: tempfile::TempDir,
}

/// How the server is started.
#[derive(Default)]
pub struct Options {
    /// HTTPS with `warden serve --init-tls` certificates.
    pub tls: bool,
    /// A topic map pointing [`TOPIC_ARN`] at a loopback receiver.
    pub webhook: bool,
    /// More `warden serve` arguments (e.g. `--limit-targets 1`).
    pub serve_args: Vec<String>,
}

impl Inspector {
    pub fn start(options: Options) -> Inspector {
        let files = tempfile::tempdir().unwrap();
        let mut extra: Vec<String> = options.serve_args.clone();
        let hooks = options.webhook.then(WebhookReceiver::start);
        if let Some(h) = &hooks {
            let map = files.path().join("topics.toml");
            let text = format!(
                "[[topic]]\narn = \"{TOPIC_ARN}\"\nurl = \"{}\"\nsecret = \"warden-e2e-webhook-secret\"\n",
                h.url
            );
            std::fs::write(&map, text).unwrap();
            std::fs::set_permissions(&map, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
            extra.extend(["--inspector-topics".to_string(), map.display().to_string()]);
        }
        let mut ca = None;
        if options.tls {
            let certs = files.path().join("tls");
            let out = Command::new(WARDEN).args(["serve", "--init-tls"]).arg(&certs).output().unwrap();
            assert!(out.status.success(), "warden serve --init-tls: {}", String::from_utf8_lossy(&out.stderr));
            extra.extend([
                "--tls-cert".to_string(),
                certs.join("server.pem").display().to_string(),
                "--tls-key".to_string(),
                certs.join("server.key").display().to_string(),
            ]);
            ca = Some(certs.join("ca.pem"));
        }
        let extra_refs: Vec<&str> = extra.iter().map(String::as_str).collect();
        let fleet = Fleet::start_with(&extra_refs, ca.clone());
        let endpoint = fleet.url.clone();
        let aws_dir = tempfile::tempdir().unwrap();
        let mut me = Inspector {
            fleet,
            endpoint,
            access_key_id: String::new(),
            secret_access_key: String::new(),
            aws_dir,
            hooks,
            ca_bundle: ca,
            _files: files,
        };
        let (akid, secret) = me.apikey_create();
        me.access_key_id = akid;
        me.secret_access_key = secret;
        me.configure();
        me
    }

    pub fn db(&self) -> PathBuf {
        self.fleet.dir.path().join("warden.db")
    }

    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.fleet.dir.path().join("server.log")).unwrap_or_default()
    }

    /// `warden apikey create --db <the server's database>`: (access key id, secret).
    pub fn apikey_create(&self) -> (String, String) {
        let out = Command::new(WARDEN)
            .args(["apikey", "create", "--description", "inspector e2e", "--db"])
            .arg(self.db())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "warden apikey create: {}", String::from_utf8_lossy(&out.stderr));
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
                .unwrap_or_else(|| panic!("no {name} in {text}"))
                .to_string()
        };
        (value("AWS_ACCESS_KEY_ID"), value("AWS_SECRET_ACCESS_KEY"))
    }

    /// Writes what `aws configure` would: the default profile with the key,
    /// and profiles with a wrong secret and an unknown key.
    fn configure(&self) {
        let dir = self.aws_dir.path();
        std::fs::write(
            dir.join("config"),
            format!("[default]\nregion = {REGION}\noutput = json\n\n[profile badsecret]\nregion = {REGION}\n\n[profile unknown]\nregion = {REGION}\n"),
        )
        .unwrap();
        std::fs::write(
            dir.join("credentials"),
            format!(
                "[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n\n\
                 [badsecret]\naws_access_key_id = {id}\naws_secret_access_key = {secret}x\n\n\
                 [unknown]\naws_access_key_id = AKIAUNKNOWNUNKNOWN42\naws_secret_access_key = {secret}\n",
                id = self.access_key_id,
                secret = self.secret_access_key
            ),
        )
        .unwrap();
    }

    /// The environment of the AWS CLI and boto3: only what the test gives them.
    pub fn aws_env(&self, cmd: &mut Command) {
        let dir = self.aws_dir.path();
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir)
            .env("AWS_CONFIG_FILE", dir.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_RETRY_MODE", "standard");
        if let Some(ca) = &self.ca_bundle {
            cmd.env("AWS_CA_BUNDLE", ca);
        }
        for var in ["PYENV_ROOT", "PYENV_VERSION", "PYTHONPATH", "LANG", "LC_ALL"] {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
    }

    /// `aws inspector ARGS... --endpoint-url <server>` with the default profile.
    pub fn aws(&self, args: &[&str]) -> Ran {
        self.aws_as(None, args)
    }

    /// `aws inspector` with a profile (`badsecret`, `unknown`) or `--no-sign-request` in `args`.
    pub fn aws_as(&self, profile: Option<&str>, args: &[&str]) -> Ran {
        let mut cmd = Command::new("aws");
        self.aws_env(&mut cmd);
        cmd.arg("inspector").args(args).args(["--endpoint-url", &self.endpoint, "--output", "json"]);
        if let Some(p) = profile {
            cmd.args(["--profile", p]);
        }
        let shown = format!(
            "aws inspector {}{}",
            args.join(" "),
            profile.map(|p| format!(" --profile {p}")).unwrap_or_default()
        );
        Ran::from(shown, cmd.output().expect("the AWS CLI (`aws`) must be installed"))
    }

    /// Panics with the command, its stderr and the server log.
    pub fn fail(&self, what: &str, ran: &Ran) -> ! {
        panic!(
            "{what}\ncommand: {}\nexit code: {:?}\nstdout:\n{}\nstderr:\n{}\n--- server log ---\n{}",
            ran.shown,
            ran.code,
            ran.stdout,
            ran.stderr,
            self.server_log()
        )
    }

    /// Runs `aws inspector ARGS...`, expects success, returns its JSON (`null` for no output).
    pub fn aws_ok(&self, args: &[&str]) -> Value {
        let ran = self.aws(args);
        if !ran.ok() {
            self.fail("the AWS CLI failed", &ran);
        }
        if ran.stdout.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&ran.stdout).unwrap_or_else(|e| self.fail(&format!("output is not JSON: {e}"), &ran))
    }

    /// Runs `aws inspector ARGS...`, expects failure with `error` (e.g.
    /// `NoSuchEntityException`) in the CLI's message and exit code 255.
    pub fn aws_err(&self, profile: Option<&str>, args: &[&str], error: &str) -> Ran {
        let ran = self.aws_as(profile, args);
        if ran.ok() || ran.code != Some(255) || !ran.stderr.contains(&format!("An error occurred ({error})")) {
            self.fail(&format!("expected the CLI to fail (exit 255) with {error}"), &ran);
        }
        ran
    }

    /// Runs a Python script of `tests/inspector/` with the AWS environment;
    /// the endpoint and CA bundle come first in its arguments.
    pub fn python(&self, script: &str, args: &[&str]) -> Ran {
        let path = script_path(script);
        let mut cmd = Command::new("python3");
        self.aws_env(&mut cmd);
        cmd.arg(&path).arg(&self.endpoint).args(args);
        let shown = format!("python3 {} {} {}", path.display(), self.endpoint, args.join(" "));
        Ran::from(shown, cmd.output().expect("python3 with boto3 must be installed"))
    }

    /// Adds a real agent tagged `inspector=<value>` (enrolled through the fleet's own API).
    pub fn add_agent(&mut self, name: &str, value: &str) -> String {
        self.fleet.add_agent(name, &format!("{TAG_KEY}={value}"))
    }

    /// Polls `describe-assessment-runs` until the run is in a final state.
    pub fn wait_run_final(&self, run_arn: &str, limit: Duration) -> Value {
        wait_for(limit, || {
            let v = self.aws_ok(&["describe-assessment-runs", "--assessment-run-arns", run_arn]);
            let run = v["assessmentRuns"][0].clone();
            let state = run["state"].as_str().unwrap_or("").to_string();
            ["COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "ERROR", "CANCELED"]
                .contains(&state.as_str())
                .then_some(run)
        })
    }
}

/// A file of `tests/inspector/`.
pub fn script_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inspector").join(name)
}

/// A string value of a JSON document, or a panic naming what is missing.
pub fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("no {pointer} in {v:#}")).to_string()
}
