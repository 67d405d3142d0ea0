//! Shared streaming reader for OVAL 5 definition files (Debian and Ubuntu).
//!
//! Why it exists: an OVAL file is an indirection graph. A `<definition>`
//! names tests in its `<criteria>`; a test names an object (which package)
//! and a state (which version); an object may name its packages through a
//! `<constant_variable>`. Definitions come first in the file, so this reader
//! makes ONE streaming pass with `quick-xml`, keeps only the fields the
//! feeds need (ids, names, versions, CVE references: no descriptions unless
//! asked, no DOM), and the Debian/Ubuntu modules resolve the graph at the
//! end. Memory is bounded by the facts kept, not by the 51 MB document.

use std::collections::HashMap;
use std::io::{self, BufRead, Read};

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use super::FeedError;

/// One `<definition>` with what the feeds read from it.
#[derive(Debug, Default)]
pub(crate) struct Definition {
    pub id: String,
    pub class: String,
    /// Line of the `<definition>` start tag.
    pub line: u64,
    pub title: String,
    /// `(source, ref_id)` of each `<reference>`.
    pub references: Vec<(String, String)>,
    pub products: Vec<String>,
    pub platforms: Vec<String>,
    /// `<metadata><description>`, kept only when asked.
    pub description: Option<String>,
    /// Debian: `<debian><dsa>`.
    pub dsa: Vec<String>,
    /// Ubuntu: `<advisory><severity>`.
    pub severity: Option<String>,
    /// Ubuntu: `<advisory><cve>`.
    pub cves: Vec<CveMeta>,
    /// Every `criterion test_ref`, in document order.
    pub test_refs: Vec<String>,
}

/// Ubuntu `<cve priority=".." cvss_vector="..">CVE-..</cve>`.
#[derive(Debug, Default, Clone)]
pub(crate) struct CveMeta {
    pub id: String,
    pub priority: Option<String>,
    pub cvss_vector: Option<String>,
}

/// A `<*_test>`.
#[derive(Debug, Default)]
pub(crate) struct Test {
    /// Local element name (`dpkginfo_test`, `uname_test`, `variable_test`, ...).
    pub kind: String,
    pub object_ref: Option<String>,
    pub state_refs: Vec<String>,
}

/// A `<*_object>`.
#[derive(Debug, Default)]
pub(crate) struct Object {
    pub kind: String,
    /// `<name>` text (dpkginfo).
    pub name: Option<String>,
    /// `<name var_ref="..">` (dpkginfo through a variable).
    pub name_var_ref: Option<String>,
    /// `<filename>` (textfilecontent54).
    pub filename: Option<String>,
}

/// A `<*_state>`.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub kind: String,
    /// `(operation, value)` of each `<evr>` (dpkginfo) or `<value>` (variable_state).
    pub evr: Vec<(String, String)>,
    /// `<subexpression>` (textfilecontent54).
    pub subexpression: Option<String>,
}

/// What one pass over an OVAL file keeps.
#[derive(Debug, Default)]
pub(crate) struct OvalDoc {
    pub product_name: Option<String>,
    pub definitions: Vec<Definition>,
    pub tests: HashMap<String, Test>,
    pub objects: HashMap<String, Object>,
    pub states: HashMap<String, State>,
    /// `constant_variable` id → values.
    pub variables: HashMap<String, Vec<String>>,
    /// Items without an id etc.
    pub problems: Vec<(u64, String)>,
}

/// Counts the newlines the XML reader has consumed, for line numbers.
struct LineCounter<R> {
    inner: R,
    newlines: u64,
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let amt = amt.min(buf.len());
            self.newlines += buf[..amt].iter().filter(|&&b| b == b'\n').count() as u64;
        }
        self.inner.consume(amt);
    }
}

enum Item {
    None,
    Def(Definition),
    Test(String, Test),
    Object(String, Object),
    State(String, State),
    Variable(String, Vec<String>),
}

