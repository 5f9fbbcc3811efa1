//! Cost over time as an SVG stacked bar chart, drawn by plotters' SVG backend when the
//! report is made: the page shows it without JavaScript. Text is plotters' own `<text>`
//! (escaped by the backend); the page's CSS colours it for the light and dark schemes.

use plotters::prelude::*;

/// The colours of the stacks, in order of the series; the last one is for `(other)`.
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#8c8c8c",
];

fn rgb(hex: &str) -> RGBColor {
    let byte = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(128)
    };
    RGBColor(byte(1), byte(3), byte(5))
}

/// One bar per bucket (labelled below it), each the stack of its series' values in
/// series order, coloured `PALETTE[series index]`. An SVG document, or why not.
pub fn stacked_bars(
    buckets: &[String],
    series: &[Vec<f64>],
    width: u32,
    height: u32,
) -> Result<String, String> {
    let n = buckets.len().max(1);
    let totals: Vec<f64> = (0..n)
        .map(|i| {
            series
                .iter()
                .map(|s| s.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().fold(0.0_f64, f64::max);
    // An axis needs a height: a report of free calls still draws one.
    let top = if max > 0.0 && max.is_finite() {
        max * 1.08
    } else {
        1.0
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(78)
            .build_cartesian_2d((0..n).into_segmented(), 0.0..top)
            .map_err(|e| e.to_string())?;
        // A label per bucket up to 12; past that plotters spaces them out.
        let label = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => buckets.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let dollars = |y: &f64| {
            if top < 0.01 {
                format!("${y:.5}")
            } else if top < 10.0 {
                format!("${y:.3}")
            } else {
                format!("${y:.0}")
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.min(12))
            .y_labels(6)
            .x_label_formatter(&label)
            .y_label_formatter(&dollars)
            .light_line_style(RGBColor(128, 128, 128).mix(0.15))
            .bold_line_style(RGBColor(128, 128, 128).mix(0.3))
            .axis_style(RGBColor(128, 128, 128))
            .label_style(("sans-serif", 12).into_font())
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, s) in series.iter().enumerate() {
            let color = rgb(PALETTE[k.min(PALETTE.len() - 1)]);
            let bars = (0..n).filter_map(|i| {
                let v = s.get(i).copied().unwrap_or(0.0);
                if v <= 0.0 || !v.is_finite() {
                    return None;
                }
                let base: f64 = series[..k]
                    .iter()
                    .map(|p| p.get(i).copied().unwrap_or(0.0))
                    .sum();
                let mut r = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), base),
                        (SegmentValue::Exact(i + 1), base + v),
                    ],
                    color.filled(),
                );
                r.set_margin(0, 0, 2, 2);
                Some(r)
            });
            chart.draw_series(bars).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rect_per_nonzero_value_and_labels_escaped_by_the_backend() {
        let buckets = vec!["2026-01-01".to_string(), "<b>".to_string()];
        let svg = stacked_bars(&buckets, &[vec![1.0, 2.0], vec![0.0, 0.5]], 400, 200).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;"));
        let filled = |c: &str| svg.matches(&format!("fill=\"{c}\"")).count();
        assert_eq!(filled("#4E79A7") + filled("#4e79a7"), 2, "{svg}");
        assert_eq!(filled("#F28E2B") + filled("#f28e2b"), 1);
    }

    #[test]
    fn no_bucket_and_no_cost_still_draw_an_axis() {
        assert!(stacked_bars(&[], &[], 300, 150).unwrap().contains("<svg"));
        assert!(
            stacked_bars(&["a".into()], &[vec![0.0]], 300, 150)
                .unwrap()
                .contains("<svg")
        );
    }
}
