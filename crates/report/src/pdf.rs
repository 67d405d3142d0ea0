//! The run report as PDF: the HTML report's content on numbered A4 pages.
//!
//! Why it exists: Inspector Classic offered its reports as PDF, and a PDF is
//! what auditors file. It is drawn with krilla and DejaVu Sans (embedded,
//! subset; licence in `crates/report/fonts/LICENSE`), so any text a host
//! reports (accents, CJK names in package descriptions, box-drawing) shows as
//! written, which the base-14 PDF fonts (Latin-1 only) cannot do. Layout is a
//! simple flow: text wraps at word boundaries using the font's own advance
//! widths (a word longer than a line is broken), a block that does not fit
//! moves to the next page, and every page has `Page N of M` in its footer.
//! The layout runs twice: once to count the pages, then again handing each
//! page to krilla as soon as it is full, so only one page of drawing
//! operations is held at a time.

use std::io::{self, Write};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};
use warden_model::{Finding, Outcome, Severity};

use crate::evidence_line;
use crate::run::{HostReport, ReportType, RunReport, rules_by_package};

static REGULAR_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 48.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const CONTENT_BOTTOM: f32 = PAGE_H - 58.0;
const FOOTER_BASELINE: f32 = PAGE_H - 30.0;

type Colour = (u8, u8, u8);
const BLACK: Colour = (26, 26, 26);
const GREY: Colour = (90, 90, 90);
const WHITE: Colour = (255, 255, 255);

fn severity_colour(s: Severity) -> Colour {
    match s {
        Severity::Critical => (106, 27, 154),
        Severity::High => (198, 40, 40),
        Severity::Medium => (230, 81, 0),
        Severity::Low => (21, 101, 192),
        Severity::Informational => (97, 97, 97),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
}

/// Glyph ids and advances (in em) of one font; the first 0x3000 code points are cached.
struct Metrics {
    font: FontRef<'static>,
    cached: Vec<(u32, f32)>,
}

const CACHED: u32 = 0x3000;

impl Metrics {
    fn new(data: &'static [u8]) -> io::Result<Self> {
        let font = FontRef::new(data).map_err(|e| io::Error::other(format!("embedded font: {e}")))?;
        let mut m = Metrics { font, cached: Vec::new() };
        m.cached = (0..CACHED).map(|c| char::from_u32(c).map(|c| m.lookup(c)).unwrap_or((0, 0.5))).collect();
        Ok(m)
    }

    fn lookup(&self, c: char) -> (u32, f32) {
        let upem = f32::from(self.font.metrics(Size::unscaled(), LocationRef::default()).units_per_em.max(1));
        let gid = self.font.charmap().map(c).unwrap_or_default();
        let advance =
            self.font.glyph_metrics(Size::unscaled(), LocationRef::default()).advance_width(gid).unwrap_or(upem / 2.0);
        (gid.to_u32(), advance / upem)
    }

    fn glyph(&self, c: char) -> (u32, f32) {
        match self.cached.get(c as usize) {
            Some(g) => *g,
            None => self.lookup(c),
        }
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }
}

enum Op {
    Text { x: f32, baseline: f32, face: Face, size: f32, colour: Colour, text: String },
    Rect { x: f32, y: f32, w: f32, h: f32, colour: Colour },
}

/// The two fonts' metrics, read once for both layout passes.
struct Fonts {
    regular: Metrics,
    bold: Metrics,
}

impl Fonts {
    fn new() -> io::Result<Self> {
        Ok(Fonts { regular: Metrics::new(REGULAR_TTF)?, bold: Metrics::new(BOLD_TTF)? })
    }
}

/// Flow layout: fills a page with drawing operations and hands each full
/// page (its 0-based number and operations) to `emit`.
struct Layout<'a> {
    regular: &'a Metrics,
    bold: &'a Metrics,
    page: Vec<Op>,
    /// Pages handed over so far.
    done: usize,
    /// Top of the next line on the current page.
    y: f32,
    /// The severity bar of the finding being laid out: colour and top on this page.
    bar: Option<(Colour, f32)>,
    emit: &'a mut dyn FnMut(usize, Vec<Op>),
}

/// Replaces control characters (tabs included) with spaces; newlines are kept
/// for [`Layout::paragraph`] to split on.
fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && c != '\n' { ' ' } else { c }).collect()
}

