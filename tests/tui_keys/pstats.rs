//! pstats: calls, and the oracle pstats itself wrote.

use super::*;

#[test]
fn sandwich_shows_pstats_numbers_and_calls() {
    let (total, mut functions) = pstats_oracle();
    // Wide enough for the longest status line.
    let mut ui = Ui::open(&[common::fixture("program.prof")], 200, 40);
    ui.chars("3");
    functions.sort_by(|a, b| {
        b.self_time
            .total_cmp(&a.self_time)
            .then(b.total.total_cmp(&a.total))
            .then((&a.name, &a.file, a.line).cmp(&(&b.name, &b.file, b.line)))
    });
    let pct = |x: f64| format!("{:.1}", 100.0 * x / total);
    let width = usize::from(ui.app.sandwich.table_area.width);
    let rows: Vec<String> = ui.lines()[2..38]
        .iter()
        .map(|l| {
            l.chars()
                .take(width)
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect();
    // Calls as pstats prints them, `nc/cc` where some were recursive; the place from the
    // library directory or the program's, none for a built-in (`~`).
    let calls = |f: &PstatsFunction| {
        if f.calls == f.primitive_calls {
            f.calls.to_string()
        } else {
            format!("{}/{}", f.calls, f.primitive_calls)
        }
    };
    let place = |f: &PstatsFunction| {
        if f.file == "~" {
            String::new()
        } else {
            format!("{}:{}", tui::short_place(&f.file), f.line)
        }
    };
    let columns = ui.app.sandwich.columns;
    let calls_width = functions.iter().map(|f| calls(f).len()).max().unwrap();
    assert_eq!(columns.calls, Some(calls_width), "the widest nc/cc");
    let expected: Vec<String> = functions[..36]
        .iter()
        .map(|f| {
            format!(
                "{:>6} {:>5} {:>6} {:>5} {:>calls_width$} {:<name$} {}",
                format!("{:.3}s", f.self_time),
                pct(f.self_time),
                format!("{:.3}s", f.total),
                pct(f.total),
                calls(f),
                cut(&f.name, columns.name),
                place(f),
                name = columns.name,
            )
            .trim_end()
            .to_owned()
        })
        .collect();
    assert_eq!(rows, expected);
    assert!(width > 0);
    for f in &functions[..12] {
        let place = place(f);
        assert_eq!(
            ui.status(),
            format!(
                "{} · self {:.3}s ({}%) · total {:.3}s ({}%) · {} calls{}",
                f.name,
                f.self_time,
                pct(f.self_time),
                f.total,
                pct(f.total),
                calls(f),
                if place.is_empty() {
                    String::new()
                } else {
                    format!(" · {place}")
                }
            )
        );
        ui.chars("j");
    }
    // Sorted by calls: most called first, ties by total.
    ui.chars("oo");
    assert!(ui.row(1).contains("calls▼"));
    let mut calls: Vec<u64> = functions.iter().map(|f| f.calls).collect();
    calls.sort_by(|a, b| b.cmp(a));
    let shown: Vec<u64> = table_rows(&ui)
        .iter()
        .map(|r| r.2.split('/').next().unwrap().parse().expect("calls"))
        .collect();
    assert_eq!(shown, calls[..36]);
}

#[test]
fn enter_in_priority_opens_apply_tax_for_pricing() {
    let (_, functions) = pstats_oracle();
    let mut ui = Ui::open(&[common::fixture("program.prof")], 120, 40);
    ui.chars("4");
    // The profile names shop/__init__.py, so pricing.py is known to sit in package `shop`.
    assert!(
        ui.status().starts_with("shop.pricing · "),
        "{}",
        ui.status()
    );
    let heaviest = functions
        .iter()
        .filter(|f| f.file.ends_with("/shop/pricing.py"))
        .max_by(|a, b| a.self_time.total_cmp(&b.self_time))
        .unwrap();
    ui.enter();
    assert_eq!(ui.app.pane, Pane::Sandwich);
    assert!(
        status_names(&ui.status(), &heaviest.name, &heaviest.file)
            && ui.status().ends_with(&format!(":{}", heaviest.line)),
        "{}",
        ui.status()
    );
}

#[test]
fn shift_h_enter_hides_library_frames_with_full_paths() {
    // pstats: library = every function outside the program (builtins `~`, the standard
    // library under /lib/python3.11, <frozen ...>).
    let (total, functions) = pstats_oracle();
    let hidden: f64 = functions
        .iter()
        .filter(|f| !is_program_file(&f.file) && f.file != "<string>")
        .map(|f| f.self_time)
        .sum();
    let mut ui = Ui::open(&[common::fixture("program.prof")], 120, 40);
    ui.chars("2H");
    ui.enter();
    let only_my_code = |share: f64| format!(" H only my code ({:.1}% to callers)", 100.0 * share);
    assert_badge(&ui, &only_my_code(hidden / total));
    // speedscope: the same, over samples.
    let path = common::fixture("program.speedscope.json");
    let tree = speedscope(&path)[0].tree();
    let hidden = library_self_weight(&tree);
    let mut ui = Ui::open(&[&path], 120, 40);
    ui.chars("2H");
    ui.enter();
    assert_badge(&ui, &only_my_code(hidden / tree.total));
    // What is left is the program's own frames only.
    ui.search("^_find_and_load$|^dumps$|encode");
    assert_eq!(search_summary(&ui).0, 0);
}
