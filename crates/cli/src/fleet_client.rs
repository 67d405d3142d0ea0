//! The client of the server's JSON API (`/v1`) that the operators' commands
//! (`warden token|agents|target|template|run|findings|report RUN`) share.
//!
//! Why its own module: every command authenticates the same way (a bearer
//! token from `--token`, `WARDEN_TOKEN` or the data directory's
//! `admin.token`), trusts the same CA (`--ca`) and prints either text or the
//! API's JSON (`--json`); the transport is the agent's (`warden_agent::http`),
//! so the CLI and the agent pin a CA the same way.

use std::time::Duration;

use serde_json::Value;

use crate::fleet::{ClientArgs, data_dir};

/// A JSON API client (also `warden report RUN`'s).
pub(crate) struct Client {
    http: ureq::Agent,
    base: String,
    token: String,
    json: bool,
}

impl Client {
    pub(crate) fn new(args: &ClientArgs) -> Result<Client, String> {
        let token = match &args.token {
            Some(t) => t.clone(),
            None => {
                let file = data_dir().join("admin.token");
                std::fs::read_to_string(&file).map(|t| t.trim().to_string()).map_err(|_| {
                    format!("no API token: pass --token or set WARDEN_TOKEN ({} is not readable)", file.display())
                })?
            }
        };
        Ok(Client {
            http: warden_agent::http::client(args.ca.as_deref(), Duration::from_secs(60))?,
            base: args.server.trim_end_matches('/').to_string(),
            token,
            json: args.json,
        })
    }

    /// The body of a GET (a file, not JSON).
    pub(crate) fn get_bytes(&self, path: &str) -> Result<Vec<u8>, String> {
        self.send("GET", path, None)
    }

    fn send(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Result<Vec<u8>, String> {
        let headers = [("authorization", format!("Bearer {}", self.token))];
        let url = format!("{}{path}", self.base);
        let resp =
            warden_agent::http::send(&self.http, method, &url, &headers, body.as_deref()).map_err(|e| e.to_string())?;
        if !resp.ok() {
            return Err(format!("{method} {path}: {} {}", resp.status, resp.error_message()));
        }
        Ok(resp.body)
    }

    pub(crate) fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map(|b| serde_json::to_vec(&b).expect("JSON values serialise"));
        self.call_raw(method, path, body)
    }

    /// Like [`Client::call`] with a body already serialised (a large upload built in place).
    pub(crate) fn call_raw(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Result<Value, String> {
        let resp_body = self.send(method, path, body)?;
        if resp_body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&resp_body).map_err(|e| format!("{method} {path}: answer is not JSON: {e}"))
    }

    pub(crate) fn print(&self, v: &Value, text: impl FnOnce(&Value)) {
        if self.json { self.pretty(v) } else { text(v) }
    }

    pub(crate) fn pretty(&self, v: &Value) {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    }
}