impl<'a> Layout<'a> {
    fn new(fonts: &'a Fonts, emit: &'a mut dyn FnMut(usize, Vec<Op>)) -> Self {
        Layout { regular: &fonts.regular, bold: &fonts.bold, page: Vec::new(), done: 0, y: MARGIN, bar: None, emit }
    }

    fn metrics(&self, face: Face) -> &Metrics {
        match face {
            Face::Regular => self.regular,
            Face::Bold => self.bold,
        }
    }

    fn page(&mut self) -> &mut Vec<Op> {
        &mut self.page
    }

    /// Draws the open severity bar from its top down to `bottom` on this page.
    fn close_bar(&mut self, bottom: f32) {
        if let Some((colour, top)) = self.bar {
            self.page.push(Op::Rect { x: MARGIN, y: top, w: 3.0, h: (bottom - top).max(12.0), colour });
        }
    }

    fn new_page(&mut self) {
        self.close_bar(CONTENT_BOTTOM);
        if let Some((_, top)) = &mut self.bar {
            *top = MARGIN;
        }
        let page = std::mem::take(&mut self.page);
        (self.emit)(self.done, page);
        self.done += 1;
        self.y = MARGIN;
    }

    /// Hands over the last page; returns the page count.
    fn finish(mut self) -> usize {
        let page = std::mem::take(&mut self.page);
        (self.emit)(self.done, page);
        self.done + 1
    }

    /// Moves to a new page unless `height` more points fit on this one.
    fn ensure(&mut self, height: f32) {
        if self.y + height > CONTENT_BOTTOM && self.y > MARGIN {
            self.new_page();
        }
    }

    fn gap(&mut self, height: f32) {
        self.y += height;
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: Colour) {
        self.page().push(Op::Rect { x, y, w, h, colour });
    }

    /// One line of text at the current position (no wrapping).
    fn line(&mut self, x: f32, face: Face, size: f32, colour: Colour, text: &str) {
        let height = size * 1.35;
        self.ensure(height);
        let baseline = self.y + size;
        self.page().push(Op::Text { x, baseline, face, size, colour, text: text.to_string() });
        self.y += height;
    }

    /// Text wrapped to `width`, each line moving to a new page when needed.
    fn paragraph(&mut self, x: f32, width: f32, face: Face, size: f32, colour: Colour, text: &str) {
        for line in self.wrap(&clean(text), face, size, width) {
            self.line(x, face, size, colour, &line);
        }
    }

    /// Greedy word wrap; explicit newlines start new lines; over-long words are broken.
    fn wrap(&self, text: &str, face: Face, size: f32, width: f32) -> Vec<String> {
        let m = self.metrics(face);
        let space = m.width(" ", size);
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut current = String::new();
            let mut current_w = 0.0;
            for word in para.split(' ').filter(|w| !w.is_empty()) {
                let mut w = m.width(word, size);
                let extra = if current.is_empty() { w } else { space + w };
                if current_w + extra <= width {
                    if !current.is_empty() {
                        current.push(' ');
                    }
                    current.push_str(word);
                    current_w += extra;
                    continue;
                }
                if !current.is_empty() {
                    lines.push(std::mem::take(&mut current));
                }
                if w <= width {
                    current.push_str(word);
                    current_w = w;
                    continue;
                }
                // A word wider than the line: break it between characters.
                w = 0.0;
                for c in word.chars() {
                    let cw = m.glyph(c).1 * size;
                    if w + cw > width && !current.is_empty() {
                        lines.push(std::mem::take(&mut current));
                        w = 0.0;
                    }
                    current.push(c);
                    w += cw;
                }
                current_w = w;
            }
            lines.push(current);
        }
        lines
    }

    /// `label: value` with the value wrapped beside the label.
    fn field(&mut self, label: &str, value: &str, size: f32) {
        let label_w = 110.0;
        let lines = self.wrap(&clean(value), Face::Regular, size, CONTENT_W - label_w);
        for (i, l) in lines.iter().enumerate() {
            let height = size * 1.35;
            self.ensure(height);
            let baseline = self.y + size;
            if i == 0 {
                let text = label.to_string();
                self.page().push(Op::Text { x: MARGIN, baseline, face: Face::Bold, size, colour: GREY, text });
            }
            let text = l.clone();
            self.page().push(Op::Text {
                x: MARGIN + label_w,
                baseline,
                face: Face::Regular,
                size,
                colour: BLACK,
                text,
            });
            self.y += height;
        }
    }

    fn heading(&mut self, text: &str, size: f32) {
        self.ensure(size * 1.35 + 40.0);
        self.gap(size * 0.6);
        self.paragraph(MARGIN, CONTENT_W, Face::Bold, size, BLACK, text);
        self.rect(MARGIN, self.y, CONTENT_W, 1.2, BLACK);
        self.gap(6.0);
    }
}

