//! Regression gates for CI: `obol diff --fail-above 5` fails when some function's share of the
//! total grew by more than five percentage points.

use super::diff::DiffRow;

/// How far a total share may grow, in percentage points, for every row or for one by name.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareLimit {
    /// `None`: every row.
    pub name: Option<String>,
    pub points: f64,
}

impl ShareLimit {
    /// `5`, `2.5%` or `NAME=5`. The name is split at the last `=`, so a name may hold one.
    pub fn parse(spec: &str) -> Result<ShareLimit, String> {
        let (name, number) = match spec.rsplit_once('=') {
            Some((name, number)) if !name.is_empty() => (Some(name.to_owned()), number),
            Some(_) => return Err(format!("`{spec}` names no function before `=`")),
            None => (None, spec),
        };
        let text = number.trim();
        let points = text
            .strip_suffix('%')
            .unwrap_or(text)
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite() && *p >= 0.0)
            .ok_or_else(|| {
                format!(
                    "`{number}` is not a number of percentage points ≥ 0 (as in `5` or `NAME=5`)"
                )
            })?;
        Ok(ShareLimit { name, points })
    }
}

/// A row whose total share grew past a limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    pub name: String,
    /// New total share minus base total share, in percentage points.
    pub grown_by: f64,
    pub limit: f64,
}

/// Whether a row goes by `name` on either side.
fn is_named(row: &DiffRow, name: &str) -> bool {
    row.name == name || row.new_function.as_ref().is_some_and(|f| f.name == name)
}

/// The rows over their limits, largest growth first. A limit for a name that no row has is an
/// error: a gate that can never fail is a typo, not a pass.
pub fn regressions(rows: &[DiffRow], limits: &[ShareLimit]) -> Result<Vec<Regression>, String> {
    for limit in limits {
        if let Some(name) = &limit.name
            && !rows.iter().any(|r| is_named(r, name))
        {
            return Err(format!("no function named `{name}` in either profile"));
        }
    }
    let mut found: Vec<Regression> = rows
        .iter()
        .filter_map(|row| {
            let grown_by = row.delta_total_share * 100.0;
            // The tightest limit that applies to the row decides.
            let limit = limits
                .iter()
                .filter(|l| l.name.as_deref().is_none_or(|n| is_named(row, n)))
                .map(|l| l.points)
                .reduce(f64::min)?;
            (grown_by > limit).then(|| Regression {
                name: row.name.clone(),
                grown_by,
                limit,
            })
        })
        .collect();
    found.sort_by(|a, b| b.grown_by.total_cmp(&a.grown_by));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::diff::Side;

    fn row(name: &str, delta: f64) -> DiffRow {
        let side = Some(Side {
            self_weight: 1.0,
            total_weight: 1.0,
            calls: None,
        });
        DiffRow {
            name: name.into(),
            file: None,
            line: None,
            base: side,
            new: side,
            delta_self_share: 0.0,
            delta_total_share: delta,
            matched_by: None,
            base_function: None,
            new_function: None,
        }
    }

    #[test]
    fn limits_parse() {
        assert_eq!(
            ShareLimit::parse("5").unwrap(),
            ShareLimit {
                name: None,
                points: 5.0
            }
        );
        assert_eq!(ShareLimit::parse("2.5%").unwrap().points, 2.5);
        let named = ShareLimit::parse("a=b=1").unwrap();
        assert_eq!((named.name.as_deref(), named.points), (Some("a=b"), 1.0));
        assert!(ShareLimit::parse("-1").is_err());
        assert!(ShareLimit::parse("=1").is_err());
        assert!(ShareLimit::parse("f=x").is_err());
    }

    #[test]
    fn growth_past_the_tightest_limit_fails() {
        let rows = [row("hot", 0.12), row("warm", 0.04), row("cool", -0.3)];
        let all = |p| ShareLimit {
            name: None,
            points: p,
        };
        let one = |n: &str, p| ShareLimit {
            name: Some(n.into()),
            points: p,
        };
        let names = |limits: &[ShareLimit]| -> Vec<String> {
            regressions(&rows, limits)
                .unwrap()
                .into_iter()
                .map(|r| r.name)
                .collect()
        };
        assert_eq!(names(&[all(5.0)]), ["hot"]);
        assert_eq!(names(&[all(15.0)]), Vec::<String>::new());
        assert_eq!(names(&[all(15.0), one("warm", 3.0)]), ["warm"]);
        assert_eq!(names(&[one("hot", 1.0)]), ["hot"]);
        assert!(regressions(&rows, &[one("nothing", 1.0)]).is_err());
    }
}
