//! Test harness for the fleet end-to-end tests: a real `warden serve` and
//! real `warden agent` processes on loopback, each in its own temporary
//! directory, killed when the harness is dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const WARDEN: &str = env!("CARGO_BIN_EXE_warden");

/// A server and its agents.
pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub port: u16,
    pub token: String,
    pub server: Option<Child>,
    pub agents: Vec<(String, Child)>,
    pub ca: Option<PathBuf>,
    http: ureq::Agent,
    extra_server_args: Vec<String>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for (_, a) in &mut self.agents {
            let _ = a.kill();
            let _ = a.wait();
        }
        if let Some(s) = &mut self.server {
            let _ = s.kill();
            let _ = s.wait();
        }
    }
}

fn start_server(dir: &Path, listen: &str, extra: &[String]) -> (Child, String) {
    let mut child = Command::new(WARDEN)
        .args(["serve", "--listen", listen, "--heartbeat-seconds", "1", "--stop-grace-seconds", "30"])
        .args(extra)
        .env("WARDEN_DATA_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(dir.join("server.log")).unwrap()))
        .spawn()
        .expect("warden serve starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("warden serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected server output {line:?}"));
    (child, url.to_string())
}

impl Fleet {
    /// A plain-HTTP server on a free loopback port.
    pub fn start() -> Fleet {
        Self::start_with(&[], None)
    }

    /// A server with extra arguments, trusting `ca` when given.
    pub fn start_with(extra: &[&str], ca: Option<PathBuf>) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (server, url) = start_server(dir.path(), "127.0.0.1:0", &extra);
        let port = url.rsplit(':').next().unwrap().parse().unwrap();
        let token = std::fs::read_to_string(dir.path().join("admin.token")).unwrap().trim().to_string();
        let http = warden_agent::http::client(ca.as_deref(), Duration::from_secs(60)).unwrap();
        Fleet { dir, url, port, token, server: Some(server), agents: vec![], ca, http, extra_server_args: extra }
    }

    /// Kills the server with SIGKILL.
    pub fn kill_server(&mut self) {
        let mut s = self.server.take().unwrap();
        s.kill().unwrap();
        s.wait().unwrap();
    }

    /// Starts the server again on the same port and database.
    pub fn restart_server(&mut self) {
        let listen = format!("127.0.0.1:{}", self.port);
        let (child, _) = start_server(self.dir.path(), &listen, &self.extra_server_args);
        self.server = Some(child);
    }

    /// Calls the admin API; returns (status, JSON).
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| serde_json::to_vec(&b).unwrap());
        let headers = [("authorization", format!("Bearer {}", self.token))];
        let r = warden_agent::http::send(&self.http, method, &format!("{}{path}", self.url), &headers, body.as_deref())
            .unwrap();
        (r.status, serde_json::from_slice(&r.body).unwrap_or(Value::Null))
    }

    /// Calls the admin API and expects 2xx.
    pub fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.api(method, path, body);
        assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
        v
    }

    /// Raw request (no auth unless given).
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> warden_agent::http::Response {
        warden_agent::http::send(&self.http, method, &format!("{}{path}", self.url), headers, body).unwrap()
    }

    pub fn enroll_token(&self, uses: u32) -> String {
        self.ok("POST", "/v1/enroll-tokens", Some(json!({"uses": uses})))["token"].as_str().unwrap().to_string()
    }

    /// Starts a real agent with tags; waits until it is enrolled and healthy; returns its id.
    pub fn add_agent(&mut self, name: &str, tags: &str) -> String {
        let token = self.enroll_token(1);
        let state = self.dir.path().join(name);
        let mut cmd = Command::new(WARDEN);
        cmd.args(["agent", "--server", &self.url, "--enroll-token", &token, "--tags", tags])
            .arg("--state-dir")
            .arg(&state)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap()));
        if let Some(ca) = &self.ca {
            cmd.arg("--ca").arg(ca);
        }
        let child = cmd.spawn().unwrap();
        let creds = state.join("credentials.json");
        let id = wait_for(Duration::from_secs(60), || {
            let text = std::fs::read_to_string(&creds).ok()?;
            Some(serde_json::from_str::<Value>(&text).ok()?["agent_id"].as_str()?.to_string())
        });
        self.agents.push((id.clone(), child));
        wait_for(Duration::from_secs(60), || {
            let a = self.ok("GET", &format!("/v1/agents/{id}"), None);
            (a["health"] == "HEALTHY").then_some(())
        });
        id
    }

    pub fn kill_agent(&mut self, id: &str) {
        let (_, child) = self.agents.iter_mut().find(|(a, _)| a == id).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    pub fn run(&self, id: &str) -> Value {
        self.ok("GET", &format!("/v1/runs/{id}"), None)
    }

    /// Waits until the run is in a terminal state.
    pub fn wait_run(&self, id: &str) -> Value {
        wait_for(Duration::from_secs(180), || {
            let r = self.run(id);
            let s = r["state"].as_str().unwrap().to_string();
            ["FAILED", "ERROR", "COMPLETED", "COMPLETED_WITH_ERRORS", "CANCELED"].contains(&s.as_str()).then_some(r)
        })
    }

    /// Waits until the run is collecting and every agent delivered its snapshot.
    pub fn wait_collecting(&self, id: &str) -> Value {
        wait_for(Duration::from_secs(120), || {
            let r = self.run(id);
            let all = r["agents"]
                .as_array()?
                .iter()
                .all(|a| a["telemetry"].as_array().is_some_and(|t| t.iter().any(|k| k["kind"] == "snapshot")));
            (r["state"] == "COLLECTING_DATA" && all).then_some(r)
        })
    }

    /// Target + template + run; returns the run id.
    pub fn start_run(&self, name: &str, tags: Value, duration: u64, packages: &[&str]) -> String {
        let target = self.ok("POST", "/v1/targets", Some(json!({"name": name, "tags": tags})));
        let template = self.ok(
            "POST",
            "/v1/templates",
            Some(json!({"target_id": target["id"], "name": name, "duration_seconds": duration, "packages": packages,
                "sampling_interval_seconds": 2, "user_attributes": [{"key": "team", "value": "ops"}]})),
        );
        let run = self.ok("POST", "/v1/runs", Some(json!({"template_id": template["id"]})));
        run["id"].as_str().unwrap().to_string()
    }

    pub fn findings(&self, run: &str) -> Vec<Value> {
        self.ok("GET", &format!("/v1/findings?run_id={run}"), None).as_array().unwrap().clone()
    }
}

/// Polls `f` every 200 ms until it returns `Some`, or panics after `limit`.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "condition not reached within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The states a run went through.
pub fn states(run: &Value) -> Vec<String> {
    run["state_changes"].as_array().unwrap().iter().map(|c| c["state"].as_str().unwrap().to_string()).collect()
}

/// The status of each agent of a run.
pub fn agent_status(run: &Value, agent: &str) -> String {
    run["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent_id"] == agent)
        .map(|a| a["status"].as_str().unwrap().to_string())
        .unwrap_or_default()
}