/// Writes the report as PDF.
pub fn write_pdf<W: Write>(report: &RunReport, out: &mut W) -> io::Result<()> {
    let fonts = Fonts::new()?;
    let total = lay_out(report, &fonts, &mut |_, _| {});
    let mut pdf = Drawing::new(report, total)?;
    lay_out(report, &fonts, &mut |n, ops| pdf.page(&fonts, n, &ops));
    let bytes = pdf.finish()?;
    out.write_all(&bytes)
}

/// Lays the whole report out, handing each page to `emit`; returns the page count.
fn lay_out(report: &RunReport, fonts: &Fonts, emit: &mut dyn FnMut(usize, Vec<Op>)) -> usize {
    let mut l = Layout::new(fonts, emit);
    lay_out_summary(report, &mut l);
    l.heading("2. Findings", 15.0);
    if report.finding_count() == 0 {
        l.paragraph(MARGIN, CONTENT_W, Face::Regular, 10.0, BLACK, "No potential security issues found.");
    }
    for host in &report.hosts {
        lay_out_host(host, &mut l);
    }
    let mut section = 3;
    if report.report_type == ReportType::Full {
        lay_out_rules(report, &mut l);
        section += 1;
    }
    lay_out_incomplete(report, section, &mut l);
    l.finish()
}

fn lay_out_summary(report: &RunReport, l: &mut Layout) {
    let run = &report.run;
    l.paragraph(MARGIN, CONTENT_W, Face::Bold, 22.0, BLACK, "Warden assessment report");
    l.paragraph(
        MARGIN,
        CONTENT_W,
        Face::Regular,
        11.0,
        GREY,
        &format!("{} · generated {}", report.report_type.title(), run.generated_at),
    );
    l.heading("1. Executive summary", 15.0);
    if report.partial() {
        l.paragraph(
            MARGIN,
            CONTENT_W,
            Face::Bold,
            10.0,
            severity_colour(Severity::Medium),
            "Partial results: some rules could not be evaluated or some facts could not be collected.",
        );
        l.gap(4.0);
    }
    for (k, v) in report.summary_rows() {
        l.field(k, &v, 10.0);
    }
    l.gap(10.0);
    let counts = report.severity_counts();
    l.paragraph(MARGIN, CONTENT_W, Face::Bold, 11.0, BLACK, "Findings by severity");
    let rows: Vec<(String, [usize; 5])> = Severity::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut r = [0; 5];
            r[i] = counts.get(*s);
            (s.as_str().to_string(), r)
        })
        .collect();
    bar_chart(l, &rows);
    l.gap(8.0);
    l.paragraph(MARGIN, CONTENT_W, Face::Bold, 11.0, BLACK, "Findings by rules package");
    let packages = report.package_counts();
    let rows: Vec<(String, [usize; 5])> =
        packages.iter().map(|p| (p.package.clone(), Severity::ALL.map(|s| p.counts.get(s)))).collect();
    bar_chart(l, &rows);
    // Legend.
    l.ensure(16.0);
    let mut x = MARGIN + 170.0;
    let y = l.y;
    for s in Severity::ALL {
        l.rect(x, y + 2.0, 8.0, 8.0, severity_colour(s));
        let text = s.as_str().to_string();
        let w = l.regular.width(&text, 8.0);
        l.page().push(Op::Text { x: x + 11.0, baseline: y + 9.0, face: Face::Regular, size: 8.0, colour: GREY, text });
        x += 11.0 + w + 12.0;
    }
    l.gap(16.0);
}

