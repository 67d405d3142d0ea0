//! `/metrics` in the Prometheus text format: runs by state, agents by
//! health, and a request latency histogram per route.
//!
//! Why by hand: three metric families do not justify a metrics framework,
//! and the text format is simple and stable.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use warden_store::HealthThresholds;

use crate::{AppState, now_ms};

/// Histogram bucket upper bounds, seconds.
const BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request latency histograms keyed by (method, route, status class).
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String, &'static str), Histogram>>,
}

impl Metrics {
    /// Records one request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let class = match status {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let h = routes.entry((method.to_string(), route.to_string(), class)).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    fn render_into(&self, out: &mut String) {
        out.push_str("# HELP warden_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE warden_http_request_duration_seconds histogram\n");
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for ((method, route, class), h) in routes {
            let labels = format!("method=\"{method}\",route=\"{}\",status=\"{class}\"", escape(&route));
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "warden_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(out, "warden_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "warden_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "warden_http_request_duration_seconds_count{{{labels}}} {}", h.count);
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Middleware: times every request under its route template (never the raw
/// path, so run ids do not explode the label set).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    state.metrics.observe(&method, &route, response.status().as_u16(), start.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> Response {
    let heartbeat = state.config.heartbeat_seconds;
    let counts = state
        .db(move |s| {
            let runs = s.run_state_counts()?;
            let now = now_ms();
            let mut health: BTreeMap<&'static str, u64> =
                [("HEALTHY", 0), ("UNHEALTHY", 0), ("UNKNOWN", 0)].into_iter().collect();
            for a in s.list_agents()?.iter().filter(|a| a.retired_at.is_none()) {
                *health.entry(a.health(now, HealthThresholds::for_heartbeat(heartbeat)).0.as_str()).or_default() += 1;
            }
            Ok((runs, health))
        })
        .await;
    let (runs, health) = match counts {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let mut out = String::new();
    out.push_str("# HELP warden_runs Assessment runs by state.\n# TYPE warden_runs gauge\n");
    for (state, n) in runs {
        let _ = writeln!(out, "warden_runs{{state=\"{state}\"}} {n}");
    }
    out.push_str("# HELP warden_agents Enrolled, not retired agents by health.\n# TYPE warden_agents gauge\n");
    for (h, n) in health {
        let _ = writeln!(out, "warden_agents{{health=\"{h}\"}} {n}");
    }
    state.metrics.render_into(&mut out);
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe("POST", "/agent/v1/heartbeat", 200, 0.003);
        m.observe("POST", "/agent/v1/heartbeat", 200, 0.2);
        let mut out = String::new();
        m.render_into(&mut out);
        assert!(out.contains(r#"route="/agent/v1/heartbeat",status="2xx",le="0.005"} 1"#), "{out}");
        assert!(out.contains(r#"route="/agent/v1/heartbeat",status="2xx",le="0.25"} 2"#), "{out}");
        assert!(out.contains(
            r#"warden_http_request_duration_seconds_count{method="POST",route="/agent/v1/heartbeat",status="2xx"} 2"#
        ));
    }
}
