//! The `signin` service of `aws login` console sessions: the token such a session
//! holds ([`LoginToken`], in the AWS CLI's cache-file format) and its refresh,
//! `CreateOAuth2Token` with `grant_type=refresh_token` through aws-sdk-signin under the
//! policy of every AWS client ([`crate`]: `AWS_ENDPOINT_URL_SIGNIN`, https or loopback
//! http, stated retries and timeouts).
//!
//! A session also begins here: the browser sign-in `aws login` runs (the AWS CLI's
//! `awscli/customizations/login`): the person's browser opens the service's
//! `/v1/authorize` ([`SigninClient::authorize_url`]) with a `state` and a PKCE
//! challenge, comes back to a listener on 127.0.0.1 with a code, and the code is
//! redeemed with the verifier under a fresh DPoP key ([`SigninClient::redeem_code`],
//! `grant_type=authorization_code`, never retried: a code is good once).
//!
//! The refresh token is bound to a P-256 key (RFC 9449, DPoP): each attempt carries a
//! `DPoP` header, a JWT signed with that key naming the method and the URL it is sent
//! to, so a stolen refresh token is useless without the key. The key is as secret as
//! the token, and lives with it. aws-config's own login provider reads and writes the
//! token only through a file on disk, which Rolehop does not keep (the token lives in
//! the keychain), so the proof is made here, with aws-lc-rs (rustls' crypto already).

use aws_config::retry::RetryConfig;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use aws_sdk_signin::config::{
    ConfigBag, Intercept, RuntimeComponents, interceptors::BeforeTransmitInterceptorContextMut,
};
use aws_sdk_signin::error::BoxError;
use aws_sdk_signin::types::{CreateOAuth2TokenRequestBody, CreateOAuth2TokenResponseBody};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::credentials::{Credentials, opt_zeroizing_string, zeroizing_string};
use crate::sts::{MAX_ACCESS_KEY_ID_BYTES, MAX_SECRET_ACCESS_KEY_BYTES, MAX_SESSION_TOKEN_BYTES};
use crate::{AwsClient, AwsError};

/// The grant of a refresh.
const REFRESH_TOKEN_GRANT: &str = "refresh_token";
/// The grant of a browser sign-in's code.
const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";
/// The client `aws login` signs in as when the browser runs on the same machine.
pub const SAME_DEVICE_CLIENT: &str = "arn:aws:signin:::devtools/same-device";

/// A console sign-in session's token, as `aws login` writes it to
/// `~/.aws/login/cache/<sha256 of login_session>.json` (the field names are that file's;
/// fields Rolehop does not know are kept as they came).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginToken {
    pub access_token: LoginAccessToken,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(with = "zeroizing_string")]
    pub refresh_token: Zeroizing<String>,
    #[serde(
        default,
        with = "opt_zeroizing_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id_token: Option<Zeroizing<String>>,
    pub client_id: String,
    /// The DPoP key, a PEM `EC PRIVATE KEY` (SEC1) on P-256.
    #[serde(with = "zeroizing_string")]
    pub dpop_key: Zeroizing<String>,
    /// The region the person signed in through (newer tokens carry it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_region: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// The temporary credentials a [`LoginToken`] holds.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginAccessToken {
    pub access_key_id: String,
    #[serde(with = "zeroizing_string")]
    pub secret_access_key: Zeroizing<String>,
    #[serde(with = "zeroizing_string")]
    pub session_token: Zeroizing<String>,
    pub account_id: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for LoginToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginToken")
            .field("access_key_id", &self.access_token.access_key_id)
            .field("account_id", &self.access_token.account_id)
            .field("expires_at", &self.access_token.expires_at)
            .field("client_id", &self.client_id)
            .field("secrets", &"<redacted>")
            .finish()
    }
}

impl LoginToken {
    /// The token in the cache file's JSON. Holds secrets: for the keychain only.
    pub fn to_json(&self) -> Zeroizing<String> {
        Zeroizing::new(serde_json::to_string(self).expect("a token serializes"))
    }