fn attrs(e: &BytesStart<'_>, location: &dyn Fn() -> String) -> Result<Vec<(String, String)>, FeedError> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| FeedError::malformed(location(), format!("bad attribute: {err}")))?;
        let v = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| FeedError::malformed(location(), format!("bad attribute value: {err}")))?;
        out.push((a.key.local_name().into_inner().to_string(), v.into_owned()));
    }
    Ok(out)
}

fn get<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Reads an OVAL definitions document in one streaming pass.
pub(crate) fn read(reader: impl BufRead, source: &str, keep_descriptions: bool) -> Result<OvalDoc, FeedError> {
    let mut xml = quick_xml::Reader::from_reader(LineCounter { inner: reader, newlines: 0 });
    xml.config_mut().expand_empty_elements = false;
    let mut doc = OvalDoc::default();
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut item = Item::None;
    // Attributes of the element whose text is being read (for <cve>, <evr>, <value>).
    let mut pending: Vec<(String, String)> = Vec::new();
    let mut saw_root = false;

    loop {
        let event = match xml.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(e) => {
                let line = xml.get_ref().newlines + 1;
                return Err(FeedError::malformed(format!("{source}:{line}"), format!("invalid XML: {e}")));
            }
        };
        let line = xml.get_ref().newlines + 1;
        let loc = || format!("{source}:{line}");
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let ln = e.local_name().into_inner().to_string();
                let a = attrs(e, &loc)?;
                let depth = stack.len();
                text.clear();
                if depth == 0 {
                    if saw_root {
                        return Err(FeedError::malformed(loc(), format!("second root element <{ln}>")));
                    }
                    if ln != "oval_definitions" {
                        return Err(FeedError::malformed(
                            loc(),
                            format!("root element is <{ln}>, not <oval_definitions>"),
                        ));
                    }
                    saw_root = true;
                } else if depth == 2 {
                    let section = stack[1].as_str();
                    let id = get(&a, "id").map(str::to_string);
                    item = match (section, id) {
                        ("definitions", Some(id)) if ln == "definition" => Item::Def(Definition {
                            id,
                            class: get(&a, "class").unwrap_or("").to_string(),
                            line,
                            ..Default::default()
                        }),
                        ("tests", Some(id)) => Item::Test(id, Test { kind: ln.clone(), ..Default::default() }),
                        ("objects", Some(id)) => Item::Object(id, Object { kind: ln.clone(), ..Default::default() }),
                        ("states", Some(id)) => Item::State(id, State { kind: ln.clone(), ..Default::default() }),
                        ("variables", Some(id)) if ln == "constant_variable" => Item::Variable(id, Vec::new()),
                        ("definitions" | "tests" | "objects" | "states" | "variables", None) => {
                            doc.problems.push((line, format!("<{ln}> in <{section}> has no id; skipped")));
                            Item::None
                        }
                        _ => Item::None,
                    };
                } else if depth > 2 {
                    match &mut item {
                        Item::Def(d) => match ln.as_str() {
                            "reference" => d.references.push((
                                get(&a, "source").unwrap_or("").to_string(),
                                get(&a, "ref_id").unwrap_or("").to_string(),
                            )),
                            "criterion" => {
                                if let Some(t) = get(&a, "test_ref") {
                                    d.test_refs.push(t.to_string());
                                }
                            }
                            _ => {}
                        },
                        Item::Test(_, t) => match ln.as_str() {
                            "object" => t.object_ref = get(&a, "object_ref").map(str::to_string),
                            "state" => {
                                if let Some(s) = get(&a, "state_ref") {
                                    t.state_refs.push(s.to_string());
                                }
                            }
                            _ => {}
                        },
                        Item::Object(_, o) if ln == "name" => {
                            o.name_var_ref = get(&a, "var_ref").map(str::to_string);
                        }
                        _ => {}
                    }
                }
                pending = a;
                if is_empty {
                    end_element(&mut doc, &mut item, &stack, &ln, "", &pending, keep_descriptions, line);
                } else {
                    stack.push(ln);
                }
            }
            Event::End(_) => {
                let Some(ln) = stack.pop() else {
                    return Err(FeedError::malformed(loc(), "closing tag without an open element"));
                };
                let t = std::mem::take(&mut text);
                end_element(&mut doc, &mut item, &stack, &ln, t.trim(), &pending, keep_descriptions, line);
                pending.clear();
            }
            Event::Text(t) => {
                if !stack.is_empty() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if !stack.is_empty() {
                    text.push_str(t);
                }
            }
            Event::GeneralRef(r) => {
                let name: &str = r;
                if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => text.push(c),
                        _ => return Err(FeedError::malformed(loc(), format!("bad character reference &{name};"))),
                    }
                } else {
                    let s = match name {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => return Err(FeedError::malformed(loc(), format!("unknown entity &{name};"))),
                    };
                    text.push_str(s);
                }
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(FeedError::malformed(loc(), format!("unexpected end of file inside <{open}>")));
                }
                if !saw_root {
                    return Err(FeedError::malformed(loc(), "no <oval_definitions> root element"));
                }
                break;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        buf.clear();
    }
    Ok(doc)
}

