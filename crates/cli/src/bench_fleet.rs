//! `warden bench fleet`: a load generator speaking the real agent protocol
//! (enrollment, signed heartbeats, telemetry) against a real `warden serve`
//! child process, and a real `warden agent` measured over a run.
//!
//! Why: the fleet targets (1,000 agents on one 2-core server under 50% CPU;
//! an agent under 20 MB RSS and 1% of a core) must come from a command anyone
//! can rerun. Simulated agents heartbeat every 30 s and send a runtime sample
//! every 10 s; `--compress F` runs the simulated time F times faster (and so
//! with F times the request rate), while the number of documents, and so the
//! database size after the simulated duration, stays what it would be.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use warden_agent::http::{Signer, hex, send, unix_now};

/// `warden bench` modes with arguments of their own.
#[derive(Subcommand)]
pub enum BenchMode {
    /// Load-test a fleet server with simulated agents, then measure a real agent.
    Fleet(BenchFleetArgs),
}

/// `warden bench fleet`.
#[derive(Args)]
pub struct BenchFleetArgs {
    /// Simulated agents.
    #[arg(long, default_value_t = 1000)]
    agents: usize,
    /// Simulated run length, seconds.
    #[arg(long, default_value_t = 3600)]
    simulated_seconds: u64,
    /// Time compression: the simulated run takes simulated/compress real seconds.
    #[arg(long, default_value_t = 1.0)]
    compress: f64,
    /// Client threads.
    #[arg(long, default_value_t = 32)]
    threads: usize,
    /// Bytes of JSON per runtime sample.
    #[arg(long, default_value_t = 1024)]
    sample_bytes: usize,
    /// Seconds a real `warden agent` is measured over a run (0: skip).
    #[arg(long, default_value_t = 60)]
    agent_seconds: u64,
}

struct Server {
    child: Child,
    url: String,
    token: String,
    http: ureq::Agent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map(|b| serde_json::to_vec(&b).expect("JSON values serialise"));
        let headers = [("authorization", format!("Bearer {}", self.token))];
        let r = send(&self.http, method, &format!("{}{path}", self.url), &headers, body.as_deref())
            .map_err(|e| e.to_string())?;
        if !r.ok() {
            return Err(format!("{method} {path}: {} {}", r.status, r.error_message()));
        }
        serde_json::from_slice(&r.body).map_err(|e| e.to_string())
    }
}