    /// A token from the cache file's JSON; the error names the field, never a value.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let token: Self = serde_json::from_str(text).map_err(|e| {
            // serde's messages quote field names and types, not values, for a struct.
            format!("not an `aws login` token ({})", e.classify_name())
        })?;
        signing_key(&token.dpop_key).map_err(|e| e.message)?;
        Ok(token)
    }

    /// The credentials it holds now.
    pub fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.access_token.access_key_id.clone(),
            secret_access_key: self.access_token.secret_access_key.clone(),
            session_token: Some(self.access_token.session_token.clone()),
            expiration: Some(self.access_token.expires_at),
        }
    }
}

trait ClassifyName {
    fn classify_name(&self) -> String;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> String {
        match self.classify() {
            serde_json::error::Category::Data => {
                let text = self.to_string();
                // "missing field `refreshToken` at line 1 column 9": keep the field.
                match text.find('`').zip(text.rfind('`')) {
                    Some((a, b)) if b > a => format!("field {}", &text[a..=b]),
                    _ => "a field of the wrong type".into(),
                }
            }
            _ => "not JSON".into(),
        }
    }
}

/// The `signin` service's client.
#[derive(Debug, Clone, Default)]
pub struct SigninClient {
    client: AwsClient<aws_sdk_signin::Client>,
}

impl SigninClient {
    /// A client whose endpoint is `setting`, else the environment's, else AWS's.
    pub fn new(setting: Option<&str>) -> Self {
        Self {
            client: AwsClient::new(setting),
        }
    }

    /// The service's `/v1/authorize` for the person's browser, as the AWS CLI builds it:
    /// the same-device client, `scope=openid`, the redirect to Rolehop's listener, the
    /// login's `state`, and the S256 challenge (base64url, no `=`), which the service
    /// names `SHA-256`. The base is this client's endpoint (`AWS_ENDPOINT_URL_SIGNIN`),
    /// else AWS's for `region` in the SDK's endpoint rules.
    pub async fn authorize_url(
        &self,
        region: &str,
        redirect_uri: &str,
        state: &str,
        code_challenge: &str,
    ) -> Result<String, AwsError> {
        let base = match self.client.endpoint().await? {
            Some(url) => url,
            None => format!("https://{region}.signin.aws.amazon.com"),
        };
        let mut url = url::Url::parse(&base)
            .map_err(|e| AwsError::invalid_response(format!("the signin endpoint: {e}")))?;
        url.set_path(&format!(
            "{}/v1/authorize",
            url.path().trim_end_matches('/')
        ));
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", SAME_DEVICE_CLIENT)
            .append_pair("state", state)
            .append_pair("code_challenge_method", "SHA-256")
            .append_pair("scope", "openid")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_challenge", code_challenge);
        Ok(url.into())
    }

