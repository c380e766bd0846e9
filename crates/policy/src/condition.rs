//! IAM's condition operators on one request: the `Condition` block of a statement
//! decided with three-valued logic (a match, no match, or "cannot tell" when the key
//! is one Rolehop cannot know), and IAM's `*`/`?` wildcards.
//!
//! Operators and keys are ANDed, a key's values ORed (NORed for negated operators). A
//! key missing from the request makes a condition false, except for negated operators
//! (unless `ForAnyValue:`), `...IfExists`, `Null` and `ForAllValues:`.

use chrono::{DateTime, Utc};

use crate::document::Conditions;
use crate::request::{Lookup, RequestContext};

/// Three-valued truth: a match, no match, or "cannot tell".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri {
    Yes,
    No,
    Unknown,
}

impl Tri {
    pub(crate) fn from(b: bool) -> Self {
        if b { Tri::Yes } else { Tri::No }
    }
    pub(crate) fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
            _ => Tri::Yes,
        }
    }
    pub(crate) fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
            _ => Tri::No,
        }
    }
    pub(crate) fn not(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

/// A condition that did not hold, for the "missing" sentences.
#[derive(Debug, Clone)]
pub(crate) struct Unmet {
    pub(crate) operator: String,
    pub(crate) key: String,
    pub(crate) wanted: Vec<String>,
    pub(crate) actual: Option<String>,
}

pub(crate) fn conditions_hold(
    c: &Conditions,
    ctx: &RequestContext,
    unmet: &mut Vec<Unmet>,
    unknown: &mut Vec<String>,
) -> Tri {
    let mut all = Tri::Yes;
    for (operator, keys) in c {
        for (key, values) in keys {
            let wanted: Vec<&str> = values.iter().collect();
            let actual = ctx.lookup(key);
            let t = condition(operator, &actual, &wanted);
            if t == Tri::Unknown {
                unknown.push(key.clone());
            }
            if t == Tri::No {
                unmet.push(Unmet {
                    operator: operator.clone(),
                    key: key.clone(),
                    wanted: values.0.clone(),
                    actual: match actual {
                        Lookup::Value(v) => Some(v),
                        _ => None,
                    },
                });
            }
            all = all.and(t);
        }
    }
    all
}

/// One operator on one key.
fn condition(operator: &str, actual: &Lookup, wanted: &[&str]) -> Tri {
    let (for_all, for_any, op) = if let Some(rest) = operator.strip_prefix("ForAllValues:") {
        (true, false, rest)
    } else if let Some(rest) = operator.strip_prefix("ForAnyValue:") {
        (false, true, rest)
    } else {
        (false, false, operator)
    };
    let (if_exists, base) = match op.strip_suffix("IfExists") {
        Some(b) => (true, b),
        None => (false, op),
    };
    let value = match actual {
        Lookup::Unknown => return Tri::Unknown,
        Lookup::Absent => {
            if base == "Null" {
                return Tri::from(wanted.iter().any(|w| w.eq_ignore_ascii_case("true")));
            }
            // ForAllValues holds over an empty set; ForAnyValue needs one value, even
            // with a negated operator.
            return Tri::from(if_exists || for_all || (negated(base) && !for_any));
        }
        Lookup::Value(v) => v.as_str(),
    };
    if base == "Null" {
        return Tri::from(wanted.iter().any(|w| w.eq_ignore_ascii_case("false")));
    }
    let positive = positive_of(base);
    let test = |w: &str| -> Option<bool> {
        Some(match positive {
            "StringEquals" => value == w,
            "StringEqualsIgnoreCase" => value.eq_ignore_ascii_case(w),
            "StringLike" => glob(w, value, false),
            "Bool" => value.eq_ignore_ascii_case(w),
            "ArnEquals" | "ArnLike" => glob(w, value, false),
            "NumericEquals" => number(value)? == number(w)?,
            "NumericLessThan" => number(value)? < number(w)?,
            "NumericLessThanEquals" => number(value)? <= number(w)?,
            "NumericGreaterThan" => number(value)? > number(w)?,
            "NumericGreaterThanEquals" => number(value)? >= number(w)?,
            "DateEquals" => date(value)? == date(w)?,
            "DateLessThan" => date(value)? < date(w)?,
            "DateLessThanEquals" => date(value)? <= date(w)?,
            "DateGreaterThan" => date(value)? > date(w)?,
            "DateGreaterThanEquals" => date(value)? >= date(w)?,
            // BinaryEquals, IpAddress and operators IAM may add: not evaluated.
            _ => return None,
        })
    };
    let mut any = false;
    for w in wanted {
        match test(w) {
            Some(true) => any = true,
            Some(false) => {}
            None if known_operator(positive) => {} // an unparsable value matches nothing
            None => return Tri::Unknown,
        }
    }
    Tri::from(if negated(base) { !any } else { any })
}

const NEGATED: [(&str, &str); 8] = [
    ("StringNotEquals", "StringEquals"),
    ("StringNotEqualsIgnoreCase", "StringEqualsIgnoreCase"),
    ("StringNotLike", "StringLike"),
    ("NumericNotEquals", "NumericEquals"),
    ("DateNotEquals", "DateEquals"),
    ("ArnNotEquals", "ArnEquals"),
    ("ArnNotLike", "ArnLike"),
    ("NotIpAddress", "IpAddress"),
];

fn negated(op: &str) -> bool {
    NEGATED.iter().any(|(n, _)| *n == op)
}

fn positive_of(op: &str) -> &str {
    NEGATED
        .iter()
        .find(|(n, _)| *n == op)
        .map(|(_, p)| *p)
        .unwrap_or(op)
}

fn known_operator(op: &str) -> bool {
    op.starts_with("Numeric") || op.starts_with("Date")
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse().ok()
}

/// ISO 8601 (what policies write) or epoch seconds (`aws:EpochTime`).
fn date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return DateTime::from_timestamp(secs, 0);
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

/// IAM's wildcards: `*` any run, `?` any one character.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let eq = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
