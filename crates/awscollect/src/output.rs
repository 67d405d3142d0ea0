//! Writing the folder: one file per call, streamed page by page, and the
//! staged replacement of the output folder.
//!
//! Why it exists: a large estate's `describe-instances` answer must not be
//! held in memory whole, and a failed or interrupted run must never leave a
//! folder that looks complete. Records are appended to `<file>.partial` as
//! pages arrive and the file is renamed into place only when the call
//! succeeded (a failed call leaves no file, as the AWS CLI prints nothing on
//! error). The whole run is written into a hidden sibling folder, which
//! replaces the output folder at the end.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::calls::{CallError, Sink};

/// The file name of the manifest at the top of the output folder.
pub const MANIFEST: &str = warden_netreach::load::MANIFEST;

/// Writes one CLI output file, `{"<Key>": [records...]}`, indented
/// by four spaces like the AWS CLI's output.
pub(crate) struct FileSink {
    path: PathBuf,
    partial_path: PathBuf,
    out: Option<BufWriter<File>>,
    key: &'static str,
    written: usize,
    /// Why the answer is incomplete, though the call succeeded.
    pub incomplete: Option<String>,
    /// Records seen, for the callers that need some of them (children, owner).
    pub observed: Vec<Value>,
    /// Keep the records in `observed`.
    pub observe: bool,
}

fn write_error(path: &Path, e: std::io::Error) -> CallError {
    CallError { code: None, message: format!("cannot write {}: {e}", path.display()) }
}

impl FileSink {
    pub(crate) fn new(path: PathBuf, key: &'static str, observe: bool) -> Self {
        let mut partial = path.clone().into_os_string();
        partial.push(".partial");
        FileSink {
            path,
            partial_path: partial.into(),
            out: None,
            key,
            written: 0,
            incomplete: None,
            observed: Vec::new(),
            observe,
        }
    }

    fn open(&mut self) -> Result<&mut BufWriter<File>, CallError> {
        if self.out.is_none() {
            if let Some(dir) = self.partial_path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
            }
            let file = File::create(&self.partial_path).map_err(|e| write_error(&self.partial_path, e))?;
            let mut out = BufWriter::new(file);
            write!(out, "{{\n    \"{}\": [", self.key).map_err(|e| write_error(&self.partial_path, e))?;
            self.out = Some(out);
        }
        Ok(self.out.as_mut().expect("opened above"))
    }

    /// Closes the list and moves the file into place.
    pub(crate) fn finish(mut self) -> Result<(), CallError> {
        let path = self.partial_path.clone();
        let written = self.written;
        let out = self.open()?;
        let text = if written == 0 { "]\n}\n" } else { "\n    ]\n}\n" };
        out.write_all(text.as_bytes()).and_then(|_| out.flush()).map_err(|e| write_error(&path, e))?;
        self.out = None;
        std::fs::rename(&self.partial_path, &self.path).map_err(|e| write_error(&self.path, e))
    }

    /// Drops what was written (the call failed).
    pub(crate) fn abandon(mut self) {
        self.out = None;
        let _ = std::fs::remove_file(&self.partial_path);
    }
}

/// `v` pretty-printed with four-space indentation, nested `depth` levels deep.
fn indented(v: &Value, depth: usize) -> String {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    serde::Serialize::serialize(v, &mut ser).expect("a Value always serializes");
    let text = String::from_utf8(buf).expect("serde_json writes UTF-8");
    // JSON strings never hold a raw newline, so every newline is layout.
    text.replace('\n', &format!("\n{}", "    ".repeat(depth)))
}

impl Sink for FileSink {
    fn page(&mut self, records: Vec<Value>) -> Result<(), CallError> {
        let path = self.partial_path.clone();
        let mut text = String::new();
        for (i, r) in records.iter().enumerate() {
            let sep = if self.written + i == 0 { "" } else { "," };
            text.push_str(sep);
            text.push_str("\n        ");
            text.push_str(&indented(r, 2));
        }
        let out = self.open()?;
        out.write_all(text.as_bytes()).map_err(|e| write_error(&path, e))?;
        self.written += records.len();
        if self.observe {
            self.observed.extend(records);
        }
        Ok(())
    }

    fn incomplete(&mut self, why: String) {
        self.incomplete = Some(why);
    }
}

/// Where a run writes, and how the result replaces the output folder.
#[derive(Debug)]
pub(crate) struct Staging {
    /// The output folder the user named.
    pub target: PathBuf,
    /// The hidden sibling folder the run writes into.
    pub dir: PathBuf,
}

/// Why the output folder cannot be used.
fn refuse(target: &Path, why: &str) -> String {
    format!("{}: {why}", target.display())
}

