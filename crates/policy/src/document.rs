//! The IAM policy document as JSON has it, parsed and written back by serde.
//!
//! The grammar's looseness is absorbed here once: `Statement` is one object or an
//! array, most fields are a string or an array of strings, `Principal` is `"*"` or a
//! map, and condition values may be strings, booleans or numbers. Unknown fields are
//! refused with their name, as IAM refuses them. Checked against crates.io: the
//! `aws-iam` crate is unmaintained and `scratchstack-aspen` brings its own ARN and
//! evaluation model; the grammar is small enough that serde covers it exactly.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The policy language version every generated document declares.
pub const POLICY_VERSION: &str = "2012-10-17";

/// A policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(rename = "Id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "Statement", with = "one_or_many_statements")]
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    /// A 2012-10-17 document of these statements.
    pub fn new(statement: Vec<Statement>) -> Self {
        Self {
            version: Some(POLICY_VERSION.to_owned()),
            id: None,
            statement,
        }
    }

    /// Parses a document; the error names the field at fault.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        serde_json::from_str(text).map_err(|e| PolicyError(e.to_string()))
    }

    /// Parses what `iam:GetRole` returns: the document, URL-encoded by IAM's query API
    /// (the SDKs hand it over still encoded), or plain JSON.
    pub fn parse_from_iam(text: &str) -> Result<Self, PolicyError> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            return Self::parse(trimmed);
        }
        Self::parse(&percent_decode(trimmed))
    }
}

/// A policy that does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid IAM policy document: {0}")]
pub struct PolicyError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// Condition operator → context key → values (ORed for one key).
pub type Conditions = BTreeMap<String, BTreeMap<String, ValueList>>;

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[serde(rename = "Sid", default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(rename = "Effect")]
    pub effect: Effect,
    #[serde(rename = "Principal", default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    #[serde(
        rename = "NotPrincipal",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub not_principal: Option<Principal>,
    #[serde(rename = "Action", default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ValueList>,
    #[serde(rename = "NotAction", default, skip_serializing_if = "Option::is_none")]
    pub not_action: Option<ValueList>,
    #[serde(rename = "Resource", default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ValueList>,
    #[serde(
        rename = "NotResource",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub not_resource: Option<ValueList>,
    #[serde(rename = "Condition", default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Conditions>,
}

impl Statement {
    /// An Allow statement with nothing but its effect; fill in the rest.
    pub fn allow() -> Self {
        Self {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            not_principal: None,
            action: None,
            not_action: None,
            resource: None,
            not_resource: None,
            condition: None,
        }
    }
}

/// `"*"` or a map such as `{"AWS": [...], "Service": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anyone,
    Map(BTreeMap<String, ValueList>),
}

impl Principal {
    /// `{"AWS": arn}`.
    pub fn aws(arn: &str) -> Self {
        Self::Map(BTreeMap::from([("AWS".to_owned(), ValueList::one(arn))]))
    }

    /// The `AWS` entries (`*` for [`Principal::Anyone`]).
    pub fn aws_entries(&self) -> Vec<&str> {
        match self {
            Principal::Anyone => vec!["*"],
            Principal::Map(map) => map
                .get("AWS")
                .map(|v| v.0.iter().map(String::as_str).collect())
                .unwrap_or_default(),
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Principal::Anyone => s.serialize_str("*"),
            Principal::Map(map) => map.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Map(BTreeMap<String, ValueList>),
        }
        match Raw::deserialize(d)? {
            Raw::Text(t) if t == "*" => Ok(Principal::Anyone),
            Raw::Text(t) => Err(serde::de::Error::custom(format!(
                "Principal must be \"*\" or a map such as {{\"AWS\": ...}}, not \"{t}\""
            ))),
            Raw::Map(m) => Ok(Principal::Map(m)),
        }
    }
}

/// A string or an array of strings (booleans and numbers read as their text).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValueList(pub Vec<String>);

impl ValueList {
    pub fn one(value: &str) -> Self {
        Self(vec![value.to_owned()])
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl Serialize for ValueList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ValueList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Scalar {
            Text(String),
            Bool(bool),
            Number(serde_json::Number),
        }
        impl Scalar {
            fn text(self) -> String {
                match self {
                    Scalar::Text(t) => t,
                    Scalar::Bool(b) => b.to_string(),
                    Scalar::Number(n) => n.to_string(),
                }
            }
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(Scalar),
            Many(Vec<Scalar>),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::One(s) => ValueList(vec![s.text()]),
            Raw::Many(v) => ValueList(v.into_iter().map(Scalar::text).collect()),
        })
    }
}

mod one_or_many_statements {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Statement;

    pub fn serialize<S: Serializer>(v: &[Statement], s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Statement>, D::Error> {
        // Read as a value first: an untagged enum would hide the inner error (which
        // names the field at fault) behind "did not match any variant".
        let value = serde_json::Value::deserialize(d)?;
        if value.is_array() {
            Vec::<Statement>::deserialize(value).map_err(serde::de::Error::custom)
        } else {
            Statement::deserialize(value)
                .map(|s| vec![s])
                .map_err(serde::de::Error::custom)
        }
    }
}

/// Decodes `%XX` escapes and `+` (IAM returns policy documents URL-encoded).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_statement_and_scalar_fields_parse_like_arrays() {
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow",
               "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole",
               "Condition":{"Bool":{"aws:MultiFactorAuthPresent":true},
                            "NumericLessThan":{"aws:MultiFactorAuthAge":3600}}}}"#,
        )
        .unwrap();
        assert_eq!(doc.statement.len(), 1);
        let s = &doc.statement[0];
        assert_eq!(
            s.principal.as_ref().unwrap().aws_entries(),
            ["arn:aws:iam::111122223333:root"]
        );
        let c = s.condition.as_ref().unwrap();
        assert_eq!(c["Bool"]["aws:MultiFactorAuthPresent"].0, ["true"]);
        assert_eq!(c["NumericLessThan"]["aws:MultiFactorAuthAge"].0, ["3600"]);
    }

    #[test]
    fn principal_star_and_arrays_round_trip() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","NotAction":["sts:AssumeRole","sts:TagSession"]}]}"#;
        let doc = PolicyDocument::parse(text).unwrap();
        assert_eq!(doc.statement[0].principal, Some(Principal::Anyone));
        assert_eq!(serde_json::to_string(&doc).unwrap(), text);
    }

    #[test]
    fn unknown_fields_and_bad_principals_are_refused_by_name() {
        let err = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Allow","Principals":{"AWS":"*"},"Action":"*"}]}"#,
        )
        .unwrap_err();
        assert!(err.0.contains("Principals"), "{err}");
        let err = PolicyDocument::parse(
            r#"{"Statement":{"Effect":"Allow","Principal":"everyone","Action":"*"}}"#,
        )
        .unwrap_err();
        assert!(err.0.contains("Principal"), "{err}");
        assert!(PolicyDocument::parse(r#"{"Statement":[{"Effect":"Maybe"}]}"#).is_err());
    }

    #[test]
    fn documents_from_get_role_are_url_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A123456789012%3Aroot%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        let doc = PolicyDocument::parse_from_iam(encoded).unwrap();
        assert_eq!(
            doc.statement[0].principal.as_ref().unwrap().aws_entries(),
            ["arn:aws:iam::123456789012:root"]
        );
        assert!(PolicyDocument::parse_from_iam(r#"{"Statement":[]}"#).is_ok());
    }
}
