//! A SAML 2.0 response as an identity provider posts it to AWS (`SAMLResponse`, base64
//! XML), read for what Rolehop needs before it calls `AssumeRoleWithSAML`: the role and
//! provider pairs of `https://aws.amazon.com/SAML/Attributes/Role`, `RoleSessionName`,
//! `SessionDuration`, the audiences, the expiry and whether it carries a signature.
//!
//! The checks here refuse locally, before anything changes, what AWS would refuse
//! anyway, with an error that names the fault. The signature itself is verified by AWS
//! against the provider's metadata: checking it here would need the provider's
//! certificate, which Rolehop does not hold, so only its presence is checked.
//!
//! The response is a secret (it is a bearer credential until it expires): it is never
//! printed, logged, stored or put in an error; errors name roles, providers, audiences
//! and times only.

use chrono::{DateTime, Utc};
use quick_xml::events::{BytesStart, Event};
use zeroize::Zeroizing;

use crate::validate::ValidationError;

/// The attribute listing the roles the person may take, as `ROLE_ARN,PROVIDER_ARN`
/// pairs (either order).
pub const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
/// The attribute naming the role session.
pub const ROLE_SESSION_NAME_ATTRIBUTE: &str =
    "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
/// The attribute capping the session's lifetime, seconds.
pub const SESSION_DURATION_ATTRIBUTE: &str =
    "https://aws.amazon.com/SAML/Attributes/SessionDuration";
/// The audience AWS requires (its SAML service provider's entity id).
pub const AWS_AUDIENCE: &str = "urn:amazon:webservices";
/// The largest response Rolehop reads (real ones are a few KiB to a few tens of KiB;
/// AWS itself limits the encoded assertion to 100,000 characters).
pub const MAX_RESPONSE_BYTES: usize = 100_000;

/// The field every error of this module names.
const FIELD: &str = "assertion";

/// A role the response lets its holder take, with the provider that vouches for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RolePair {
    /// `arn:aws:iam::123456789012:role/Name`.
    pub role_arn: String,
    /// `arn:aws:iam::123456789012:saml-provider/Name`.
    pub principal_arn: String,
}

/// A SAML response read, its base64 text kept for STS. Its `Debug` shows no secret.
pub struct SamlResponse {
    encoded: Zeroizing<String>,
    /// Every pair the Role attribute lists, in its order.
    pub roles: Vec<RolePair>,
    /// `RoleSessionName`, when given.
    pub role_session_name: Option<String>,
    /// `SessionDuration` in seconds, when given.
    pub session_duration: Option<u32>,
    /// The audiences of the assertion's conditions.
    pub audiences: Vec<String>,
    /// The earliest `NotOnOrAfter` of its conditions and subject confirmation.
    pub not_on_or_after: Option<DateTime<Utc>>,
    /// Whether the response or its assertion carries an XML signature.
    pub signed: bool,
}

impl std::fmt::Debug for SamlResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamlResponse")
            .field("roles", &self.roles)
            .field("session_duration", &self.session_duration)
            .field("not_on_or_after", &self.not_on_or_after)
            .field("signed", &self.signed)
            .finish_non_exhaustive()
    }
}

fn refuse(message: impl Into<String>) -> ValidationError {
    ValidationError::new(FIELD, message)
}

impl SamlResponse {
    /// Reads a `SAMLResponse` as posted to AWS: base64 (whitespace ignored) of a SAML
    /// 2.0 `Response` holding one assertion. Refuses one that is not that, is not
    /// signed, answers a failure status, holds its assertion encrypted (only AWS can
    /// read it), or lists no role.
    pub fn parse(posted: &str) -> Result<Self, ValidationError> {
        let encoded: Zeroizing<String> = Zeroizing::new(
            posted
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect(),
        );
        if encoded.is_empty() {
            return Err(refuse(
                "is empty: give the SAMLResponse the provider posted",
            ));
        }
        if encoded.len() > MAX_RESPONSE_BYTES {
            return Err(refuse(format!(
                "is {} characters long; AWS accepts at most {MAX_RESPONSE_BYTES}",
                encoded.len()
            )));
        }
        use base64::Engine as _;
        let xml = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .map(Zeroizing::new)
            .map_err(|_| refuse("is not base64 (the SAMLResponse form field, as posted)"))?;
        let xml = std::str::from_utf8(&xml)
            .map_err(|_| refuse("is not a SAML response: its XML is not UTF-8"))?;
        let read = Reading::of(xml)?;
        read.into_response(encoded)
    }

    /// The base64 text, for `AssumeRoleWithSAML` only.
    pub(crate) fn encoded(&self) -> &str {
        &self.encoded
    }