    /// `CreateOAuth2Token` with a browser sign-in's `code`, its PKCE `verifier` and the
    /// `redirect_uri` it came to, proven with a fresh DPoP key: the new session's token
    /// (the key in it) and its ARN, read from the ID token's `sub` as the AWS CLI reads
    /// it. Never retried: a code is good once.
    pub async fn redeem_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
        region: &str,
        now: DateTime<Utc>,
    ) -> Result<(LoginToken, String), AwsError> {
        let (key, pem) = new_dpop_key()?;
        let key = std::sync::Arc::new(key);
        let body = CreateOAuth2TokenRequestBody::builder()
            .client_id(SAME_DEVICE_CLIENT)
            .grant_type(AUTHORIZATION_CODE_GRANT)
            .code(code)
            .code_verifier(verifier)
            .redirect_uri(redirect_uri)
            .build()
            .map_err(|e| AwsError::invalid_response(format!("CreateOAuth2Token request: {e}")))?;
        let out = self
            .client
            .call("CreateOAuth2Token", Some(region), None, |signin, call| {
                signin
                    .create_o_auth2_token()
                    .token_input(body)
                    .customize()
                    .config_override(
                        call.retry_config(RetryConfig::disabled())
                            .interceptor(DpopProof(key)),
                    )
                    .send()
            })
            .await?;
        let output = out
            .token_output()
            .ok_or_else(|| AwsError::invalid_response("CreateOAuth2Token returned no token"))?;
        let id_token = output
            .id_token()
            .filter(|t| !t.is_empty() && t.len() <= MAX_SESSION_TOKEN_BYTES)
            .ok_or_else(|| AwsError::invalid_response("CreateOAuth2Token returned no idToken"))?;
        let session = session_of(id_token)?;
        let account_id = session
            .split(':')
            .nth(4)
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                AwsError::invalid_response("the idToken's subject is not an ARN with an account")
            })?
            .to_owned();
        let (access_token, refresh_token) = answered(output, account_id, now)?;
        let token = LoginToken {
            access_token,
            token_type: Some(output.token_type().to_owned()).filter(|t| !t.is_empty()),
            refresh_token,
            id_token: Some(Zeroizing::new(id_token.to_owned())),
            client_id: SAME_DEVICE_CLIENT.to_owned(),
            dpop_key: pem,
            sign_in_region: Some(region.to_owned()),
            other: serde_json::Map::new(),
        };
        Ok((token, session))
    }

    /// `CreateOAuth2Token` with the token's refresh token and a DPoP proof of its key:
    /// the token with new credentials and the new refresh token (AWS rotates them).
    /// `region` is the session's, used when the token names no sign-in region.
    pub async fn refresh(
        &self,
        token: &LoginToken,
        region: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<LoginToken, AwsError> {
        let key = std::sync::Arc::new(signing_key(&token.dpop_key)?);
        let region = token.sign_in_region.as_deref().or(region);
        let body = CreateOAuth2TokenRequestBody::builder()
            .client_id(&token.client_id)
            .grant_type(REFRESH_TOKEN_GRANT)
            .refresh_token(token.refresh_token.as_str())
            .build()
            .map_err(|e| AwsError::invalid_response(format!("CreateOAuth2Token request: {e}")))?;
        let out = self
            .client
            .call("CreateOAuth2Token", region, None, |signin, call| {
                signin
                    .create_o_auth2_token()
                    .token_input(body)
                    .customize()
                    .config_override(call.interceptor(DpopProof(key)))
                    .send()
            })
            .await?;
        let output = out
            .token_output()
            .ok_or_else(|| AwsError::invalid_response("CreateOAuth2Token returned no token"))?;
        let mut refreshed = token.clone();
        let account_id = token.access_token.account_id.clone();
        (refreshed.access_token, refreshed.refresh_token) = answered(output, account_id, now)?;
        Ok(refreshed)
    }
}

/// The credentials and refresh token of a `CreateOAuth2Token` answer, each checked
/// (present, not oversized, not already expired).
fn answered(
    output: &CreateOAuth2TokenResponseBody,
    account_id: String,
    now: DateTime<Utc>,
) -> Result<(LoginAccessToken, Zeroizing<String>), AwsError> {
    let access = output
        .access_token()
        .ok_or_else(|| AwsError::invalid_response("CreateOAuth2Token returned no credentials"))?;
    let fields = [
        (
            "accessKeyId",
            access.access_key_id(),
            MAX_ACCESS_KEY_ID_BYTES,
        ),
        (
            "secretAccessKey",
            access.secret_access_key(),
            MAX_SECRET_ACCESS_KEY_BYTES,
        ),
        (
            "sessionToken",
            access.session_token(),
            MAX_SESSION_TOKEN_BYTES,
        ),
        (
            "refreshToken",
            output.refresh_token(),
            MAX_SESSION_TOKEN_BYTES,
        ),
    ];
    for (name, value, max) in fields {
        if value.is_empty() || value.len() > max {
            return Err(AwsError::invalid_response(format!(
                "CreateOAuth2Token returned an empty or oversized {name}"
            )));
        }
    }
    if output.expires_in() <= 0 {
        return Err(AwsError::invalid_response(
            "CreateOAuth2Token returned credentials that have already expired",
        ));
    }
    let access_token = LoginAccessToken {
        access_key_id: access.access_key_id().to_owned(),
        secret_access_key: Zeroizing::new(access.secret_access_key().to_owned()),
        session_token: Zeroizing::new(access.session_token().to_owned()),
        account_id,
        // Whole seconds, as the AWS CLI writes it.
        expires_at: DateTime::from_timestamp(now.timestamp() + i64::from(output.expires_in()), 0)
            .ok_or_else(|| {
            AwsError::invalid_response("CreateOAuth2Token: expiresIn out of range")
        })?,
    };
    Ok((
        access_token,
        Zeroizing::new(output.refresh_token().to_owned()),
    ))
}