#[allow(clippy::too_many_arguments)]
fn end_element(
    doc: &mut OvalDoc,
    item: &mut Item,
    stack: &[String],
    ln: &str,
    text: &str,
    attrs: &[(String, String)],
    keep_descriptions: bool,
    line: u64,
) {
    let depth = stack.len();
    if depth == 2 {
        // The item itself ends.
        match std::mem::replace(item, Item::None) {
            Item::Def(d) => doc.definitions.push(d),
            Item::Test(id, t) => insert_unique(&mut doc.tests, id, t, &mut doc.problems, line),
            Item::Object(id, o) => insert_unique(&mut doc.objects, id, o, &mut doc.problems, line),
            Item::State(id, s) => insert_unique(&mut doc.states, id, s, &mut doc.problems, line),
            Item::Variable(id, v) => insert_unique(&mut doc.variables, id, v, &mut doc.problems, line),
            Item::None => {}
        }
        return;
    }
    if depth >= 2 && stack[1] == "generator" && ln == "product_name" {
        doc.product_name = Some(text.to_string());
        return;
    }
    if depth < 3 {
        return;
    }
    let parent = stack.last().map(String::as_str).unwrap_or("");
    match item {
        Item::Def(d) => match ln {
            "title" => d.title = text.to_string(),
            "product" => d.products.push(text.to_string()),
            "platform" => d.platforms.push(text.to_string()),
            "dsa" => d.dsa.push(text.to_string()),
            "severity" => d.severity = Some(text.to_string()),
            "description" if keep_descriptions && parent == "metadata" => d.description = Some(text.to_string()),
            "cve" if !text.is_empty() => d.cves.push(CveMeta {
                id: text.to_string(),
                priority: get(attrs, "priority").map(str::to_string),
                cvss_vector: get(attrs, "cvss_vector").filter(|v| !v.is_empty()).map(str::to_string),
            }),
            _ => {}
        },
        Item::Object(_, o) => match ln {
            "name" if !text.is_empty() => o.name = Some(text.to_string()),
            "filename" => o.filename = Some(text.to_string()),
            _ => {}
        },
        Item::State(_, s) => match ln {
            "evr" | "value" => s.evr.push((get(attrs, "operation").unwrap_or("equals").to_string(), text.to_string())),
            "subexpression" => s.subexpression = Some(text.to_string()),
            _ => {}
        },
        Item::Variable(_, v) => {
            if ln == "value" {
                v.push(text.to_string());
            }
        }
        Item::Test(..) | Item::None => {}
    }
}

