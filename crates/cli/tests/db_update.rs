//! End-to-end: `warden db update` against a tiny HTTP/1.1 server on
//! 127.0.0.1 that this test starts and stops itself (no other address is
//! ever contacted). The server serves fixture bytes from memory, answers
//! `If-None-Match` / `If-Modified-Since` with 304 and `Range` with 206, can
//! close a connection after N body bytes, and logs every request so the
//! tests can assert what the real `warden` binary sent.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The longest a test server lives, whatever happens to the test.
const SERVER_LIFETIME: Duration = Duration::from_secs(120);

#[derive(Clone, Default)]
struct Resource {
    body: Vec<u8>,
    etag: Option<String>,
    last_modified: Option<String>,
    /// Send the headers (full Content-Length) but only this many body bytes,
    /// then close: once, then the resource is served normally again.
    close_after: Option<usize>,
    /// Answer `302 Found` with this `Location` instead.
    redirect: Option<String>,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Logged {
    path: String,
    headers: HashMap<String, String>,
    status: u16,
    body_sent: usize,
}

#[derive(Default)]
struct State {
    resources: HashMap<String, Resource>,
    log: Vec<Logged>,
}

struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            while !sp.load(Ordering::SeqCst) && started.elapsed() < SERVER_LIFETIME {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &st),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => break,
                }
            }
        });
        Server { port, state, stop, thread: Some(thread) }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn put(&self, path: &str, resource: Resource) {
        self.state.lock().unwrap().resources.insert(path.to_string(), resource);
    }

    fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves one request, then closes the connection (`Connection: close`).
fn serve(stream: TcpStream, state: &Mutex<State>) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line.trim().is_empty() => break,
            Ok(_) => {
                if let Some((k, v)) = line.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
        }
    }
    let resource = {
        let mut st = state.lock().unwrap();
        let r = st.resources.get(&path).cloned();
        if let Some(r) = st.resources.get_mut(&path) {
            r.close_after = None;
        }
        r
    };
    let mut out = stream;
    let (status, reason, mut extra, body): (u16, &str, Vec<String>, &[u8]) = match &resource {
        None => (404, "Not Found", vec![], b"not found" as &[u8]),
        Some(Resource { redirect: Some(to), .. }) => (302, "Found", vec![format!("Location: {to}")], &[][..]),
        Some(r) => {
            let mut validators = vec![];
            if let Some(e) = &r.etag {
                validators.push(format!("ETag: {e}"));
            }
            if let Some(lm) = &r.last_modified {
                validators.push(format!("Last-Modified: {lm}"));
            }
            let not_modified = match (headers.get("if-none-match"), headers.get("if-modified-since")) {
                (Some(inm), _) => r.etag.as_ref() == Some(inm),
                (None, Some(ims)) => r.last_modified.as_ref() == Some(ims),
                _ => false,
            };
            let range_start = headers
                .get("range")
                .and_then(|v| v.strip_prefix("bytes="))
                .and_then(|v| v.strip_suffix('-'))
                .and_then(|v| v.parse::<usize>().ok());
            let if_range_ok = headers
                .get("if-range")
                .is_none_or(|v| r.etag.as_ref() == Some(v) || r.last_modified.as_ref() == Some(v));
            if not_modified {
                (304, "Not Modified", validators, &[][..])
            } else if let (Some(start), true) = (range_start, if_range_ok) {
                if start >= r.body.len() {
                    (416, "Range Not Satisfiable", vec![format!("Content-Range: bytes */{}", r.body.len())], &[][..])
                } else {
                    validators.push(format!("Content-Range: bytes {start}-{}/{}", r.body.len() - 1, r.body.len()));
                    (206, "Partial Content", validators, &r.body[start..])
                }
            } else {
                (200, "OK", validators, &r.body[..])
            }
        }
    };
    extra.push(format!("Content-Length: {}", body.len()));
    let sent_len = resource.as_ref().and_then(|r| r.close_after).map_or(body.len(), |n| n.min(body.len()));
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
    for h in &extra {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes()).and_then(|_| out.write_all(&body[..sent_len])).and_then(|_| out.flush());
    state.lock().unwrap().log.push(Logged { path, headers, status, body_sent: sent_len });
    let _ = out.shutdown(std::net::Shutdown::Both);
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn oval_fixture() -> Vec<u8> {
    fs::read(workspace().join("tests/fixtures/vuln/oval-definitions-bookworm-minbase.xml.bz2")).unwrap()
}