/// CPU seconds (user + system) and current/peak RSS (KiB) of a process.
fn proc_usage(pid: u32) -> (f64, u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // SAFETY: sysconf has no preconditions.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let ticks = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (ticks / tick, kib("VmRSS:"), kib("VmHWM:"))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Starts `warden serve`; `agents` raises the limit of agents in running
/// assessments (Inspector's 500) so one run can hold every simulated agent.
fn start_server(dir: &Path, heartbeat: u64, agents: usize) -> Result<Server, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let agents_limit = agents.max(500).to_string();
    let mut child = Command::new(exe)
        .args(["serve", "--listen", "127.0.0.1:0", "--heartbeat-seconds", &heartbeat.to_string()])
        .args(["--limit-agents-in-runs", &agents_limit])
        .env("WARDEN_DATA_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("no server output")?).read_line(&mut line).map_err(|e| e.to_string())?;
    let url = line
        .trim()
        .strip_prefix("warden serve: listening on ")
        .ok_or_else(|| format!("server said {line:?}"))?
        .to_string();
    let token = std::fs::read_to_string(dir.join("admin.token")).map_err(|e| e.to_string())?.trim().to_string();
    Ok(Server { child, url, token, http: warden_agent::http::client(None, Duration::from_secs(120))? })
}

/// One simulated agent.
struct SimAgent {
    signer: Signer,
    run: Option<String>,
    next_seq: u64,
    samples_left: u64,
    next_heartbeat: Instant,
    next_sample: Instant,
    finished_reported: bool,
}

/// Runs the benchmark and prints the figures.
pub fn run(mode: BenchMode) -> Result<(), String> {
    let BenchMode::Fleet(args) = mode;
    let dir = tempfile_dir()?;
    let result = run_in(&args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("warden-bench-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

fn run_in(args: &BenchFleetArgs, dir: &Path) -> Result<(), String> {
    let compress = args.compress.max(0.001);
    let heartbeat_period = Duration::from_secs_f64(30.0 / compress);
    let sample_period = Duration::from_secs_f64(10.0 / compress);
    let samples = args.simulated_seconds / 10;
    let server = start_server(dir, (30.0 / compress).ceil().max(1.0) as u64, args.agents)?;
    println!(
        "warden bench fleet: {} agents, simulated {} s at {compress}x ({} heartbeats/s, {} samples/s expected)",
        args.agents,
        args.simulated_seconds,
        (args.agents as f64 / heartbeat_period.as_secs_f64()).round(),
        (args.agents as f64 / sample_period.as_secs_f64()).round()
    );

    // The snapshot every simulated agent sends: this host's real one.
    let snapshot = warden_collect::collect(Path::new("/"), &warden_agent::collector::full_snapshot_options())
        .map_err(|p| p.to_string())?;
    let snapshot = serde_json::to_value(&snapshot).map_err(|e| e.to_string())?;
    let filler = "x".repeat(args.sample_bytes.saturating_sub(120));

    let token = server.call("POST", "/v1/enroll-tokens", Some(json!({"uses": args.agents + 1})))?["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let enroll_start = Instant::now();
    let agents: Vec<SimAgent> = (0..args.agents)
        .map(|i| {
            let (pkcs8, public) = Signer::generate()?;
            let body = serde_json::to_vec(&json!({"token": token, "public_key": hex(&public), "tags": {"bench": "yes"}, "host": {"hostname": format!("sim-{i}")}})).map_err(|e| e.to_string())?;
            let r = send(&server.http, "POST", &format!("{}/agent/v1/enroll", server.url), &[], Some(&body)).map_err(|e| e.to_string())?;
            let id = serde_json::from_slice::<Value>(&r.body).map_err(|e| e.to_string())?["agent_id"].as_str().ok_or("enrollment failed")?.to_string();
            Ok(SimAgent { signer: Signer::new(id, &pkcs8)?, run: None, next_seq: 0, samples_left: samples, next_heartbeat: Instant::now(), next_sample: Instant::now(), finished_reported: false })
        })
        .collect::<Result<_, String>>()?;
    println!("  enrolled {} agents in {:.1} s", agents.len(), enroll_start.elapsed().as_secs_f64());

    let target = server.call("POST", "/v1/targets", Some(json!({"name": "bench", "tags": [{"key": "bench"}]})))?;
    let duration = (args.simulated_seconds as f64 / compress * 3.0) as u64 + 120;
    let template = server.call("POST", "/v1/templates", Some(json!({"target_id": target["id"], "name": "bench", "duration_seconds": duration, "packages": ["best-practices"]})))?;
    let run = server.call("POST", "/v1/runs", Some(json!({"template_id": template["id"]})))?["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // A run that ends before collecting (a limit, say) would leave the
    // simulated agents waiting for an assignment forever.
    let started = Instant::now();
    loop {
        let r = server.call("GET", &format!("/v1/runs/{run}"), None)?;
        match r["state"].as_str().unwrap_or_default() {
            "CREATED" | "START_DATA_COLLECTION_PENDING" if started.elapsed() < Duration::from_secs(120) => {
                std::thread::sleep(Duration::from_millis(200))
            }
            "START_DATA_COLLECTION_IN_PROGRESS" | "COLLECTING_DATA" => break,
            _ => return Err(format!("the benchmark run did not start collecting: {r}")),
        }
    }

    let (cpu0, _, _) = proc_usage(server.child.id());
    let load_start = Instant::now();
    let finished = Arc::new(AtomicUsize::new(0));
    let peak_rss = Arc::new(AtomicUsize::new(0));
    let threads = args.threads.max(1);
    let mut shards: Vec<Vec<SimAgent>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, mut a) in agents.into_iter().enumerate() {
        // Spread the first heartbeats over one period.
        a.next_heartbeat = Instant::now() + heartbeat_period.mul_f64(i as f64 / args.agents.max(1) as f64);
        shards[i % threads].push(a);
    }
    let total = args.agents;
    let results: Vec<(Vec<f64>, Vec<f64>, usize)> = std::thread::scope(|scope| {
        let watcher = {
            let (finished, peak_rss, pid) = (finished.clone(), peak_rss.clone(), server.child.id());
            scope.spawn(move || {
                while finished.load(Ordering::SeqCst) < total {
                    peak_rss.fetch_max(proc_usage(pid).1 as usize, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(500));
                }
            })
        };
        let handles: Vec<_> = shards
            .into_iter()
            .map(|shard| {
                let (server, snapshot, filler, finished) = (&server, &snapshot, &filler, finished.clone());
                scope.spawn(move || {
                    simulate(server, shard, snapshot, filler, heartbeat_period, sample_period, &finished)
                })
            })
            .collect();
        let out = handles.into_iter().map(|h| h.join().unwrap_or_default()).collect();
        let _ = watcher.join();
        out
    });
    let load_wall = load_start.elapsed().as_secs_f64();
    let (cpu1, rss_now, _) = proc_usage(server.child.id());
    let mut heartbeats: Vec<f64> = results.iter().flat_map(|r| r.0.iter().copied()).collect();
    let mut telemetry: Vec<f64> = results.iter().flat_map(|r| r.1.iter().copied()).collect();
    let errors: usize = results.iter().map(|r| r.2).sum();
    heartbeats.sort_by(f64::total_cmp);
    telemetry.sort_by(f64::total_cmp);
    let ms = |v: f64| v * 1000.0;
    println!(
        "  load: {:.0} s wall, {} heartbeats, {} telemetry documents, {errors} failed requests",
        load_wall,
        heartbeats.len(),
        telemetry.len()
    );
    println!(
        "  heartbeat latency  p50 {:7.2} ms  p99 {:7.2} ms",
        ms(percentile(&heartbeats, 0.5)),
        ms(percentile(&heartbeats, 0.99))
    );
    println!(
        "  telemetry latency  p50 {:7.2} ms  p99 {:7.2} ms",
        ms(percentile(&telemetry, 0.5)),
        ms(percentile(&telemetry, 0.99))
    );
    let cpu = (cpu1 - cpu0) / load_wall * 100.0;
    println!(
        "  server CPU {cpu:.1}% of one core at {compress}x the real rate (~{:.1}% at 1x); RSS {} KiB now, {} KiB peak during load",
        cpu / compress,
        rss_now,
        peak_rss.load(Ordering::SeqCst)
    );

    server.call("POST", &format!("/v1/runs/{run}/stop"), Some(json!({"action": "START_EVALUATION"})))?;
    let eval_start = Instant::now();
    let state = loop {
        let r = server.call("GET", &format!("/v1/runs/{run}"), None)?;
        let s = r["state"].as_str().unwrap_or_default().to_string();
        if ["COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "ERROR", "CANCELED"].contains(&s.as_str()) {
            break s;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let db = dir.join("warden.db");
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let db_bytes = size(&db) + size(&dir.join("warden.db-wal"));
    println!(
        "  run {state} after stop; stop + evaluation of {} agents took {:.1} s",
        args.agents,
        eval_start.elapsed().as_secs_f64()
    );
    println!(
        "  database after a simulated {} s run: {:.1} MiB ({} bytes; snapshot JSON {} bytes per agent, {} samples of ~{} bytes per agent)",
        args.simulated_seconds,
        db_bytes as f64 / 1048576.0,
        db_bytes,
        serde_json::to_vec(&snapshot).map(|v| v.len()).unwrap_or(0),
        samples,
        args.sample_bytes
    );

    if args.agent_seconds > 0 {
        measure_agent(&server, dir, &token, args.agent_seconds)?;
    }
    Ok(())
}

/// One client thread: its agents' heartbeats and samples, on schedule.
/// Returns heartbeat latencies, telemetry latencies (seconds) and failures.
fn simulate(
    server: &Server,
    mut agents: Vec<SimAgent>,
    snapshot: &Value,
    filler: &str,
    heartbeat_period: Duration,
    sample_period: Duration,
    finished: &AtomicUsize,
) -> (Vec<f64>, Vec<f64>, usize) {
    let (mut hb, mut tel, mut errors) = (Vec::new(), Vec::new(), 0);
    let post = |signer: &Signer, path: &str, body: &[u8]| {
        let headers = signer.headers("POST", path, body, unix_now());
        let start = Instant::now();
        let r = send(&server.http, "POST", &format!("{}{path}", server.url), &headers, Some(body));
        (r, start.elapsed().as_secs_f64())
    };
    while agents.iter().any(|a| !a.finished_reported) {
        let now = Instant::now();
        for a in agents.iter_mut().filter(|a| !a.finished_reported) {
            if let Some(run) = a.run.clone().filter(|_| a.samples_left > 0 && now >= a.next_sample) {
                let body = json!({"seq": a.next_seq, "kind": "runtime", "body": {"sampler": "bench/1", "time": unix_now(), "pad": filler}});
                let (r, t) = post(
                    &a.signer,
                    &format!("/agent/v1/runs/{run}/telemetry"),
                    &serde_json::to_vec(&body).unwrap_or_default(),
                );
                match r {
                    Ok(resp) if resp.ok() => {
                        tel.push(t);
                        a.next_seq += 1;
                        a.samples_left -= 1;
                    }
                    _ => errors += 1,
                }
                a.next_sample += sample_period;
            }
            if now >= a.next_heartbeat {
                let done = a.run.is_some() && a.samples_left == 0;
                let runs: Vec<Value> = a.run.iter().map(|r| json!({"run": r, "phase": if done { "finished" } else { "collecting" }, "last_seq": a.next_seq.checked_sub(1)})).collect();
                let body = serde_json::to_vec(
                    &json!({"activity": if a.run.is_some() { "running" } else { "idle" }, "runs": runs}),
                )
                .unwrap_or_default();
                let (r, t) = post(&a.signer, "/agent/v1/heartbeat", &body);
                a.next_heartbeat += heartbeat_period;
                let Ok(resp) = r.map_err(|_| ()).and_then(|r| if r.ok() { Ok(r) } else { Err(()) }) else {
                    errors += 1;
                    continue;
                };
                hb.push(t);
                if done {
                    a.finished_reported = true;
                    finished.fetch_add(1, Ordering::SeqCst);
                    continue;
                }
                let answer: Value = serde_json::from_slice(&resp.body).unwrap_or_default();
                let collect = answer["assignments"].as_array().into_iter().flatten().find(|x| x["type"] == "collect");
                if let (None, Some(c)) = (&a.run, collect) {
                    let run = c["run"].as_str().unwrap_or_default().to_string();
                    let body = serde_json::to_vec(&json!({"seq": 0, "kind": "snapshot", "body": snapshot}))
                        .unwrap_or_default();
                    let (r, t) = post(&a.signer, &format!("/agent/v1/runs/{run}/telemetry"), &body);
                    if r.is_ok_and(|r| r.ok()) {
                        tel.push(t)
                    } else {
                        errors += 1
                    }
                    a.next_seq = 1;
                    a.run = Some(run);
                    a.next_sample = Instant::now() + sample_period;
                }
            }
        }
        let wake = agents
            .iter()
            .filter(|a| !a.finished_reported)
            .flat_map(|a| {
                [Some(a.next_heartbeat), a.run.as_ref().filter(|_| a.samples_left > 0).map(|_| a.next_sample)]
            })
            .flatten()
            .min();
        if let Some(w) = wake {
            std::thread::sleep(w.saturating_duration_since(Instant::now()).min(Duration::from_millis(250)));
        }
    }
    (hb, tel, errors)
}

/// A real `warden agent` over a run of `seconds` at the default sampling interval.
fn measure_agent(server: &Server, dir: &Path, token: &str, seconds: u64) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let state = dir.join("agent");
    let mut child = Command::new(exe)
        .args(["agent", "--server", &server.url, "--enroll-token", token, "--tags", "measured=yes"])
        .arg("--state-dir")
        .arg(&state)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let result = (|| {
        let deadline = Instant::now() + Duration::from_secs(60);
        let id = loop {
            if let Some(id) = std::fs::read_to_string(state.join("credentials.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v["agent_id"].as_str().map(str::to_string))
            {
                break id;
            }
            if Instant::now() > deadline {
                return Err("the agent did not enroll".to_string());
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let target = server.call("POST", "/v1/targets", Some(json!({"name": "measured", "agent_ids": [id]})))?;
        let template = server.call("POST", "/v1/templates", Some(json!({"target_id": target["id"], "name": "measured", "duration_seconds": seconds, "packages": ["best-practices"]})))?;
        let run = server.call("POST", "/v1/runs", Some(json!({"template_id": template["id"]})))?["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let (cpu0, _, _) = proc_usage(child.id());
        let start = Instant::now();
        let mut max_rss = 0;
        let state = loop {
            max_rss = max_rss.max(proc_usage(child.id()).1);
            let r = server.call("GET", &format!("/v1/runs/{run}"), None)?;
            let s = r["state"].as_str().unwrap_or_default().to_string();
            if ["COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "ERROR", "CANCELED"].contains(&s.as_str()) {
                break s;
            }
            std::thread::sleep(Duration::from_secs(1));
        };
        let (cpu1, rss, hwm) = proc_usage(child.id());
        let wall = start.elapsed().as_secs_f64();
        println!(
            "  real agent over a {seconds} s run ({state}): CPU {:.2}% of one core, RSS {} KiB at end, max sampled {} KiB, peak (VmHWM, snapshot included) {} KiB",
            (cpu1 - cpu0) / wall * 100.0,
            rss,
            max_rss,
            hwm
        );
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}
