//! [`Page`] to HTML text: absolutely positioned boxes on a time axis, styles and the click handler
//! inline, so the file opens anywhere without a network.

use std::fmt::Write;

use super::{Page, Part, Section};

const LANE_HEIGHT: usize = 46;
const LABEL_WIDTH: usize = 120;
/// Width budget of one section's time axis; a long history gets narrower steps.
const AXIS_BUDGET: usize = 24_000;

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; background: #fbfbfd; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 24px 0 4px; }
pre.summary { background: #fff; border: 1px solid #d9dce3; padding: 10px 12px; overflow-x: auto; }
.verdict { margin: 0 0 8px; }
.scroll { overflow-x: auto; border: 1px solid #d9dce3; background: #fff; }
.chart { position: relative; }
.lane-label { position: absolute; left: 0; width: 110px; padding-left: 8px; font-weight: 600;
  display: flex; align-items: center; border-bottom: 1px dashed #e4e6ec; box-sizing: border-box; }
.lane-line { position: absolute; border-bottom: 1px dashed #e4e6ec; }
.op { position: absolute; height: 22px; border-radius: 4px; background: #cfe3ff; border: 1px solid #5b8def;
  font: 12px/22px ui-monospace, monospace; white-space: nowrap; overflow: hidden; padding: 0 4px;
  box-sizing: border-box; cursor: pointer; min-width: 8px; }
.op.init { background: #e3f4e1; border-color: #58a55c; }
.op.post { background: #f6ecd9; border-color: #c08a2d; }
.op.pending { border-style: dashed; }
.op.bad { background: #ffd9d9; border: 2px solid #d62828; font-weight: 700; }
.op.selected { outline: 3px solid #1d2330; }
.lp { display: inline-block; min-width: 16px; height: 16px; line-height: 16px; margin-right: 4px;
  border-radius: 8px; background: #1d2330; color: #fff; text-align: center; font-size: 10px; }
.lpoint { position: absolute; width: 8px; height: 8px; margin-left: -4px; background: #1d2330;
  transform: rotate(45deg); }
.event { position: absolute; width: 2px; height: 10px; background: #8a90a0; }
.event.preemption { background: #d62828; }
.preempt-line { position: absolute; width: 0; border-left: 2px dashed #d62828; }
.preempt-tag { position: absolute; font-size: 11px; color: #d62828; white-space: nowrap; }
.allows { border-left: 4px solid #d62828; padding: 6px 10px; background: #fff3f3; margin: 8px 0; }
.details { font: 12px/1.5 ui-monospace, monospace; background: #fff; border: 1px solid #d9dce3;
  padding: 8px 12px; margin-top: 8px; white-space: pre-wrap; min-height: 2em; }
.legend span { display: inline-block; margin-right: 14px; }
.sw { display: inline-block; width: 14px; height: 10px; border: 1px solid #888; margin-right: 4px; vertical-align: middle; }
svg.cycle { position: absolute; left: 0; top: 0; pointer-events: none; }
"#;

const SCRIPT: &str = r#"
document.querySelectorAll('.op').forEach(function (bar) {
  bar.addEventListener('click', function () {
    var section = bar.closest('section');
    section.querySelectorAll('.op.selected').forEach(function (b) { b.classList.remove('selected'); });
    bar.classList.add('selected');
    var d = bar.dataset;
    var text = d.lane + ': ' + d.opText + ' -> ' + d.output;
    text += '\nmodel state before: ' + (d.before || '(not placed by the linearization)');
    text += '\nmodel state after:  ' + (d.after || '(not placed by the linearization)');
    section.querySelector('.details').textContent = text;
  });
});
// Open each section on the operation that cannot come next, if there is one.
document.querySelectorAll('section').forEach(function (section) {
  var bad = section.querySelector('.op.bad');
  if (bad) { bad.click(); }
});
"#;

/// Escapes text for HTML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page as one HTML document.
pub(crate) fn render(page: &Page) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(&page.title)
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&page.title));
    out += "<p class=\"legend\"><span><i class=\"sw\" style=\"background:#e3f4e1\"></i>init</span>\
            <span><i class=\"sw\" style=\"background:#cfe3ff\"></i>parallel part</span>\
            <span><i class=\"sw\" style=\"background:#f6ecd9\"></i>post</span>\
            <span><i class=\"sw\" style=\"background:#ffd9d9;border-color:#d62828\"></i>cannot come next</span>\
            <span><b class=\"lp\">1</b>linearization order</span>\
            <span><i class=\"sw\" style=\"background:#1d2330;width:8px;height:8px;transform:rotate(45deg)\"></i>linearization point</span>\
            <span style=\"color:#d62828\">&#9474; preemption</span></p>\n";
    for (i, section) in page.sections.iter().enumerate() {
        section_html(&mut out, i, section);
    }
    if !page.summary.is_empty() {
        let _ = writeln!(
            out,
            "<h2>The text report</h2><pre class=\"summary\">{}</pre>",
            escape(&page.summary.join("\n"))
        );
    }
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
    out
}

fn section_html(out: &mut String, index: usize, s: &Section) {
    let end = s.end();
    let unit = (AXIS_BUDGET / (end + 2)).clamp(4, 40);
    let x = |at: usize| LABEL_WIDTH + at * unit;
    let width = x(end + 2) + 40 + 30 * s.cycle.len();
    let height = LANE_HEIGHT * s.lanes.len().max(1) + 24;
    let _ = writeln!(
        out,
        "<section id=\"section-{index}\" data-ops=\"{}\"><h2>{}</h2>",
        s.bars.len(),
        escape(&s.heading)
    );
    if !s.verdict.is_empty() {
        let _ = writeln!(out, "<p class=\"verdict\">{}</p>", escape(&s.verdict));
    }
    if let Some(allows) = &s.allows {
        let _ = writeln!(out, "<div class=\"allows\">{}</div>", escape(allows));
    }
    let _ = writeln!(
        out,
        "<div class=\"scroll\"><div class=\"chart\" style=\"width:{width}px;height:{height}px\">"
    );
    for (lane, label) in s.lanes.iter().enumerate() {
        let top = lane * LANE_HEIGHT;
        let _ = writeln!(
            out,
            "<div class=\"lane-label\" style=\"top:{top}px;height:{LANE_HEIGHT}px\">{}</div>\
             <div class=\"lane-line\" style=\"left:{LABEL_WIDTH}px;top:{top}px;width:{}px;height:{LANE_HEIGHT}px\"></div>",
            escape(label),
            width - LABEL_WIDTH
        );
    }
    for m in &s.marks {
        if m.preemption {
            let _ = writeln!(
                out,
                "<div class=\"preempt-line\" style=\"left:{}px;top:0;height:{}px\" title=\"{}\"></div>\
                 <div class=\"preempt-tag\" style=\"left:{}px;top:{}px\">{}</div>",
                x(m.at),
                height - 18,
                escape(&m.text),
                x(m.at) + 3,
                height - 18,
                escape(&m.text)
            );
        } else {
            let _ = writeln!(
                out,
                "<div class=\"event\" style=\"left:{}px;top:{}px\" title=\"{}\"></div>",
                x(m.at),
                m.lane * LANE_HEIGHT + 32,
                escape(&m.text)
            );
        }
    }
    let position = |bar: usize| s.order.iter().position(|&b| b == bar);
    for (i, bar) in s.bars.iter().enumerate() {
        let mut class = String::from("op");
        class += match bar.part {
            Part::Init => " init",
            Part::Parallel => "",
            Part::Post => " post",
        };
        if bar.end.is_none() {
            class += " pending";
        }
        if s.highlighted.contains(&i) {
            class += " bad";
        }
        let stop = bar.end.unwrap_or(end + 1);
        let left = x(bar.start);
        let w = ((stop.max(bar.start) - bar.start) * unit).max(8);
        let output = bar.output.as_deref().unwrap_or("(did not return)");
        let point = position(i)
            .map(|p| {
                format!(
                    "<b class=\"lp\" title=\"position {} in the linearization\">{}</b>",
                    p + 1,
                    p + 1
                )
            })
            .unwrap_or_default();
        let opt = |v: &Option<String>| v.as_deref().map(escape).unwrap_or_default();
        let _ = writeln!(
            out,
            "<div class=\"{class}\" data-op=\"{i}\" data-lane=\"{}\" data-op-text=\"{}\" data-output=\"{}\" \
             data-before=\"{}\" data-after=\"{}\" style=\"left:{left}px;top:{}px;width:{w}px\" title=\"{} -> {}\">{point}{} &#8594; {}</div>",
            escape(s.lanes.get(bar.lane).map_or("?", String::as_str)),
            escape(&bar.op),
            escape(output),
            opt(&bar.before),
            opt(&bar.after),
            bar.lane * LANE_HEIGHT + 6,
            escape(&bar.op),
            escape(output),
            escape(&bar.op),
            escape(output),
        );
    }
    // Linearization points: the k-th operation of the order takes effect no earlier than every
    // operation before it was invoked, and within its own bar.
    let mut point = 0;
    for (k, &b) in s.order.iter().enumerate() {
        let bar = &s.bars[b];
        point = point.max(bar.start);
        let _ = writeln!(
            out,
            "<div class=\"lpoint\" style=\"left:{}px;top:{}px\" title=\"linearization point {}: {}\"></div>",
            x(point) + unit / 2,
            bar.lane * LANE_HEIGHT + 30,
            k + 1,
            escape(&bar.op)
        );
    }
    if !s.cycle.is_empty() {
        cycle_svg(out, s, width, height, x(end + 1));
    }
    out.push_str("</div></div>\n");
    if !s.order.is_empty() {
        let names: Vec<String> = s
            .order
            .iter()
            .enumerate()
            .map(|(k, &b)| format!("{}. {} {}", k + 1, s.lanes[s.bars[b].lane], s.bars[b].op))
            .collect();
        let _ = writeln!(
            out,
            "<p class=\"order\">linearization: {}</p>",
            escape(&names.join(", "))
        );
    }
    out.push_str(
        "<div class=\"details\">Click an operation to see the model state before and after it.</div>\n</section>\n",
    );
}

/// The wait-for cycle: an arrow from each waiting lane to the lane it waits for, right of the
/// last event.
fn cycle_svg(out: &mut String, s: &Section, width: usize, height: usize, x0: usize) {
    let _ = write!(
        out,
        "<svg class=\"cycle\" width=\"{width}\" height=\"{height}\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" \
         refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" \
         fill=\"#d62828\"/></marker></defs>"
    );
    let mid = |lane: usize| lane * LANE_HEIGHT + LANE_HEIGHT / 2;
    for (k, (from, to, what)) in s.cycle.iter().enumerate() {
        let x = x0 + 20 + 30 * k;
        let (y1, y2) = (mid(*from), mid(*to));
        let _ = write!(
            out,
            "<path class=\"wait\" d=\"M{x0},{y1} C{x},{y1} {x},{y2} {x0},{y2}\" stroke=\"#d62828\" stroke-width=\"2\" \
             fill=\"none\" marker-end=\"url(#arrow)\"><title>{}</title></path>",
            escape(what)
        );
    }
    out.push_str("</svg>\n");
}
