//! IAM's condition operators on one request: the `Condition` block of a statement
//! decided with three-valued logic (a match, no match, or "cannot tell" when the key
//! is one Rolehop cannot know), and IAM's `*`/`?` wildcards.
//!
//! Operators and keys are ANDed, a key's values ORed (NORed for negated operators). A
//! key missing from the request makes a condition false, except for negated operators
//! (unless `ForAnyValue:`), `...IfExists`, `Null` and `ForAllValues:`. An operator IAM
//! does not document, or a policy variable the request does not know, makes it
//! "cannot tell". String and ARN values have their policy variables substituted
//! ([`crate::pattern`]); ARNs are matched part by part.

use chrono::{DateTime, Utc};

use crate::document::{Conditions, ValueList};
use crate::pattern::Pattern;
pub use crate::pattern::glob;
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
    variables: bool,
    unmet: &mut Vec<Unmet>,
    unknown: &mut Vec<String>,
) -> Tri {
    let mut all = Tri::Yes;
    for (operator, keys) in c {
        for (key, values) in keys {
            let actual = ctx.lookup(key);
            let t = match condition(operator, &actual, values, ctx, variables) {
                Ok(t) => t,
                Err(why) => {
                    unknown.push(why);
                    Tri::Unknown
                }
            };
            if t == Tri::Unknown && !matches!(actual, Lookup::Value(_) | Lookup::Absent) {
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

/// An operator split into its set qualifier, its base and `IfExists`.
struct Operator<'a> {
    for_all: bool,
    for_any: bool,
    if_exists: bool,
    base: &'a str,
}

impl<'a> Operator<'a> {
    /// `None` for an operator IAM does not document.
    fn parse(operator: &'a str) -> Option<Self> {
        let (for_all, for_any, op) = if let Some(rest) = operator.strip_prefix("ForAllValues:") {
            (true, false, rest)
        } else if let Some(rest) = operator.strip_prefix("ForAnyValue:") {
            (false, true, rest)
        } else {
            (false, false, operator)
        };
        let (if_exists, base) = match op.strip_suffix("IfExists") {
            Some(b) if b != "Null" => (true, b),
            _ => (false, op),
        };
        OPERATORS.contains(&base).then_some(Self {
            for_all,
            for_any,
            if_exists,
            base,
        })
    }
}

/// Every base operator IAM documents (the condition operators page).
const OPERATORS: [&str; 27] = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

/// One operator on one key: `Err` names what Rolehop cannot know or evaluate.
fn condition(
    operator: &str,
    actual: &Lookup,
    wanted: &ValueList,
    ctx: &RequestContext,
    variables: bool,
) -> Result<Tri, String> {
    let Some(op) = Operator::parse(operator) else {
        return Err(format!("the operator {operator}"));
    };
    let base = op.base;
    let value = match actual {
        Lookup::Unknown => return Ok(Tri::Unknown),
        Lookup::Absent => {
            if base == "Null" {
                return Ok(Tri::from(
                    wanted.iter().any(|w| w.eq_ignore_ascii_case("true")),
                ));
            }
            // ForAllValues holds over an empty set; ForAnyValue needs one value, even
            // with a negated operator.
            return Ok(Tri::from(
                op.if_exists || op.for_all || (negated(base) && !op.for_any),
            ));
        }
        Lookup::Value(v) => v.as_str(),
    };
    if base == "Null" {
        return Ok(Tri::from(
            wanted.iter().any(|w| w.eq_ignore_ascii_case("false")),
        ));
    }
    let positive = positive_of(base);
    let mut any = false;
    for w in wanted.iter() {
        let hit = match positive {
            "StringEquals" | "StringEqualsIgnoreCase" | "StringLike" | "ArnEquals" | "ArnLike" => {
                let pattern = Pattern::resolve(w, ctx, variables)
                    .map_err(|v| format!("the policy variable {}", v.0))?;
                match positive {
                    "StringEquals" => pattern.literal() == value,
                    "StringEqualsIgnoreCase" => pattern.literal().eq_ignore_ascii_case(value),
                    "StringLike" => pattern.matches(value, false),
                    // ArnEquals and ArnLike behave alike: part by part, with wildcards.
                    _ => pattern.matches_arn(value),
                }
            }
            "Bool" => value.eq_ignore_ascii_case(w),
            // An unparsable number or date in the policy matches nothing.
            "NumericEquals" => numbers(value, w).is_some_and(|(a, b)| a == b),
            "NumericLessThan" => numbers(value, w).is_some_and(|(a, b)| a < b),
            "NumericLessThanEquals" => numbers(value, w).is_some_and(|(a, b)| a <= b),
            "NumericGreaterThan" => numbers(value, w).is_some_and(|(a, b)| a > b),
            "NumericGreaterThanEquals" => numbers(value, w).is_some_and(|(a, b)| a >= b),
            "DateEquals" => dates(value, w).is_some_and(|(a, b)| a == b),
            "DateLessThan" => dates(value, w).is_some_and(|(a, b)| a < b),
            "DateLessThanEquals" => dates(value, w).is_some_and(|(a, b)| a <= b),
            "DateGreaterThan" => dates(value, w).is_some_and(|(a, b)| a > b),
            "DateGreaterThanEquals" => dates(value, w).is_some_and(|(a, b)| a >= b),
            // BinaryEquals and IpAddress on a key Rolehop knows: not evaluated.
            other => return Err(format!("the operator {other} on {value:?}")),
        };
        any |= hit;
    }
    Ok(Tri::from(if negated(base) { !any } else { any }))
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

fn numbers(value: &str, wanted: &str) -> Option<(f64, f64)> {
    Some((value.trim().parse().ok()?, wanted.trim().parse().ok()?))
}

fn dates(value: &str, wanted: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((date(value)?, date(wanted)?))
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