fn feed_fixture(rel: &str) -> Vec<u8> {
    fs::read(workspace().join("crates/vulndb/tests/fixtures/feeds").join(rel)).unwrap()
}

fn warden() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("warden").unwrap();
    // Loopback only: no proxy may take the requests elsewhere.
    for v in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "WARDEN_DB"] {
        cmd.env_remove(v);
    }
    cmd.timeout(Duration::from_secs(60));
    cmd
}

fn update(db: &Path, from: &[&str]) -> Output {
    let mut cmd = warden();
    cmd.args(["db", "update", "--db"]).arg(db);
    for f in from {
        cmd.args(["--from", f]);
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn status(db: &Path) -> String {
    let o = warden().args(["db", "status", "--db"]).arg(db).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every file under `dir`, relative, with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((p.strip_prefix(base).unwrap().display().to_string(), fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The sources as recorded (name, format, import time, counts).
fn sources(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut stmt =
        conn.prepare("SELECT name, format, imported_at, advisories, vulns FROM sources ORDER BY name").unwrap();
    stmt.query_map([], |r| {
        Ok(format!(
            "{}|{}|{}|{}|{}",
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?
        ))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

/// When an update last found every source current.
fn checked_at(db: &Path) -> Option<String> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row("SELECT value FROM meta WHERE key = 'checked_at'", [], |r| r.get(0)).ok()
}

/// The advisory and vulnerability rows of a database, without the source names.
fn rows(db: &Path) -> (Vec<String>, Vec<String>) {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let query = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| {
            Ok((0..n)
                .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    };
    (
        query(
            "SELECT distro, release, package, kind, vuln_id, status, fixed_version, advisory_ids, distro_severity, feed
             FROM advisories ORDER BY 1, 2, 3, 4, 5, 6, 7, 8",
        ),
        query("SELECT * FROM vulns ORDER BY id"),
    )
}

fn cache_file(db_dir: &Path, name: &str) -> PathBuf {
    tree(&db_dir.join("cache"))
        .into_iter()
        .map(|(p, _)| db_dir.join("cache").join(p))
        .find(|p| p.file_name().is_some_and(|n| n == name))
        .unwrap_or_else(|| {
            panic!("no cached {name} in {:?}", tree(&db_dir.join("cache")).iter().map(|t| &t.0).collect::<Vec<_>>())
        })
}

#[test]
fn first_update_downloads_and_imports_then_304_skips_the_body() {
    let server = Server::start();
    server.put(
        "/debian/oval-definitions-bookworm.xml.bz2",
        Resource { body: oval_fixture(), etag: Some("\"oval-1\"".into()), ..Default::default() },
    );
    // Only Last-Modified here: the second run must send If-Modified-Since.
    server.put(
        "/alpine/v3.20/main.json",
        Resource {
            body: feed_fixture("alpine/v3.20/main.json"),
            last_modified: Some("Tue, 10 Nov 2026 08:00:00 GMT".into()),
            ..Default::default()
        },
    );
    let (oval_url, alpine_url) =
        (server.url("/debian/oval-definitions-bookworm.xml.bz2"), server.url("/alpine/v3.20/main.json"));
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("vuln.db");

    let o = update(&db, &[&oval_url, &alpine_url]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = server.log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(
        (log[0].path.as_str(), log[1].path.as_str()),
        ("/debian/oval-definitions-bookworm.xml.bz2", "/alpine/v3.20/main.json")
    );
    for l in &log {
        assert_eq!(l.status, 200, "{l:?}");
        assert!(l.headers.get("user-agent").is_some_and(|ua| ua.starts_with("warden/")), "{l:?}");
        assert!(!l.headers.contains_key("if-none-match") && !l.headers.contains_key("range"), "{l:?}");
    }
    let st = status(&db);
    assert!(st.contains(&oval_url) && st.contains(&alpine_url), "{st}");
    assert!(st.contains("debian     12"), "{st}");
    assert!(st.contains("alpine     3.20"), "{st}");
    assert_eq!(fs::read(cache_file(tmp.path(), "oval-definitions-bookworm.xml.bz2")).unwrap(), oval_fixture());
    let (rows_before, sources_before) = (rows(&db), sources(&db));
    assert_eq!(checked_at(&db), None);

    // Second run: conditional requests, 304, no body, no re-import.
    let o = update(&db, &[&oval_url, &alpine_url]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing new"), "{}", stderr(&o));
    let log = server.log();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(log[2].headers.get("if-none-match").map(String::as_str), Some("\"oval-1\""), "{:?}", log[2]);
    assert_eq!(
        log[3].headers.get("if-modified-since").map(String::as_str),
        Some("Tue, 10 Nov 2026 08:00:00 GMT"),
        "{:?}",
        log[3]
    );
    for l in &log[2..] {
        assert_eq!((l.status, l.body_sent), (304, 0), "{l:?}");
    }
    // A 304 re-imports nothing: same rows, same import times; the database
    // only records that every source was checked, so `db status` counts
    // staleness from this check.
    assert_eq!((rows(&db), sources(&db)), (rows_before, sources_before), "a 304 must not re-import");
    assert!(checked_at(&db).is_some(), "the check is recorded");

    // The Alpine feed changes upstream: only it is downloaded and re-imported.
    let mut changed = feed_fixture("alpine/v3.20/main.json");
    changed.extend_from_slice(b"\n");
    server.put(
        "/alpine/v3.20/main.json",
        Resource {
            body: changed.clone(),
            last_modified: Some("Wed, 11 Nov 2026 08:00:00 GMT".into()),
            ..Default::default()
        },
    );
    let o = update(&db, &[&oval_url, &alpine_url]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = server.log();
    assert_eq!((log[4].status, log[5].status), (304, 200), "{log:?}");
    assert!(stderr(&o).contains("already holds this content"), "{}", stderr(&o));
    assert_eq!(fs::read(cache_file(tmp.path(), "main.json")).unwrap(), changed);
}

#[test]
fn interrupted_download_resumes_with_range_and_matches_a_direct_import() {
    let server = Server::start();
    let body = oval_fixture();
    server.put(
        "/oval/oval-definitions-bookworm.xml.bz2",
        Resource { body: body.clone(), etag: Some("\"v7\"".into()), close_after: Some(50_000), ..Default::default() },
    );
    let url = server.url("/oval/oval-definitions-bookworm.xml.bz2");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("vuln.db");

    let o = update(&db, &[&url]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&url), "{}", stderr(&o));
    assert!(stderr(&o).contains("the next run resumes it"), "{}", stderr(&o));
    assert!(!db.exists(), "a failed update creates no database");
    let part = cache_file(tmp.path(), "oval-definitions-bookworm.xml.bz2.part");
    assert_eq!(fs::read(&part).unwrap(), body[..50_000]);

    let o = update(&db, &[&url]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = server.log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1].headers.get("range").map(String::as_str), Some("bytes=50000-"), "{:?}", log[1]);
    assert_eq!(log[1].headers.get("if-range").map(String::as_str), Some("\"v7\""), "{:?}", log[1]);
    assert_eq!((log[1].status, log[1].body_sent), (206, body.len() - 50_000), "{:?}", log[1]);
    assert!(!part.exists());
    assert_eq!(fs::read(cache_file(tmp.path(), "oval-definitions-bookworm.xml.bz2")).unwrap(), body);

    // The same file imported directly gives the same rows.
    let direct = tmp.path().join("direct/vuln.db");
    fs::create_dir_all(direct.parent().unwrap()).unwrap();
    let file = tmp.path().join("direct/oval-definitions-bookworm.xml.bz2");
    fs::write(&file, &body).unwrap();
    let o = warden().args(["db", "import", "--db"]).arg(&direct).arg(&file).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (a, b) = (rows(&db), rows(&direct));
    assert!(!a.0.is_empty());
    assert_eq!(a, b);
}

#[test]
fn corrupt_or_truncated_feed_is_refused_leaving_db_and_cache_as_they_were() {
    let server = Server::start();
    let body = oval_fixture();
    let path = "/oval/oval-definitions-bookworm.xml.bz2";
    server.put(path, Resource { body: body.clone(), etag: Some("\"a\"".into()), ..Default::default() });
    let url = server.url(path);
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("vuln.db");
    let o = update(&db, &[&url]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = tree(tmp.path());

    // A truncated .bz2 served whole (its Content-Length matches), then
    // bytes that are no feed at all.
    for (etag, bad) in [("\"b\"", body[..body.len() / 2].to_vec()), ("\"c\"", b"<html>maintenance</html>".to_vec())] {
        server.put(path, Resource { body: bad, etag: Some(etag.into()), ..Default::default() });
        let o = update(&db, &[&url]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&url) && err.contains("not a readable feed"), "{err}");
        assert!(err.contains("database is unchanged"), "{err}");
        assert_eq!(server.log().last().unwrap().status, 200);
        // The database, the cached file and the cache index are byte-identical;
        // no .part or scratch file is left.
        assert!(tree(tmp.path()) == before, "{:?}", tree(tmp.path()).iter().map(|t| &t.0).collect::<Vec<_>>());
    }
}

#[test]
fn from_dir_and_file_work_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("vuln.db");
    let dir = workspace().join("crates/vulndb/tests/fixtures/feeds/alpine");
    let file = workspace().join("crates/vulndb/tests/fixtures/feeds/kev/known_exploited_vulnerabilities.json");
    let o = update(&db, &[dir.to_str().unwrap(), file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let st = status(&db);
    assert!(st.contains("alpine ") && st.contains("known_exploited_vulnerabilities.json"), "{st}");
    assert!(st.contains("alpine     3.20"), "{st}");
    assert!(!tmp.path().join("cache").exists(), "no URL, no cache");

    let o = update(&db, &["/no/such/feed.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/no/such/feed.json"), "{}", stderr(&o));
}

#[test]
fn sha256_pin_mismatch_is_refused_and_a_matching_pin_is_kept() {
    let server = Server::start();
    let body = feed_fixture("kev/known_exploited_vulnerabilities.json");
    server.put("/kev/known_exploited_vulnerabilities.json", Resource { body: body.clone(), ..Default::default() });
    let url = server.url("/kev/known_exploited_vulnerabilities.json");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("vuln.db");

    let wrong = format!("{url}#sha256={}", "0".repeat(64));
    let o = update(&db, &[&wrong]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&url) && stderr(&o).contains("SHA-256 mismatch"), "{}", stderr(&o));
    assert!(!db.exists());
    assert!(tree(&tmp.path().join("cache")).iter().all(|(p, _)| p.ends_with("warden-cache.json")), "nothing cached");

    let right = format!("{url}#sha256={:x}", Sha256::digest(&body));
    let o = update(&db, &[&right]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(status(&db).contains(&url));
    // Pinned and cached: no request at all the next time.
    let requests = server.log().len();
    let o = update(&db, &[&right]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(server.log().len(), requests);
}

#[test]
fn unreachable_url_fails_cleanly_naming_it_and_suggesting_from() {
    // A loopback port with nothing listening: connection refused.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/feeds/main.json");
    let server = Server::start();
    server.put("/missing-not", Resource::default());
    let missing = server.url("/gone.json");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("vuln.db");
    let kev = workspace().join("crates/vulndb/tests/fixtures/feeds/kev/known_exploited_vulnerabilities.json");
    let o = update(&db, &[kev.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let db_before = fs::read(&db).unwrap();

    let o = update(&db, &[kev.to_str().unwrap(), &url, &missing]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(&url) && err.contains(&missing) && err.contains("HTTP 404"), "{err}");
    assert!(err.contains("--from DIR"), "{err}");
    assert_eq!(fs::read(&db).unwrap(), db_before);
}

#[test]
fn a_changed_file_restarts_the_interrupted_download_and_redirects_are_followed() {
    let server = Server::start();
    let body = oval_fixture();
    let path = "/oval/oval-definitions-bookworm.xml.bz2";
    server.put(
        path,
        Resource { body: body.clone(), etag: Some("\"v1\"".into()), close_after: Some(30_000), ..Default::default() },
    );
    server.put(
        "/latest/oval-definitions-bookworm.xml.bz2",
        Resource { redirect: Some(path.into()), ..Default::default() },
    );
    let url = server.url("/latest/oval-definitions-bookworm.xml.bz2");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("vuln.db");
    let o = update(&db, &[&url]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // Upstream publishes a new version meanwhile: If-Range no longer
    // matches, the server sends the whole file (200) and the download starts over.
    server.put(path, Resource { body: body.clone(), etag: Some("\"v2\"".into()), ..Default::default() });
    let o = update(&db, &[&url]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = server.log();
    let summary: Vec<_> = log.iter().map(|l| (l.path.as_str(), l.status, l.body_sent)).collect();
    let latest = "/latest/oval-definitions-bookworm.xml.bz2";
    assert_eq!(summary, [(latest, 302, 0), (path, 200, 30_000), (latest, 302, 0), (path, 200, body.len())]);
    assert_eq!(log[3].headers.get("range").map(String::as_str), Some("bytes=30000-"), "{:?}", log[3]);
    assert_eq!(log[3].headers.get("if-range").map(String::as_str), Some("\"v1\""), "{:?}", log[3]);
    assert_eq!(fs::read(cache_file(tmp.path(), "oval-definitions-bookworm.xml.bz2")).unwrap(), body);
    assert!(status(&db).contains(&url));
}