    /// Whether AWS would take this response for `role_arn` through `principal_arn` at
    /// `now`: meant for AWS, not expired, and listing that very pair. The error says
    /// what is wrong.
    pub fn check_for(
        &self,
        role_arn: &str,
        principal_arn: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ValidationError> {
        self.check_current(now)?;
        let listed: Vec<&RolePair> = self
            .roles
            .iter()
            .filter(|p| p.role_arn == role_arn)
            .collect();
        if listed.is_empty() {
            let roles: Vec<String> = self.roles.iter().map(|p| p.role_arn.clone()).collect();
            return Err(refuse(format!(
                "does not list role {role_arn}; it lists {}",
                quoted(&roles)
            )));
        }
        if !listed.iter().any(|p| p.principal_arn == principal_arn) {
            let providers: Vec<String> = listed.iter().map(|p| p.principal_arn.clone()).collect();
            return Err(refuse(format!(
                "lists role {role_arn} with provider {}, not {principal_arn}",
                quoted(&providers)
            )));
        }
        Ok(())
    }

    /// Whether AWS would take this response at `now` at all: meant for AWS and not
    /// expired. The error says what is wrong.
    pub fn check_current(&self, now: DateTime<Utc>) -> Result<(), ValidationError> {
        if !self.audiences.iter().any(|a| is_aws_audience(a)) {
            let named = if self.audiences.is_empty() {
                "names no audience".to_owned()
            } else {
                format!("is for audience {}", quoted(&self.audiences))
            };
            return Err(refuse(format!(
                "{named}, not AWS's ({AWS_AUDIENCE}): the provider's AWS app is misconfigured"
            )));
        }
        if let Some(end) = self.not_on_or_after
            && now >= end
        {
            return Err(refuse(format!(
                "expired at {} (NotOnOrAfter): sign in again for a fresh one",
                end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )));
        }
        Ok(())
    }
}

/// `urn:amazon:webservices`, or an AWS sign-in endpoint's `/saml` URL (AWS accepts its
/// regional, GovCloud and China endpoints as audiences too).
fn is_aws_audience(audience: &str) -> bool {
    if audience == AWS_AUDIENCE {
        return true;
    }
    // AWS checks the audience as a URL of its `/saml` path exactly.
    super::endpoint::is_aws_saml_endpoint(audience)
        && url::Url::parse(audience).is_ok_and(|u| u.path() == "/saml")
}

fn quoted(items: &[String]) -> String {
    items.join(", ")
}

/// What a pass over the XML found.
#[derive(Default)]
struct Reading {
    assertions: usize,
    encrypted: bool,
    signed: bool,
    status: Option<String>,
    audiences: Vec<String>,
    not_on_or_after: Option<DateTime<Utc>>,
    /// (attribute name, its values)
    attributes: Vec<(String, Vec<String>)>,
}

impl Reading {
    fn of(xml: &str) -> Result<Self, ValidationError> {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut stack: Vec<String> = Vec::new();
        let mut read = Reading::default();
        let mut text: Option<String> = None;
        let bad_xml = |e: &dyn std::fmt::Display| {
            refuse(format!(
                "is not a SAML response: its XML does not parse ({e})"
            ))
        };
        loop {
            let event = reader.read_event().map_err(|e| bad_xml(&e))?;
            match event {
                Event::Start(e) => {
                    read.open(&e, &stack)?;
                    stack.push(local(&e));
                    if matches!(
                        stack.last().map(String::as_str),
                        Some("AttributeValue" | "Audience")
                    ) {
                        text = Some(String::new());
                    }
                }
                Event::Empty(e) => {
                    read.open(&e, &stack)?;
                    if local(&e) == "AttributeValue" {
                        read.value(String::new());
                    }
                }
                Event::Text(t) => {
                    if let Some(buf) = text.as_mut() {
                        buf.push_str(&t.xml10_content());
                    }
                }
                Event::CData(t) => {
                    if let Some(buf) = text.as_mut() {
                        buf.push_str(&t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(buf) = text.as_mut() {
                        let entity = format!("&{};", r.xml10_content());
                        let resolved =
                            quick_xml::escape::unescape(&entity).map_err(|e| bad_xml(&e))?;
                        buf.push_str(&resolved);
                    }
                }
                Event::End(_) => {
                    let closed = stack.pop().unwrap_or_default();
                    if let Some(buf) =
                        text.take_if(|_| matches!(closed.as_str(), "AttributeValue" | "Audience"))
                    {
                        let value = buf.trim().to_owned();
                        if closed == "Audience" {
                            read.audiences.push(value);
                        } else {
                            read.value(value);
                        }
                    }
                }
                Event::DocType(_) => {
                    // Entities declared in a DTD are how XML bombs work; SAML has none.
                    return Err(refuse("is not a SAML response: it declares a DTD"));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(read)
    }

    /// Notes what an opening tag says, given the tags it is inside.
    fn open(&mut self, e: &BytesStart<'_>, stack: &[String]) -> Result<(), ValidationError> {
        let name = local(e);
        let parent = stack.last().map(String::as_str);
        match name.as_str() {
            "Response" if stack.is_empty() => {}
            _ if stack.is_empty() => {
                return Err(refuse(format!(
                    "is not a SAML response: its root element is <{name}>, not <Response>"
                )));
            }
            "Assertion" if parent == Some("Response") => self.assertions += 1,
            "EncryptedAssertion" => self.encrypted = true,
            "Signature" if matches!(parent, Some("Response" | "Assertion")) => self.signed = true,
            "StatusCode" if parent == Some("Status") => {
                self.status = attribute(e, "Value")?;
            }
            "Conditions" | "SubjectConfirmationData" => {
                if let Some(at) = attribute(e, "NotOnOrAfter")? {
                    let at = DateTime::parse_from_rfc3339(&at)
                        .map_err(|_| {
                            refuse(format!("has a NotOnOrAfter that is not a time: '{at}'"))
                        })?
                        .with_timezone(&Utc);
                    self.not_on_or_after = Some(self.not_on_or_after.map_or(at, |t| t.min(at)));
                }
            }
            "Attribute" if parent == Some("AttributeStatement") => {
                let attr = attribute(e, "Name")?.unwrap_or_default();
                self.attributes.push((attr, Vec::new()));
            }
            _ => {}
        }
        Ok(())
    }

    fn value(&mut self, value: String) {
        if let Some((_, values)) = self.attributes.last_mut() {
            values.push(value);
        }
    }

    fn values(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    fn into_response(self, encoded: Zeroizing<String>) -> Result<SamlResponse, ValidationError> {
        if let Some(status) = &self.status
            && !status.ends_with(":Success")
        {
            return Err(refuse(format!(
                "reports a failed sign-in (status {status})"
            )));
        }
        if self.assertions == 0 {
            return Err(refuse(if self.encrypted {
                "holds an encrypted assertion, which only AWS can read: turn off assertion \
                 encryption for the AWS app, or let the provider's page post to AWS"
            } else {
                "holds no assertion"
            }));
        }
        if !self.signed {
            return Err(refuse("is not signed: AWS takes only signed assertions"));
        }
        let Some(values) = self.values(ROLE_ATTRIBUTE) else {
            return Err(refuse(format!(
                "has no Role attribute ({ROLE_ATTRIBUTE}): the provider grants no AWS role"
            )));
        };
        let mut roles = Vec::with_capacity(values.len());
        for (i, value) in values.iter().enumerate() {
            roles.push(role_pair(value).ok_or_else(|| {
                refuse(format!(
                    "has a Role value (number {}) that is not a role ARN and a SAML provider ARN \
                     separated by a comma",
                    i + 1
                ))
            })?);
        }
        if roles.is_empty() {
            return Err(refuse(format!(
                "has an empty Role attribute ({ROLE_ATTRIBUTE})"
            )));
        }
        let role_session_name = self
            .values(ROLE_SESSION_NAME_ATTRIBUTE)
            .and_then(|v| v.first())
            .cloned();
        let session_duration = match self
            .values(SESSION_DURATION_ATTRIBUTE)
            .and_then(|v| v.first())
        {
            None => None,
            Some(v) => Some(
                v.parse::<u32>()
                    .ok()
                    .filter(|s| (900..=43_200).contains(s))
                    .ok_or_else(|| {
                        refuse(format!(
                            "has a SessionDuration of '{v}'; AWS takes 900–43200 seconds"
                        ))
                    })?,
            ),
        };
        Ok(SamlResponse {
            encoded,
            roles,
            role_session_name,
            session_duration,
            audiences: self.audiences,
            not_on_or_after: self.not_on_or_after,
            signed: self.signed,
        })
    }
}

/// `ROLE,PROVIDER` or `PROVIDER,ROLE`, each checked as the IAM ARN it must be.
fn role_pair(value: &str) -> Option<RolePair> {
    let (a, b) = value.split_once(',')?;
    let (a, b) = (a.trim(), b.trim());
    let (role, provider) = if a.contains(":saml-provider/") {
        (b, a)
    } else {
        (a, b)
    };
    crate::validate::role_arn("role", role).ok()?;
    crate::validate::saml_provider_arn("provider", provider).ok()?;
    Some(RolePair {
        role_arn: role.to_owned(),
        principal_arn: provider.to_owned(),
    })
}

fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_owned()
}

fn attribute(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, ValidationError> {
    for attr in e.attributes() {
        let attr =
            attr.map_err(|_| refuse("is not a SAML response: an attribute does not parse"))?;
        if attr.key.local_name().as_ref() == name {
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|_| refuse("is not a SAML response: an attribute does not parse"))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