/// Horizontal bars, stacked by severity, with the total after each bar.
fn bar_chart(l: &mut Layout, rows: &[(String, [usize; 5])]) {
    let label_w = 200.0;
    let bar_w = CONTENT_W - label_w - 50.0;
    let max = rows.iter().map(|(_, r)| r.iter().sum::<usize>()).max().unwrap_or(0).max(1);
    for (label, parts) in rows {
        l.ensure(16.0);
        let y = l.y;
        let mut shown = clean(label);
        while l.regular.width(&shown, 9.0) > label_w - 10.0 && shown.chars().count() > 1 {
            shown.pop();
            shown.pop();
            shown.push('…');
        }
        let lw = l.regular.width(&shown, 9.0);
        l.page().push(Op::Text {
            x: MARGIN + label_w - 8.0 - lw,
            baseline: y + 10.0,
            face: Face::Regular,
            size: 9.0,
            colour: BLACK,
            text: shown,
        });
        let mut x = MARGIN + label_w;
        for (k, n) in parts.iter().enumerate() {
            if *n > 0 {
                let w = bar_w * *n as f32 / max as f32;
                l.rect(x, y + 2.0, w, 10.0, severity_colour(Severity::ALL[k]));
                x += w;
            }
        }
        let total = parts.iter().sum::<usize>().to_string();
        l.page().push(Op::Text {
            x: x + 5.0,
            baseline: y + 10.0,
            face: Face::Regular,
            size: 9.0,
            colour: BLACK,
            text: total,
        });
        l.gap(15.0);
    }
}

fn lay_out_host(host: &HostReport, l: &mut Layout) {
    l.ensure(60.0);
    l.gap(8.0);
    let y = l.y;
    l.rect(MARGIN, y, CONTENT_W, 20.0, (230, 234, 240));
    l.y += 4.0;
    let title = format!(
        "{} ({}; {} finding{}{})",
        host.asset,
        host.os.as_deref().unwrap_or("unknown OS"),
        host.findings.len(),
        if host.findings.len() == 1 { "" } else { "s" },
        host.agent_id.as_deref().map(|a| format!("; agent {a}")).unwrap_or_default()
    );
    l.paragraph(MARGIN + 6.0, CONTENT_W - 12.0, Face::Bold, 11.0, BLACK, &title);
    l.gap(6.0);
    if host.findings.is_empty() {
        l.paragraph(MARGIN, CONTENT_W, Face::Regular, 9.5, BLACK, "No potential security issues found on this host.");
    }
    for f in &host.findings {
        lay_out_finding(f, l);
    }
}

fn lay_out_finding(f: &Finding, l: &mut Layout) {
    let colour = severity_colour(f.severity);
    l.ensure(70.0);
    l.gap(6.0);
    let top = l.y;
    let badge = f.severity.as_str().to_string();
    let badge_w = l.bold.width(&badge, 8.5) + 8.0;
    l.rect(MARGIN + 6.0, top + 1.0, badge_w, 12.0, colour);
    l.page().push(Op::Text {
        x: MARGIN + 10.0,
        baseline: top + 10.0,
        face: Face::Bold,
        size: 8.5,
        colour: WHITE,
        text: badge,
    });
    let indent = MARGIN + 6.0;
    let width = CONTENT_W - 6.0;
    let title_x = indent + badge_w + 6.0;
    let title_lines = l.wrap(&clean(&f.title), Face::Bold, 10.5, CONTENT_W - (title_x - MARGIN));
    for line in title_lines {
        l.line(title_x, Face::Bold, 10.5, BLACK, &line);
    }
    l.bar = Some((colour, top));
    let small = 8.5;
    l.paragraph(
        indent,
        width,
        Face::Regular,
        small,
        GREY,
        &format!("Rule {} · {} · asset {} · numeric severity {:.1}", f.rule_id, f.package, f.asset, f.numeric_severity),
    );
    for (k, v) in &f.attributes {
        l.paragraph(indent, width, Face::Regular, small, GREY, &format!("{k}: {v}"));
    }
    for (heading, body) in [("Description", &f.description), ("Recommendation", &f.recommendation)] {
        l.gap(2.0);
        l.line(indent, Face::Bold, 9.0, BLACK, heading);
        l.paragraph(indent, width, Face::Regular, 9.0, BLACK, body);
    }
    l.gap(2.0);
    l.line(indent, Face::Bold, 9.0, BLACK, "Evidence");
    if f.evidence.is_empty() {
        l.paragraph(indent + 8.0, width - 8.0, Face::Regular, small, BLACK, "none recorded");
    }
    for e in &f.evidence {
        l.paragraph(indent + 8.0, width - 8.0, Face::Regular, small, BLACK, &format!("• {}", evidence_line(e)));
    }
    // The severity bar beside the finding, on every page it spans.
    l.close_bar(l.y);
    l.bar = None;
    l.gap(4.0);
}