/// The console session's ARN: the `sub` of the ID token's payload (the AWS CLI reads it
/// so, without checking the signature: it came over TLS from the service).
fn session_of(id_token: &str) -> Result<String, AwsError> {
    let bad = || {
        AwsError::invalid_response(
            "CreateOAuth2Token returned an idToken that is not a JWT with a subject",
        )
    };
    let payload = id_token.split('.').nth(1).ok_or_else(bad)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| bad())?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let sub = claims["sub"].as_str().ok_or_else(bad)?;
    if !sub.starts_with("arn:") || sub.len() > 2048 || sub.chars().any(char::is_control) {
        return Err(bad());
    }
    Ok(sub.to_owned())
}

/// A fresh DPoP key and its PEM (`EC PRIVATE KEY`, SEC1, 64-character lines), as the
/// AWS CLI writes a new session's `dpopKey`.
pub fn new_dpop_key() -> Result<(EcdsaKeyPair, Zeroizing<String>), AwsError> {
    let no_key = || AwsError::invalid_response("could not make a DPoP key");
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|_| no_key())?;
    let der = key.private_key().as_der().map_err(|_| no_key())?;
    let body = Zeroizing::new(STANDARD.encode(der.as_ref()));
    let mut pem = Zeroizing::new(String::from("-----BEGIN EC PRIVATE KEY-----\n"));
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).map_err(|_| no_key())?);
        pem.push('\n');
    }
    pem.push_str("-----END EC PRIVATE KEY-----\n");
    Ok((key, pem))
}

/// The DPoP key from its PEM; the error says what is wrong, never the key.
fn signing_key(pem: &str) -> Result<EcdsaKeyPair, AwsError> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    let der = Zeroizing::new(STANDARD.decode(body).map_err(|_| {
        AwsError::invalid_response("the console session's DPoP key is not PEM (dpopKey)")
    })?);
    EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).map_err(|_| {
        AwsError::invalid_response("the console session's DPoP key is not a P-256 key (dpopKey)")
    })
}

/// A DPoP proof (RFC 9449 §4.2) for a POST to `htu`: a JWT whose header carries the
/// public key and whose payload names the method, the URL, the time and a fresh id.
pub fn dpop_proof(key: &EcdsaKeyPair, htu: &str, now: DateTime<Utc>) -> Result<String, AwsError> {
    let point = key.public_key().as_ref();
    // An uncompressed point: 0x04, then x and y of 32 bytes each.
    if point.len() != 65 {
        return Err(AwsError::invalid_response("unexpected DPoP public key"));
    }
    let header = serde_json::json!({
        "typ": "dpop+jwt",
        "alg": "ES256",
        "jwk": {
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        },
    });
    let mut jti = [0u8; 16];
    aws_lc_rs::rand::fill(&mut jti).map_err(|_| AwsError::invalid_response("no randomness"))?;
    let payload = serde_json::json!({
        "htm": "POST",
        "htu": htu,
        "iat": now.timestamp(),
        "jti": URL_SAFE_NO_PAD.encode(jti),
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let signature = key
        .sign(&SystemRandom::new(), signing_input.as_bytes())
        .map_err(|_| AwsError::invalid_response("could not sign the DPoP proof"))?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    ))
}

/// Adds the `DPoP` header to each attempt, made for the URL that attempt goes to
/// (after the endpoint is resolved), with a fresh `jti`.
#[derive(Debug)]
struct DpopProof(std::sync::Arc<EcdsaKeyPair>);