impl Staging {
    /// Checks the output folder — absent, empty, or an earlier
    /// `warden net collect` output (it has a manifest), which is replaced as
    /// a whole — and creates the staging folder beside it.
    pub(crate) fn prepare(target: &Path) -> Result<Staging, String> {
        let target = std::path::absolute(target).map_err(|e| refuse(target, &e.to_string()))?;
        let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Err(refuse(&target, "name a folder (not `/` or `..`)"));
        };
        match std::fs::metadata(&target) {
            Ok(meta) if !meta.is_dir() => return Err(refuse(&target, "exists and is not a folder")),
            Ok(_) => {
                let mut entries = std::fs::read_dir(&target).map_err(|e| refuse(&target, &e.to_string()))?;
                let empty = entries.next().is_none();
                if !empty && !target.join(MANIFEST).is_file() {
                    return Err(refuse(
                        &target,
                        "is not empty and not an earlier `warden net collect` output (no warden-collect.json); \
                         choose a new or empty folder",
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(refuse(&target, &e.to_string())),
        }
        let parent = target.parent().unwrap_or(Path::new("/")).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(|e| refuse(&parent, &e.to_string()))?;
        let dir = parent.join(format!(".{name}.warden-collect-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| refuse(&dir, &e.to_string()))?;
        }
        std::fs::create_dir(&dir).map_err(|e| refuse(&dir, &e.to_string()))?;
        Ok(Staging { target, dir })
    }

    /// Moves the staged run into place, replacing an earlier output.
    pub(crate) fn commit(self) -> Result<PathBuf, String> {
        let old = self.dir.with_extension("old");
        let replacing = self.target.exists();
        if replacing {
            std::fs::rename(&self.target, &old).map_err(|e| refuse(&self.target, &e.to_string()))?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            if replacing {
                let _ = std::fs::rename(&old, &self.target);
            }
            return Err(refuse(&self.target, &e.to_string()));
        }
        if replacing {
            // Only what was checked to be empty or an earlier output is removed.
            std::fs::remove_dir_all(&old).map_err(|e| refuse(&old, &e.to_string()))?;
        }
        Ok(self.target)
    }

    /// Removes the staged run (nothing replaced the output folder).
    pub(crate) fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sink_output(pages: Vec<Vec<Value>>) -> Value {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/out.json");
        let mut sink = FileSink::new(path.clone(), "Things", false);
        for p in pages {
            sink.page(p).expect("page written");
        }
        sink.finish().expect("finished");
        assert!(!dir.path().join("sub/out.json.partial").exists());
        serde_json::from_slice(&std::fs::read(&path).expect("file")).expect("valid JSON")
    }

    #[test]
    fn empty_pages_and_layout() {
        assert_eq!(sink_output(vec![]), serde_json::json!({"Things": []}));
        let v = sink_output(vec![vec![], vec![serde_json::json!({"A": "x\ny"})]]);
        assert_eq!(v, serde_json::json!({"Things": [{"A": "x\ny"}]}));
    }

    #[test]
    fn abandoned_call_leaves_no_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.json");
        let mut sink = FileSink::new(path.clone(), "Things", false);
        sink.page(vec![serde_json::json!({"A": 1})]).expect("page");
        sink.abandon();
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }

    #[test]
    fn staging_refuses_foreign_folders_and_replaces_its_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let foreign = dir.path().join("foreign");
        std::fs::create_dir(&foreign).expect("mkdir");
        std::fs::write(foreign.join("notes.txt"), "mine").expect("write");
        let err = Staging::prepare(&foreign).expect_err("refused");
        assert!(err.contains("not empty"), "{err}");
        assert!(foreign.join("notes.txt").exists());

        let out = dir.path().join("out");
        let s = Staging::prepare(&out).expect("new folder");
        std::fs::write(s.dir.join(MANIFEST), "{}").expect("manifest");
        std::fs::write(s.dir.join("old.json"), "{}").expect("file");
        s.commit().expect("committed");
        let s = Staging::prepare(&out).expect("earlier output accepted");
        std::fs::write(s.dir.join(MANIFEST), "{}").expect("manifest");
        s.commit().expect("replaced");
        assert!(out.join(MANIFEST).exists());
        assert!(!out.join("old.json").exists(), "the earlier run's files are gone");
        let leftovers: Vec<_> =
            std::fs::read_dir(dir.path()).expect("dir").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            ".*".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[A-Za-z\n\"]{0,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever the records hold (newlines, quotes, nesting), the
        /// streamed file parses back to exactly the records, in order.
        #[test]
        fn streamed_file_is_the_records(pages in prop::collection::vec(prop::collection::vec(json_value(), 0..4), 0..4)) {
            let all: Vec<Value> = pages.iter().flatten().cloned().collect();
            let v = sink_output(pages);
            prop_assert_eq!(v, serde_json::json!({"Things": all}));
        }
    }
}