fn lay_out_rules(report: &RunReport, l: &mut Layout) {
    l.heading("3. Rules checked", 15.0);
    for host in &report.hosts {
        l.ensure(40.0);
        l.paragraph(MARGIN, CONTENT_W, Face::Bold, 11.0, BLACK, &host.asset);
        for (package, rules) in rules_by_package(&host.rules) {
            l.ensure(30.0);
            l.paragraph(MARGIN + 6.0, CONTENT_W - 6.0, Face::Bold, 9.5, GREY, package);
            for r in rules {
                let colour = match r.outcome {
                    Outcome::Pass => (46, 125, 50),
                    Outcome::Fail => severity_colour(Severity::High),
                    Outcome::CouldNotEvaluate => severity_colour(Severity::Medium),
                    Outcome::NotApplicable | Outcome::Manual => GREY,
                };
                let text = format!("{} — {} — {}", r.rule_id, r.title, r.reason);
                let lines = l.wrap(&clean(&text), Face::Regular, 8.5, CONTENT_W - 110.0);
                for (i, line) in lines.iter().enumerate() {
                    l.ensure(11.5);
                    let baseline = l.y + 8.5;
                    if i == 0 {
                        let outcome = r.outcome.as_str().to_string();
                        l.page().push(Op::Text {
                            x: MARGIN + 12.0,
                            baseline,
                            face: Face::Bold,
                            size: 8.5,
                            colour,
                            text: outcome,
                        });
                    }
                    let text = line.clone();
                    l.page().push(Op::Text {
                        x: MARGIN + 110.0,
                        baseline,
                        face: Face::Regular,
                        size: 8.5,
                        colour: BLACK,
                        text,
                    });
                    l.y += 11.5;
                }
            }
            l.gap(4.0);
        }
    }
}

fn lay_out_incomplete(report: &RunReport, section: u32, l: &mut Layout) {
    let mut started = false;
    for host in &report.hosts {
        let unevaluated: Vec<_> = host.rules.iter().filter(|r| r.outcome == Outcome::CouldNotEvaluate).collect();
        if unevaluated.is_empty() && host.problems.is_empty() {
            continue;
        }
        if !started {
            l.heading(&format!("{section}. Not evaluated, and problems met"), 15.0);
            started = true;
        }
        l.paragraph(MARGIN, CONTENT_W, Face::Bold, 11.0, BLACK, &host.asset);
        for r in unevaluated {
            let text = format!("• {} could not be evaluated: {}", r.rule_id, r.reason);
            l.paragraph(MARGIN + 6.0, CONTENT_W - 6.0, Face::Regular, 9.0, BLACK, &text);
        }
        for p in &host.problems {
            l.paragraph(MARGIN + 6.0, CONTENT_W - 6.0, Face::Regular, 9.0, BLACK, &format!("• {p}"));
        }
    }
}