fn insert_unique<T>(map: &mut HashMap<String, T>, id: String, v: T, problems: &mut Vec<(u64, String)>, line: u64) {
    match map.entry(id) {
        std::collections::hash_map::Entry::Occupied(e) => {
            problems.push((line, format!("duplicate id {}; the first one is kept", e.key())));
        }
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(v);
        }
    }
}

/// A dpkginfo test resolved to its package names and `evr` conditions.
#[derive(Debug)]
pub(crate) struct DpkgCriterion {
    pub packages: Vec<String>,
    /// `(operation, evr)`.
    pub evr: Vec<(String, String)>,
}

/// What a test reference resolves to.
#[derive(Debug)]
pub(crate) enum Resolved {
    /// A dpkginfo test: packages and versions.
    Dpkg(DpkgCriterion),
    /// Any other test kind (release check, architecture, running kernel...).
    Other(String),
}

impl DpkgCriterion {
    /// Adds this criterion's (package, status) facts to `facts`, without
    /// duplicates: `less than V` is fixed in V, and `less than 0` means no
    /// fix yet. Other operations are reported as problems at `loc`.
    pub(crate) fn add_facts(
        &self,
        loc: &str,
        facts: &mut Vec<(String, crate::advisory::FixStatus)>,
        problems: &mut Vec<super::FeedProblem>,
    ) {
        use crate::advisory::FixStatus;
        for (op, evr) in &self.evr {
            if op != "less than" {
                problems.push(super::FeedProblem::new(
                    loc,
                    format!("dpkginfo evr operation {op:?} ({evr}) not understood; skipped"),
                ));
                continue;
            }
            let v = strip_zero_epoch(evr);
            let status =
                if v == "0" || v.is_empty() { FixStatus::Unfixed } else { FixStatus::Fixed { version: v.to_string() } };
            for p in &self.packages {
                let fact = (p.clone(), status.clone());
                if !facts.contains(&fact) {
                    facts.push(fact);
                }
            }
        }
    }
}

impl OvalDoc {
    /// Resolves a test reference through objects, variables and states.
    pub(crate) fn resolve(&self, test_ref: &str) -> Result<Resolved, String> {
        let test = self.tests.get(test_ref).ok_or_else(|| format!("test {test_ref} is not defined"))?;
        if test.kind != "dpkginfo_test" {
            return Ok(Resolved::Other(test.kind.clone()));
        }
        let obj_ref = test.object_ref.as_deref().ok_or_else(|| format!("test {test_ref} has no object"))?;
        let obj = self.objects.get(obj_ref).ok_or_else(|| format!("object {obj_ref} is not defined"))?;
        if obj.kind != "dpkginfo_object" {
            return Err(format!("dpkginfo test {test_ref} points at a {}", obj.kind));
        }
        let packages = if let Some(n) = &obj.name {
            vec![n.clone()]
        } else if let Some(var) = &obj.name_var_ref {
            let values = self.variables.get(var).ok_or_else(|| format!("variable {var} is not defined"))?;
            values.clone()
        } else {
            return Err(format!("object {obj_ref} names no package"));
        };
        if packages.is_empty() || packages.iter().any(|p| p.is_empty()) {
            return Err(format!("object {obj_ref} has an empty package name"));
        }
        let mut evr = Vec::new();
        for s in &test.state_refs {
            let st = self.states.get(s).ok_or_else(|| format!("state {s} is not defined"))?;
            if st.kind != "dpkginfo_state" {
                return Err(format!("dpkginfo test {test_ref} points at a {}", st.kind));
            }
            evr.extend(st.evr.iter().cloned());
        }
        if evr.is_empty() {
            return Err(format!("test {test_ref} has no evr state"));
        }
        Ok(Resolved::Dpkg(DpkgCriterion { packages, evr }))
    }
}

/// `0:1.2-3` → `1.2-3`: a zero epoch is the same as none in dpkg ordering,
/// and the distros' own notation omits it.
pub(crate) fn strip_zero_epoch(evr: &str) -> &str {
    evr.strip_prefix("0:").unwrap_or(evr)
}