impl Intercept for DpopProof {
    fn name(&self) -> &'static str {
        "DpopProof"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let uri = request.uri().to_owned();
        // RFC 9449 §4.2: the URI without query and fragment.
        let htu = uri.split(['?', '#']).next().unwrap_or(&uri).to_owned();
        let proof = dpop_proof(&self.0, &htu, Utc::now()).map_err(|e| e.message)?;
        request.headers_mut().insert("DPoP", proof);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-256 key made for this test (openssl ecparam -name prime256v1 -genkey).
    const KEY: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIDbEPvBK0B8AZQqrlgYXGUue5dGtNiF2ex6nnPGcFauLoAoGCCqGSM49
AwEHoUQDQgAEHYR8/twvRgf97L5BocvXwzp3pIurDjJl+4Nr0vgtYiU7FgP3kJoh
2pmW5Ub7NT1sQVV82KZnwZQ13vIRsgWL7A==
-----END EC PRIVATE KEY-----
";

    #[test]
    fn a_dpop_proof_verifies_with_the_key_its_header_names() {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        let key = signing_key(KEY).unwrap();
        let proof = dpop_proof(&key, "https://signin.example/v1/token", Utc::now()).unwrap();
        let parts: Vec<&str> = proof.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(payload["htu"], "https://signin.example/v1/token");
        assert_eq!(payload["htm"], "POST");
        let mut point = vec![4u8];
        for c in ["x", "y"] {
            point.extend(
                URL_SAFE_NO_PAD
                    .decode(header["jwk"][c].as_str().unwrap())
                    .unwrap(),
            );
        }
        let signed = format!("{}.{}", parts[0], parts[1]);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(signed.as_bytes(), &signature)
            .expect("the proof's signature verifies");
    }

    #[test]
    fn part2_a_new_dpop_key_is_a_sec1_pem_in_64_character_lines_that_reads_back_as_the_same_key() {
        let (key, pem) = new_dpop_key().unwrap();
        assert!(
            pem.starts_with("-----BEGIN EC PRIVATE KEY-----\n"),
            "{}",
            *pem
        );
        assert!(pem.ends_with("\n-----END EC PRIVATE KEY-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        let again = signing_key(&pem).unwrap();
        assert_eq!(key.public_key().as_ref(), again.public_key().as_ref());
        assert_ne!(
            new_dpop_key().unwrap().0.public_key().as_ref(),
            key.public_key().as_ref()
        );
    }

    #[test]
    fn part2_the_session_is_the_id_tokens_subject_and_anything_else_is_refused() {
        let jwt = |claims: &str| format!("eyJhbGciOiJub25lIn0.{}.", URL_SAFE_NO_PAD.encode(claims));
        assert_eq!(
            session_of(&jwt(r#"{"sub":"arn:aws:iam::123456789012:user/alice"}"#)).unwrap(),
            "arn:aws:iam::123456789012:user/alice"
        );
        for bad in [
            jwt(r#"{"name":"alice"}"#),
            jwt(r#"{"sub":"alice"}"#),
            jwt("{\"sub\":\"arn:aws:iam::1:user/a\\u001b[2J\"}"),
            "not a jwt".to_owned(),
        ] {
            let e = session_of(&bad).unwrap_err();
            assert!(e.message.contains("idToken"), "{}", e.message);
        }
    }

    #[test]
    fn a_token_without_its_key_is_refused_naming_the_field() {
        let text = r#"{"accessToken":{"accessKeyId":"ASIA","secretAccessKey":"s","sessionToken":"t","accountId":"123456789012","expiresAt":"2026-01-01T00:00:00Z"},"refreshToken":"r","clientId":"c","dpopKey":"nope"}"#;
        let err = LoginToken::from_json(text).unwrap_err();
        assert!(err.contains("dpopKey"), "{err}");
        let missing = text.replace(r#","refreshToken":"r""#, "");
        let err = LoginToken::from_json(&missing).unwrap_err();
        assert!(err.contains("refreshToken"), "{err}");
        assert!(!err.contains("ASIA"), "{err}");
    }
}