fn fill(colour: Colour) -> Fill {
    Fill {
        paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn glyphs(m: &Metrics, text: &str) -> Vec<KrillaGlyph> {
    text.char_indices()
        .map(|(i, c)| {
            let (gid, advance) = m.glyph(c);
            KrillaGlyph::new(GlyphId::new(gid), advance, 0.0, 0.0, 0.0, i..i + c.len_utf8(), None)
        })
        .collect()
}

/// krilla deflates each page's content stream when the page is finished,
/// with a fresh compressor state of a few hundred KB; glibc's allocator keeps
/// the freed states in the heap, and the resident size grew by about 300 KB a
/// page (100 MB for 311 pages) though live heap stayed under 3 MB (measured
/// with heaptrack). Trimming the heap every 8 pages gives that memory back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_freed_memory() {
    // SAFETY: malloc_trim only releases free heap memory; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_freed_memory() {}

/// The PDF being drawn, page by page.
struct Drawing {
    document: Document,
    regular: Font,
    bold: Font,
    settings: PageSettings,
    total: usize,
    footer_left: String,
}

impl Drawing {
    fn new(report: &RunReport, total: usize) -> io::Result<Self> {
        let font_error = || io::Error::other("the embedded DejaVu Sans font could not be loaded");
        let regular = Font::new(REGULAR_TTF.into(), 0).ok_or_else(font_error)?;
        let bold = Font::new(BOLD_TTF.into(), 0).ok_or_else(font_error)?;
        let mut document = Document::new();
        document.set_metadata(
            Metadata::new()
                .title(format!("Warden assessment report: {}", report.run.run_name))
                .creator(format!("Warden {}", report.run.warden_version))
                .language("en".to_string()),
        );
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| io::Error::other("bad page size"))?;
        let footer_left = clean(&format!("Warden {} · {}", report.report_type.title(), report.run.run_name));
        Ok(Drawing { document, regular, bold, settings, total, footer_left })
    }

    /// Draws page `n` (0-based) with its footer.
    fn page(&mut self, fonts: &Fonts, n: usize, ops: &[Op]) {
        let mut page = self.document.start_page_with(self.settings.clone());
        let mut surface = page.surface();
        let footer_right = format!("Page {} of {}", n + 1, self.total);
        let footer = [
            Op::Rect { x: MARGIN, y: FOOTER_BASELINE - 12.0, w: CONTENT_W, h: 0.6, colour: GREY },
            Op::Text {
                x: MARGIN,
                baseline: FOOTER_BASELINE,
                face: Face::Regular,
                size: 8.0,
                colour: GREY,
                text: self.footer_left.clone(),
            },
            Op::Text {
                x: PAGE_W - MARGIN - fonts.regular.width(&footer_right, 8.0),
                baseline: FOOTER_BASELINE,
                face: Face::Regular,
                size: 8.0,
                colour: GREY,
                text: footer_right,
            },
        ];
        for op in ops.iter().chain(footer.iter()) {
            match op {
                Op::Rect { x, y, w, h, colour } => {
                    let Some(rect) = Rect::from_xywh(*x, *y, w.max(0.1), h.max(0.1)) else { continue };
                    let mut pb = PathBuilder::new();
                    pb.push_rect(rect);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(Some(fill(*colour)));
                        surface.draw_path(&path);
                    }
                }
                Op::Text { x, baseline, face, size, colour, text } => {
                    if text.is_empty() {
                        continue;
                    }
                    let (font, metrics) = match face {
                        Face::Regular => (&self.regular, &fonts.regular),
                        Face::Bold => (&self.bold, &fonts.bold),
                    };
                    surface.set_fill(Some(fill(*colour)));
                    let glyphs = glyphs(metrics, text);
                    surface.draw_glyphs(Point::from_xy(*x, *baseline), &glyphs, font.clone(), text, *size, false);
                }
            }
        }
        surface.finish();
        page.finish();
        if n % 8 == 7 {
            return_freed_memory();
        }
    }

    fn finish(self) -> io::Result<Vec<u8>> {
        self.document.finish().map_err(|e| io::Error::other(format!("cannot write the PDF: {e:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::tests::sample;

    #[test]
    fn wraps_within_the_width_and_breaks_long_words() {
        let fonts = Fonts::new().unwrap();
        let mut ignore = |_, _| {};
        let l = Layout::new(&fonts, &mut ignore);
        let text = "a few short words then averyveryveryveryveryveryveryveryveryveryveryverylongword\nnext line";
        let lines = l.wrap(text, Face::Regular, 10.0, 120.0);
        assert!(lines.len() >= 4, "{lines:?}");
        for line in &lines {
            assert!(l.regular.width(line, 10.0) <= 120.0 + 0.01, "{line:?} is too wide");
        }
        assert_eq!(lines.last().unwrap(), "next line");
        let joined: String = lines.concat();
        assert!(joined.contains("averyvery"));
    }

    #[test]
    fn writes_a_pdf_with_numbered_pages() {
        let mut buf = Vec::new();
        write_pdf(&sample(ReportType::Full), &mut buf).unwrap();
        assert!(buf.starts_with(b"%PDF-"));
        assert!(buf.len() > 1000);
    }
}
